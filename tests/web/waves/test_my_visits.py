"""The shopper's screens: My visits, accepting and declining, the briefing, the
shopboard and claiming, the calendar feed. The demo's waves are checked with today's
demo (tests/web/demo/test_demo_today.py)."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from itsdangerous import URLSafeSerializer

from auditapp.extensions import db
from auditapp.models import utcnow
from auditapp.models.waves import ACCEPTED, ASSIGNED, PLANNED, Visit
from auditapp.services.core import calendar
from auditapp.services.waves import assignments
from auditapp.services.waves.scheduling import shopboard
from tests.conftest import count_queries, csrf_token, login, page_text
from tests.web.access.my_visits import make_visit, make_wave

HOME = (Decimal("31.230400"), Decimal("121.473700"))


def _day(days: int, hour: int = 2) -> datetime:
    """A moment `days` from now at `hour`:00 UTC (10:00 in Shanghai)."""
    return (utcnow() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def world(make_client, make_region, make_store, make_shopper, make_user):
    client = make_client("SHOP", name="Shop brand")
    region = make_region(client, "R1")

    def store(code, name, lat, **kw):
        return make_store(client, region, code, name=name, latitude=Decimal(lat), **kw)

    near = store("NEAR", "Near, Store; One", "31.240000", address="Road 1, Huangpu")
    mid = store("MID", "Middle store", "31.300000", address="Road 2")
    far = store("FAR", "Far store", "31.800000", address="Road 3")  # about 63 km away
    ann = make_shopper(
        "ann@example.com", name="Ann", home_latitude=HOME[0], home_longitude=HOME[1],
        certification_level=2,
    )  # fmt: skip
    bob = make_shopper("bob@example.com", name="Bob", home_latitude=HOME[0], home_longitude=HOME[1])
    coordinator = make_user("coord@example.com", "coordinator", clients=[client])
    wave = make_wave(
        client, [near, mid, far], claim_limit=2, fee=Decimal("80"), expense_cap=Decimal("30"),
        scenario="Buy bread, ask for help.", purchase="One loaf", questions_to_ask="Fresh today?",
    )  # fmt: skip
    world = SimpleNamespace(
        client=client, near=near, mid=mid, far=far, ann=ann, bob=bob, wave=wave,
        coordinator=coordinator,
    )  # fmt: skip
    db.session.commit()  # a refused request's rollback must not undo the set-up
    return world


def _post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def _reload(visit: Visit) -> Visit:
    db.session.expire_all()
    found = db.session.get(Visit, visit.id)
    assert found is not None
    return found


# --- My visits, accept, decline, briefing -----------------------------------------------


def test_my_visits_shows_upcoming_first_then_past(client, world):
    upcoming = make_visit(world.wave, world.near, _day(3), shopper=world.ann, status=ACCEPTED)
    past = make_visit(world.wave, world.mid, _day(-5), shopper=world.ann, status="submitted")
    make_visit(world.wave, world.far, _day(4), shopper=world.bob)  # not Ann's
    db.session.commit()
    page = login(client, world.ann.user).get("/my/")
    assert page.status_code == 200
    text = page.text
    assert text.index("Near, Store; One") < text.index("Middle store")
    assert "Far store" not in text
    assert "10:00" in text  # 02:00 UTC shown in the store's time zone (Asia/Shanghai)
    assert "https://uri.amap.com/marker?" in text
    assert f"/my/visits/{upcoming.id}" in text and f"/my/visits/{past.id}" in text
    assert re.search(r'value="http://auditapp\.test/my/calendar/[^"]+\.ics"', text)


def test_shopper_accepts_an_assigned_visit(client, world):
    visit = make_visit(world.wave, world.near, _day(3))
    assignments.assign(visit, world.ann, world.coordinator)
    db.session.commit()
    login(client, world.ann.user)
    assert "Waiting for your answer" in client.get("/my/").text
    response = _post(client, f"/my/visits/{visit.id}/accept")
    assert response.status_code == 302 and response.location.endswith("/my/")
    visit = _reload(visit)
    assert visit.status == ACCEPTED and visit.accepted_at is not None
    trail = [(e.from_status, e.to_status, e.actor_id) for e in visit.events]
    assert trail[-2:] == [
        (PLANNED, ASSIGNED, world.coordinator.id),
        (ASSIGNED, ACCEPTED, world.ann.user.id),
    ]


def test_shopper_declines_with_a_reason_and_the_visit_reopens(client, world):
    visit = make_visit(world.wave, world.near, _day(3))
    assignments.assign(visit, world.ann, world.coordinator)
    db.session.commit()
    login(client, world.ann.user)
    response = _post(client, f"/my/visits/{visit.id}/decline", reason="  Exams that week ")
    assert response.status_code == 302
    visit = _reload(visit)
    assert (visit.status, visit.shopper_id, visit.assigned_at) == (PLANNED, None, None)
    last = visit.events[-1]
    assert (last.from_status, last.to_status, last.note) == (ASSIGNED, PLANNED, "Exams that week")
    assert last.actor_id == world.ann.user.id
    assert "Near, Store; One" not in client.get("/my/").text


def test_accepting_twice_is_refused_clearly(client, world):
    visit = make_visit(world.wave, world.near, _day(3), shopper=world.ann, status=ACCEPTED)
    db.session.commit()
    login(client, world.ann.user)
    page = client.post(
        f"/my/visits/{visit.id}/accept",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=True,
    )
    assert "This visit is not waiting for your answer." in page.text


def test_briefing_shows_the_wave_instructions_fee_and_window(client, world):
    visit = make_visit(world.wave, world.near, _day(3), shopper=world.ann, status=ACCEPTED)
    db.session.commit()
    page = login(client, world.ann.user).get(f"/my/visits/{visit.id}")
    assert page.status_code == 200
    for text in ("Buy bread, ask for help.", "One loaf", "Fresh today?", "Road 1, Huangpu"):
        assert text in page.text
    assert "80" in page.text and "30" in page.text and "10:00" in page.text


def test_shopper_cannot_see_accept_or_decline_another_shoppers_visit(client, world):
    visit = make_visit(world.wave, world.near, _day(3), shopper=world.bob)
    db.session.commit()
    login(client, world.ann.user)
    assert client.get(f"/my/visits/{visit.id}").status_code == 404
    assert _post(client, f"/my/visits/{visit.id}/accept").status_code == 404
    assert _post(client, f"/my/visits/{visit.id}/decline").status_code == 404
    visit = _reload(visit)
    assert (visit.shopper_id, visit.status) == (world.bob.id, ASSIGNED)


def test_other_roles_do_not_get_the_shopper_screens(client, world):
    login(client, world.coordinator)
    for url in ("/my/", "/my/find"):
        assert client.get(url).status_code == 404


# --- the shopboard and claiming ----------------------------------------------------------


def test_shopboard_lists_only_eligible_visits_nearest_first(client, world, make_store):
    mid = make_visit(world.wave, world.mid, _day(5))
    near = make_visit(world.wave, world.near, _day(6))
    make_visit(world.wave, world.far, _day(5))  # beyond 30 km
    make_visit(world.wave, world.near, _day(-1, 1))  # already started
    hard = make_wave(world.client, [world.mid], required_level=3, name="Experts only")
    make_visit(hard, world.mid, _day(8))  # Ann is level 2
    conflicted = make_store(
        world.client, world.near.region, "CONF", name="Family store", latitude=Decimal("31.2310")
    )
    world.ann.conflicts = []
    from auditapp.services.org.records import set_conflicts

    set_conflicts(world.ann, [], [conflicted])
    make_visit(world.wave, conflicted, _day(7))  # a conflict of interest
    make_visit(world.wave, world.near, _day(9), shopper=world.bob)  # taken
    db.session.commit()

    assert [v.id for v, _km in shopboard(world.ann)] == [near.id, mid.id]
    page = login(client, world.ann.user).get("/my/find")
    assert page.status_code == 200
    text = page.text
    assert text.index("Near, Store; One") < text.index("Middle store")
    for hidden in ("Far store", "Family store", "Experts only"):
        assert hidden not in text
    assert re.search(r"1\.1 km", text)  # the distance is shown


def test_claiming_from_the_shopboard_puts_the_visit_in_my_visits(client, world):
    visit = make_visit(world.wave, world.near, _day(4))
    db.session.commit()
    login(client, world.ann.user)
    response = _post(client, f"/my/find/{visit.id}/claim")
    assert response.status_code == 302 and response.location.endswith("/my/")
    visit = _reload(visit)
    assert (visit.shopper_id, visit.status) == (world.ann.id, ACCEPTED)
    assert visit.accepted_at is not None
    last = visit.events[-1]
    assert (last.from_status, last.to_status, last.actor_id) == (
        PLANNED,
        ACCEPTED,
        world.ann.user.id,
    )
    page = client.get("/my/")
    assert "Near, Store; One" in page.text and "Accepted" in page.text


def test_claiming_a_visit_someone_else_holds_changes_nothing(client, world):
    visit = make_visit(world.wave, world.near, _day(4), shopper=world.bob, status=ACCEPTED)
    db.session.commit()
    login(client, world.ann.user)
    response = _post(client, f"/my/find/{visit.id}/claim")
    assert response.status_code == 302 and response.location.endswith("/my/find")
    page = client.get("/my/find")
    assert "Someone else has just taken this visit." in page.text
    assert "Bob" not in page_text(page.text) and "bob@example.com" not in page.text
    assert _reload(visit).shopper_id == world.bob.id


def test_a_lost_race_shows_the_message_and_the_list_again(client, world, monkeypatch):
    """The visit was open when the page loaded; the UPDATE finds it taken."""
    visit = make_visit(world.wave, world.near, _day(4))
    make_visit(world.wave, world.mid, _day(6))
    db.session.commit()

    def lost(visit_id, shopper_id, actor, status):
        raise assignments.VisitTaken("Someone else has just taken this visit.")

    monkeypatch.setattr(assignments, "_take", lost)
    login(client, world.ann.user)
    page = client.post(
        f"/my/find/{visit.id}/claim",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=True,
    )
    assert "Someone else has just taken this visit." in page.text
    assert "Middle store" in page.text  # the board again
    assert _reload(visit).status == PLANNED


def test_claim_limit_is_enforced(client, world):
    make_visit(world.wave, world.mid, _day(2), shopper=world.ann, status=ACCEPTED)
    make_visit(world.wave, world.far, _day(3), shopper=world.ann, status=ACCEPTED)
    visit = make_visit(world.wave, world.near, _day(5))
    db.session.commit()
    login(client, world.ann.user)
    page = client.post(
        f"/my/find/{visit.id}/claim",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=True,
    )
    assert "You already hold 2 visits of this wave, the most allowed." in page.text
    assert _reload(visit).status == PLANNED


def test_claiming_a_visit_one_is_not_eligible_for_is_refused_with_the_reason(client, world):
    visit = make_visit(world.wave, world.far, _day(5))
    db.session.commit()
    login(client, world.ann.user)
    page = client.post(
        f"/my/find/{visit.id}/claim",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=True,
    )
    assert "You cannot take this visit" in page.text and "km" in page.text
    assert _reload(visit).status == PLANNED


def test_claiming_an_overlapping_visit_is_refused(client, world):
    make_visit(world.wave, world.mid, _day(5), shopper=world.ann, status=ACCEPTED)
    visit = make_visit(world.wave, world.near, _day(5) + timedelta(minutes=30))
    db.session.commit()
    with pytest.raises(assignments.VisitOverlap):
        assignments.claim(visit, world.ann, [])
    assert _reload(visit).status == PLANNED


def test_a_visit_outside_open_waves_cannot_be_claimed(client, world):
    draft = make_wave(world.client, [world.near], status="draft", name="Not yet")
    visit = make_visit(draft, world.near, _day(4))
    db.session.commit()
    login(client, world.ann.user)
    assert _post(client, f"/my/find/{visit.id}/claim").status_code == 404
    assert _post(client, "/my/find/999999/claim").status_code == 404


def test_shopper_pages_do_not_query_per_visit(app, client, world):
    login(client, world.ann.user)

    def queries(url: str) -> int:
        client.get(url)  # warm: the session, the user
        with count_queries(app) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    make_visit(world.wave, world.mid, _day(3), shopper=world.ann, status=ACCEPTED)
    make_visit(world.wave, world.near, _day(30))
    db.session.commit()
    few = {url: queries(url) for url in ("/my/", "/my/find")}
    for n in range(8):
        make_visit(world.wave, world.mid, _day(10 + n), shopper=world.ann, status=ACCEPTED)
        make_visit(world.wave, world.near, _day(31 + n))
    db.session.commit()
    assert len(shopboard(world.ann)) == 9
    assert {url: queries(url) for url in few} == few


# --- the calendar feed -------------------------------------------------------------------


def _parse_ics(body: str) -> list[tuple[str, str]]:
    """Strict enough for RFC 5545: CRLF only, folded lines ≤ 75 octets, BEGIN/END
    balanced; returns (name, value) pairs of the unfolded content lines."""
    assert body.endswith("\r\n")
    assert "\n" not in body.replace("\r\n", ""), "a bare LF"
    for physical in body.split("\r\n")[:-1]:
        assert len(physical.encode("utf-8")) <= 75, physical
    lines = body.replace("\r\n ", "").split("\r\n")[:-1]
    pairs, stack = [], []
    for line in lines:
        name, _sep, value = line.partition(":")
        assert _sep and re.fullmatch(r"[A-Z-]+", name.split(";")[0]), line
        if name == "BEGIN":
            stack.append(value)
        elif name == "END":
            assert stack.pop() == value
        pairs.append((name, value))
    assert not stack and pairs[0] == ("BEGIN", "VCALENDAR") and pairs[-1] == ("END", "VCALENDAR")
    return pairs


def _events(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    events, current = [], None
    for name, value in pairs:
        if (name, value) == ("BEGIN", "VEVENT"):
            current = {}
        elif (name, value) == ("END", "VEVENT"):
            events.append(current)
            current = None
        elif current is not None:
            current[name] = value
    return events


def test_calendar_feed_is_valid_icalendar_of_booked_visits(client, world):
    accepted = make_visit(world.wave, world.near, _day(3), shopper=world.ann, status=ACCEPTED)
    assigned = make_visit(world.wave, world.mid, _day(6), shopper=world.ann)
    make_visit(world.wave, world.mid, _day(-9), shopper=world.ann, status="submitted")
    make_visit(world.wave, world.far, _day(4), shopper=world.bob, status=ACCEPTED)
    make_visit(world.wave, world.near, _day(8))  # open
    db.session.commit()
    with client.application.test_request_context():
        token = calendar.feed_token(world.ann)

    response = client.get(f"/my/calendar/{token}.ics")  # no session: calendar apps
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    body = response.get_data(as_text=True)
    pairs = _parse_ics(body)
    assert ("VERSION", "2.0") in pairs and any(n == "PRODID" for n, _v in pairs)
    events = {e["UID"]: e for e in _events(pairs)}
    assert set(events) == {
        f"visit-{accepted.id}@auditapp.test",
        f"visit-{assigned.id}@auditapp.test",
    }
    first = events[f"visit-{accepted.id}@auditapp.test"]
    assert first["SUMMARY"] == r"Near\, Store\; One"
    assert first["LOCATION"] == r"Road 1\, Huangpu\, Shanghai"
    assert first["DTSTART"] == accepted.window_start.strftime("%Y%m%dT%H%M%SZ")
    assert first["DTEND"] == accepted.window_end.strftime("%Y%m%dT%H%M%SZ")
    assert first["STATUS"] == "CONFIRMED"
    assert events[f"visit-{assigned.id}@auditapp.test"]["STATUS"] == "TENTATIVE"
    assert first["URL"] == f"http://auditapp.test/my/visits/{accepted.id}"

    # Moving the visit changes its times, not its UID, so the app updates the event.
    accepted.window_start += timedelta(hours=1)
    accepted.window_end += timedelta(hours=1)
    db.session.commit()
    moved = {e["UID"]: e for e in _events(_parse_ics(client.get(f"/my/calendar/{token}.ics").text))}
    assert moved[f"visit-{accepted.id}@auditapp.test"]["DTSTART"].endswith("T030000Z")


def test_calendar_feed_refuses_bad_tokens(client, world):
    with client.application.test_request_context():
        token = calendar.feed_token(world.ann)
    forged = URLSafeSerializer("another-secret", salt="auditapp.calendar-feed").dumps(
        {"shopper": world.ann.id}
    )
    for bad in (token[:-2] + "xx", forged, "nonsense"):
        assert client.get(f"/my/calendar/{bad}.ics").status_code == 404
    world.ann.active = False
    db.session.commit()
    assert client.get(f"/my/calendar/{token}.ics").status_code == 404


def test_folding_never_splits_a_character():
    line = "DESCRIPTION:" + "神秘顾客调查，门店服务；" * 12
    folded = calendar.fold(line)
    pieces = folded.split("\r\n")
    assert len(pieces) > 1
    for piece in pieces:
        assert len(piece.encode("utf-8")) <= 75
        piece.encode("utf-8").decode("utf-8")
    assert folded.replace("\r\n ", "") == line
    assert calendar.escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"
