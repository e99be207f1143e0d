"""Publishing a wave's results to the client: the wave page's controls (publish now,
schedule in the stores' time zone, cancel), the scheduled run that publishes due waves
once, and the gate itself: the client's regional and store managers read a wave only
once it is published (reports, PDFs, the batch, exports, period figures, trends), while
the agency reads approved results at once.

The world is the review tests' (client REVW: North ── N1, North area ── NA1; South ──
S1; 10-point pooled checklist), with a published Winter wave before the unpublished
Spring one (one test adds a published Autumn wave before Winter):

    store   Winter (published)   Spring (not yet)
    N1      100                  80
    NA1     45                   80

North over both: N1 90, NA1 62.5 -> 76.25 (shown 76.3); Winter alone: 72.5.
"""

import re
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from auditapp.extensions import db
from auditapp.models import utcnow
from auditapp.services.follow_up import publishing
from auditapp.services.reporting import rows as report_rows
from auditapp.services.scorecards import pdfs as scorecards
from tests.conftest import csrf_token, login, page_text
from tests.web.worlds.reading import rows
from tests.web.worlds.review import BEST, GOOD, MID, _wave, approved, build_world

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def w(app: Flask, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    w = build_world(app, make_client, make_region, make_store, make_user, make_shopper)
    w.winter = _wave(w.client, w.version, "Winter wave", [w.store_north, w.store_area])
    w.winter.starts_on -= timedelta(days=90)
    w.winter.ends_on = w.wave.starts_on - timedelta(days=1)
    w.wave.previous_wave = w.winter
    w.coordinator.name = "Cora Coordinator"
    w.rm_north = make_user("rm.pub@example.com", "regional_manager", client=w.client,
                           regions=[w.north], can_export=True)  # fmt: skip
    w.store_manager = make_user("sm.pub@example.com", "store_manager", client=w.client,
                                stores=[w.store_area], can_export=True)  # fmt: skip
    w.coordinator.can_export = True
    db.session.commit()
    for store, fields, wave in [
        (w.store_north, BEST, w.winter), (w.store_area, GOOD, w.winter),
        (w.store_north, MID, w.wave), (w.store_area, MID, w.wave),
    ]:  # fmt: skip
        approved(w, store, fields, wave)
    w.winter.published_at = utcnow() - timedelta(days=1)
    db.session.commit()
    return w


def post(client: Any, url: str, data: dict[str, str] | None = None) -> Any:
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})})


def wave_page(w: Any, wave: Any = None) -> str:
    return f"/waves/{(wave or w.wave).id}"


def flashes(html: str) -> str:
    return " ".join(re.findall(r'<p class="flash[^"]*"[^>]*>([^<]*)</p>', html))


def field_error(html: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    return match.group(1) if match else None


def state(html: str) -> str:
    found = re.search(r'<p id="publication-state">.*?</p>', html, re.S)
    assert found, "no publication state on the wave page"
    return " ".join(page_text(found.group(0)).split())


def region_score(html: str) -> str:
    found = re.search(r'id="region-score".*?</li>', html, re.S)
    assert found, "no region score on the page"
    return " ".join(page_text(found.group(0)).split())


def words(html: str) -> str:
    return " ".join(page_text(html).split())


def get(client: Any, url: str) -> Any:
    """Buffered, so the response (and an XLSX's temporary file) is closed at once."""
    return client.get(url, buffered=True)


def reload(wave: Any) -> Any:
    db.session.expire(wave)
    return wave


# --- the wave page ----------------------------------------------------------------------


def test_the_wave_page_says_the_results_are_not_published_and_how_many_would_go(client, w):
    html = login(client, w.coordinator).get(wave_page(w)).text
    assert "Not published" in state(html)
    assert "2 approved visits would reach" in page_text(html)
    assert "Asia/Shanghai" in page_text(html)  # the zone of the schedule, named
    assert f'action="/waves/{w.wave.id}/publish"' in html
    assert f'action="/waves/{w.wave.id}/publish/schedule"' in html
    assert "/publish/cancel" not in html  # nothing scheduled to cancel


def test_publish_now_opens_the_wave_to_the_managers(client, w):
    spring = f"/reports/?region={w.north.id}&wave={w.wave.id}"
    assert login(client, w.rm_north).get(spring).status_code == 404
    login(client, w.coordinator)
    response = post(client, f"/waves/{w.wave.id}/publish")
    assert response.status_code == 302 and response.location.endswith(wave_page(w))
    html = client.get(response.location).text
    assert "Results published" in flashes(html) and "2 approved visits" in flashes(html)
    assert "Published" in state(html) and "by Cora Coordinator" in state(html)
    assert "(Asia/Shanghai)" in state(html)
    assert f'action="/waves/{w.wave.id}/publish"' not in html
    wave = reload(w.wave)
    assert wave.published_at is not None and wave.published_by_id == w.coordinator.id
    assert abs(wave.published_at - utcnow()) < timedelta(minutes=5)
    page = login(client, w.rm_north).get(spring)
    assert page.status_code == 200
    assert "80.0" in region_score(page.text)  # Spring: N1 80, NA1 80


def test_a_wave_is_published_only_once(client, w):
    login(client, w.coordinator)
    post(client, f"/waves/{w.wave.id}/publish")
    first = reload(w.wave).published_at
    response = post(client, f"/waves/{w.wave.id}/publish")
    assert response.status_code == 302
    assert "already published" in flashes(client.get(response.location).text)
    assert reload(w.wave).published_at == first


def test_a_schedule_is_read_and_shown_in_the_stores_time_zone(client, w):
    login(client, w.coordinator)
    response = post(
        client,
        f"/waves/{w.wave.id}/publish/schedule",
        {"publish-day": "2031-05-04", "publish-at": "09:30"},
    )
    assert response.status_code == 302
    wave = reload(w.wave)
    assert wave.published_at is None
    assert wave.publish_at == datetime(2031, 5, 4, 9, 30, tzinfo=SHANGHAI)
    assert wave.publish_at.astimezone(UTC).hour == 1  # stored in UTC
    html = client.get(response.location).text
    assert "2031-05-04 09:30 (Asia/Shanghai)" in flashes(html)
    assert "Scheduled" in state(html) and "2031-05-04 09:30 (Asia/Shanghai)" in state(html)
    assert 'value="2031-05-04"' in html and 'value="09:30"' in html  # ready to move
    assert f'action="/waves/{w.wave.id}/publish/cancel"' in html
    assert 'data-publication="scheduled"' in client.get("/waves/").text
    spring = f"/reports/stores/{w.store_area.id}?wave={w.wave.id}"
    assert login(client, w.store_manager).get(spring).status_code == 404


def test_the_zone_is_the_one_most_of_the_waves_stores_share(client, w):
    w.store_north.timezone = w.store_area.timezone = "Europe/Berlin"
    db.session.commit()
    login(client, w.coordinator)
    assert "Europe/Berlin" in page_text(client.get(wave_page(w)).text)
    post(
        client,
        f"/waves/{w.wave.id}/publish/schedule",
        {"publish-day": "2031-01-10", "publish-at": "18:00"},
    )
    assert reload(w.wave).publish_at == datetime(2031, 1, 10, 17, 0, tzinfo=UTC)


def test_a_time_already_past_publishes_at_once(client, w):
    login(client, w.coordinator)
    response = post(
        client,
        f"/waves/{w.wave.id}/publish/schedule",
        {"publish-day": "2020-01-01", "publish-at": "08:00"},
    )
    assert response.status_code == 302
    assert "published now" in flashes(client.get(response.location).text)
    wave = reload(w.wave)
    assert wave.published_at is not None and wave.publish_at is None
    assert wave.published_at > utcnow() - timedelta(minutes=5)


def test_a_bad_schedule_is_refused_next_to_the_field_keeping_what_was_typed(client, w):
    login(client, w.coordinator)
    response = post(
        client,
        f"/waves/{w.wave.id}/publish/schedule",
        {"publish-day": "2031-02-30", "publish-at": "10:15"},
    )
    assert response.status_code == 422
    assert field_error(response.text, "publish-day")
    assert field_error(response.text, "publish-at") is None
    assert 'value="2031-02-30"' in response.text and 'value="10:15"' in response.text
    missing = post(client, f"/waves/{w.wave.id}/publish/schedule", {"publish-day": "2031-03-01"})
    assert missing.status_code == 422
    assert field_error(missing.text, "publish-at")
    assert 'value="2031-03-01"' in missing.text
    wave = reload(w.wave)
    assert wave.publish_at is None and wave.published_at is None


def test_scheduling_a_published_wave_is_refused(client, w):
    login(client, w.coordinator)
    post(client, f"/waves/{w.wave.id}/publish")
    response = post(
        client,
        f"/waves/{w.wave.id}/publish/schedule",
        {"publish-day": "2031-05-04", "publish-at": "09:30"},
    )
    assert response.status_code == 302
    assert "already published" in flashes(client.get(response.location).text)
    assert reload(w.wave).publish_at is None


def test_cancelling_a_schedule_keeps_the_results_with_the_agency(client, w):
    login(client, w.coordinator)
    post(
        client,
        f"/waves/{w.wave.id}/publish/schedule",
        {"publish-day": "2031-05-04", "publish-at": "09:30"},
    )
    response = post(client, f"/waves/{w.wave.id}/publish/cancel")
    assert response.status_code == 302
    html = client.get(response.location).text
    assert "cancelled" in flashes(html)
    assert "Not published" in state(html)
    wave = reload(w.wave)
    assert wave.publish_at is None and wave.published_at is None
    post(client, f"/waves/{w.wave.id}/publish")
    refused = post(client, f"/waves/{w.wave.id}/publish/cancel")
    assert "already published" in flashes(client.get(refused.location).text)
    assert reload(w.wave).published_at is not None


def test_the_waves_list_marks_published_waves(client, w):
    html = login(client, w.coordinator).get("/waves/").text
    assert html.count('data-publication="published"') == 1  # Winter
    assert 'data-publication="scheduled"' not in html


@pytest.mark.parametrize("who", ["reviewer", "rm_north", "store_manager", "outsider_coordinator"])
def test_only_the_clients_coordinators_and_admins_publish(client, w, who):
    login(client, getattr(w, who))
    for url in ("publish", "publish/schedule", "publish/cancel"):
        response = post(client, f"/waves/{w.wave.id}/{url}")
        assert response.status_code == 404, url
    assert reload(w.wave).published_at is None


# --- the scheduled run ----------------------------------------------------------------------


def test_publish_due_publishes_each_scheduled_wave_once(app, w):
    now = utcnow()
    with app.test_request_context():
        assert not publishing.publish_wave(w.wave, w.coordinator, now + timedelta(hours=1))
        assert not publishing.publish_wave(w.wave2, w.admin, now + timedelta(hours=3))
        assert publishing.publish_due(now) == []
        assert publishing.publish_due(now + timedelta(hours=2)) == [w.wave]
        assert w.wave.published_at == now + timedelta(hours=2) and w.wave.publish_at is None
        assert w.wave.published_by_id == w.coordinator.id  # who scheduled it
        assert w.wave2.published_at is None
        assert publishing.publish_due(now + timedelta(hours=2)) == []
        assert publishing.publish_due(now + timedelta(hours=4)) == [w.wave2]  # no approved
        assert publishing.publish_due(now + timedelta(hours=5)) == []
        db.session.commit()
    assert reload(w.wave).published_at == now + timedelta(hours=2)
    assert reload(w.wave2).published_at == now + timedelta(hours=4)


def test_a_cancelled_schedule_is_not_published_when_due(app, w):
    now = utcnow()
    with app.test_request_context():
        publishing.publish_wave(w.wave, w.coordinator, now + timedelta(hours=1))
        publishing.cancel_schedule(w.wave)
        assert publishing.publish_due(now + timedelta(hours=2)) == []
    assert w.wave.published_at is None


# --- the gate -----------------------------------------------------------------------------


def manager_urls(w: Any, wave: Any) -> list[str]:
    return [
        f"/reports/?region={w.north.id}&wave={wave.id}",
        f"/reports/questions?region={w.north.id}&wave={wave.id}",
        f"/reports/stores/{w.store_area.id}?wave={wave.id}",
        f"/reports/stores/{w.store_area.id}/scorecard.pdf?wave={wave.id}",
        f"/reports/regions/{w.north.id}/report.pdf?wave={wave.id}",
        f"/results/export?wave={wave.id}&shape=wide&format=csv",
        f"/results/export?wave={wave.id}&shape=long&format=xlsx",
    ]


def start_batch(client: Any, w: Any, wave: Any) -> Any:
    return post(client, f"/reports/regions/{w.north.id}/scorecards", {"wave": str(wave.id)})


def test_managers_get_404_for_an_unpublished_wave_until_it_is_published(client, w):
    login(client, w.rm_north)
    for url in manager_urls(w, w.wave):
        assert get(client, url).status_code == 404, url
    assert start_batch(client, w, w.wave).status_code == 404
    login(client, w.store_manager)
    for url in manager_urls(w, w.wave)[2:4] + manager_urls(w, w.wave)[5:]:
        assert get(client, url).status_code == 404, url
    login(client, w.coordinator)
    assert post(client, f"/waves/{w.wave.id}/publish").status_code == 302
    login(client, w.rm_north)
    for url in manager_urls(w, w.wave):
        assert get(client, url).status_code == 200, url
    assert start_batch(client, w, w.wave).status_code == 302
    login(client, w.store_manager)
    export = client.get(f"/results/export?wave={w.wave.id}&shape=wide&format=csv")
    assert export.status_code == 200 and "NA1" in export.text and "N1," not in export.text


@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_the_agency_reads_a_wave_before_it_is_published(client, w, who):
    login(client, getattr(w, who))
    for url in manager_urls(w, w.wave):
        assert get(client, url).status_code == 200, url
    assert start_batch(client, w, w.wave).status_code == 302
    page = client.get(f"/reports/?region={w.north.id}&wave={w.wave.id}").text
    assert "80.0" in region_score(page)


def test_a_managers_pickers_and_default_offer_published_waves_only(client, w):
    html = login(client, w.rm_north).get("/reports/").text
    assert re.search(rf'<option value="{w.winter.id}" selected>', html)
    assert "Spring wave" not in html
    assert "72.5" in region_score(html)  # Winter: (100 + 45) / 2
    store = login(client, w.store_manager).get(f"/reports/stores/{w.store_area.id}").text
    assert "Winter wave" in store and "Spring wave" not in store
    assert "45.0" in " ".join(page_text(store).split())
    exports = login(client, w.rm_north).get("/results/exports").text
    assert f'data-wave="{w.winter.id}"' in exports and f'data-wave="{w.wave.id}"' not in exports
    agency = login(client, w.coordinator).get("/reports/").text
    assert re.search(rf'<option value="{w.wave.id}" selected>', agency)


def test_period_reports_count_a_managers_visits_of_published_waves_only(client, w):
    today = utcnow().astimezone(SHANGHAI).date()
    since = (today - timedelta(days=20)).isoformat()
    period = f"/reports/?region={w.north.id}&kind=custom&from={since}&to={today.isoformat()}"
    questions = period.replace("/reports/?", "/reports/questions?")
    manager = login(client, w.rm_north).get(period).text
    assert "72.5" in region_score(manager)  # Winter's visits only
    counts = [
        re.search(r'class="rp-count">(\d+)<', r).group(1) for r in rows(manager, "ranking")[1:]
    ]
    assert counts == ["1", "1"]
    assert "n = 2" in words(client.get(questions).text)  # each question answered twice
    agency = login(client, w.coordinator).get(period).text
    assert "76.3" in region_score(agency)
    login(client, w.coordinator)
    post(client, f"/waves/{w.wave.id}/publish")
    after = login(client, w.rm_north).get(period).text
    assert "76.3" in region_score(after)
    assert "n = 4" in words(client.get(questions).text)


def test_the_trend_and_change_leave_out_unpublished_waves(app, w):
    autumn = _wave(w.client, w.version, "Autumn wave", [w.store_north, w.store_area])
    autumn.starts_on = w.winter.starts_on - timedelta(days=90)
    autumn.ends_on = w.winter.starts_on - timedelta(days=1)
    w.winter.previous_wave = autumn
    db.session.commit()
    approved(w, w.store_north, BEST, autumn)
    approved(w, w.store_area, BEST, autumn)
    autumn.published_at = utcnow()
    w.winter.published_at = None  # Spring published, Winter not (yet), Autumn published
    w.wave.published_at = utcnow()
    db.session.commit()
    with app.test_request_context():
        names = [g.label for g in report_rows.wave_chain(w.wave, user=w.rm_north)]
        assert names == ["Autumn wave", "Spring wave"]
        agency = [g.label for g in report_rows.wave_chain(w.wave, user=w.coordinator)]
        assert agency == ["Autumn wave", "Winter wave", "Spring wave"]
        report = report_rows.region_report(w.north, w.wave, w.rm_north, "en")
        assert [p.label for p in report.trend] == ["Autumn wave", "Spring wave"]
        assert report.change is not None and report.change.delta == -20  # 80 against 100
        seen = report_rows.region_report(w.north, w.wave, w.coordinator, "en")
        assert seen.change is not None and seen.change.delta == Fraction(15, 2)  # vs 72.5
        card = scorecards.store_scorecard(w.store_area, w.wave, w.store_manager, "en")
        assert [p.label for p in card.trend] == ["Autumn wave", "Spring wave"]


def test_the_services_refuse_an_unpublished_wave_to_a_manager(app, w):
    from auditapp.errors import NotFound

    with app.test_request_context():
        with pytest.raises(NotFound):
            report_rows.region_report(w.north, w.wave, w.rm_north, "en")
        with pytest.raises(NotFound):
            scorecards.store_scorecard(w.store_area, w.wave, w.store_manager, "en")

        assert scorecards.region_stores(w.north, w.wave, w.rm_north) == []
        assert scorecards.region_stores(w.north, w.wave, w.coordinator) != []


def test_a_batch_started_before_a_role_change_still_checks_publication(client, w):
    """A batch's wave is checked again when its page or ZIP is opened."""
    login(client, w.coordinator)
    progress = start_batch(client, w, w.wave).location
    assert client.get(progress).status_code == 200
    w.coordinator.role, w.coordinator.client_id = "regional_manager", w.client.id
    w.coordinator.regions = [w.north]
    db.session.commit()
    assert client.get(progress).status_code == 404
