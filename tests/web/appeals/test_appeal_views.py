"""Store appeals, the pages: the store manager files from a phone (the finding, the
shopper's answer and points, the deadline; errors next to the fields with what was
typed kept), follows the appeal; the coordinator decides from the queue with the
question's own answer field; photos are served to both sides only; the shopper is
named to the agency only. The world is the appeals one (tests/web/worlds/appeals.py)."""

import io
import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from auditapp import media
from auditapp.extensions import db
from auditapp.models import FollowUpFile, utcnow
from auditapp.models.follow_up import APPEAL_PENDING, APPEAL_REJECTED, APPEAL_UPHELD, Appeal
from auditapp.services.appeals import cases as appeals
from auditapp.services.core.pseudonyms import pseudonym
from auditapp.services.visits.evidence import check_photo
from tests.conftest import csrf_token, login, page_text
from tests.web.evidence_images import png_header
from tests.web.worlds.appeals import SHOPPER_NAME, build_world, jpeg


@pytest.fixture
def aw(app, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    world = build_world(app, make_client, make_region, make_store, make_user, make_shopper)
    db.session.commit()  # survives a view's rollback (the test's transaction still ends)
    return world


def as_user(app: Flask, user: Any) -> Any:
    return login(app.test_client(), user)


def new_url(w: Any, key: str = "staff", visit: Any = None) -> str:
    return f"/appeals/new/{(visit or w.poor).id}/{key}"


def file_by_post(app: Flask, w: Any, reason: str = "She was busy with a delivery", **kw: Any):
    client = as_user(app, kw.pop("user", w.sue))
    data = {"csrf_token": csrf_token(client), "reason": reason, **kw}
    return client.post(new_url(w), data=data, content_type="multipart/form-data")


def filed(app: Flask, w: Any, key: str = "staff") -> Appeal:
    with app.test_request_context():
        appeal = appeals.file_appeal(w.poor, w.sue, key, "She was busy with a delivery")
    db.session.commit()
    return appeal


def words(html: str) -> str:
    """The page's text with every run of white space as one space."""
    return " ".join(page_text(html).split())


def store_time(w: Any, moment: Any) -> str:
    return f"{moment.astimezone(ZoneInfo(w.n1.timezone)):%Y-%m-%d %H:%M}"


# --- filing from the phone ---------------------------------------------------------------


def test_the_filing_page_shows_the_finding_the_points_and_the_deadline(app, aw):
    page = as_user(app, aw.sue).get(new_url(aw))
    assert page.status_code == 200
    text = page_text(page.text)
    assert "4. Staff behaviour" in text and "Rude" in text and "0 / 2" in text
    closes = aw.wave.published_at + timedelta(days=14)
    assert f"You can appeal until {store_time(aw, closes)}" in text
    assert "decides within 7 days" in text
    assert re.search(
        r'<input type="file" id="photos" name="photos" accept="image/\*" multiple', page.text
    )
    assert 'enctype="multipart/form-data"' in page.text and 'name="csrf_token"' in page.text
    assert 'name="viewport"' in page.text  # laid out for a phone
    with app.test_request_context():
        assert pseudonym(aw.sam.id, aw.client.id) in text
    assert SHOPPER_NAME not in text


def test_a_store_manager_files_an_appeal_with_photos(app, aw):
    photos = [(io.BytesIO(jpeg()), "door.jpg"), (io.BytesIO(jpeg()), "clock.jpg")]
    response = file_by_post(app, aw, photos=photos)
    assert response.status_code == 302
    appeal = db.session.scalars(select(Appeal)).one()
    assert response.location.endswith(f"/appeals/{appeal.id}")
    assert (appeal.question_key, appeal.status, appeal.answer_before) == (
        "staff",
        "pending",
        "rude",
    )
    files = list(
        db.session.scalars(select(FollowUpFile).where(FollowUpFile.appeal_id == appeal.id))
    )
    assert len(files) == 2
    client = as_user(app, aw.sue)
    page = client.get(f"/appeals/{appeal.id}")
    assert "She was busy with a delivery" in page.text
    for row in files:
        assert f"/appeals/{appeal.id}/photos/{row.id}?thumb=1" in page.text
        for query in ("", "?thumb=1"):
            photo = client.get(f"/appeals/{appeal.id}/photos/{row.id}{query}")
            assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
            assert photo.data.startswith(b"\xff\xd8")
    assert client.get(new_url(aw)).location.endswith(f"/appeals/{appeal.id}")  # filed: shown


def test_a_missing_reason_is_shown_next_to_it(app, aw):
    response = file_by_post(app, aw, reason="   ")
    assert response.status_code == 422
    assert re.search(
        r'<p class="error" id="reason-error">Say why the finding is wrong.</p>', response.text
    )
    assert db.session.scalar(select(func.count()).select_from(Appeal)) == 0


def test_a_bad_photo_keeps_the_reason_as_typed_and_stores_nothing(app, aw):
    typed = "The shopper came at 12:05 <b>during</b> the delivery"
    photos = [(io.BytesIO(jpeg()), "ok.jpg"), (io.BytesIO(b"%PDF-1.4 nope"), "x.pdf")]
    response = file_by_post(app, aw, reason=typed, photos=photos)
    assert response.status_code == 422
    assert 'id="photos-error">Photo 2:' in response.text
    assert (
        "The shopper came at 12:05 &lt;b&gt;during&lt;/b&gt; the delivery</textarea>"
        in response.text
    )
    assert "choose your photos again" in response.text
    assert db.session.scalar(select(func.count()).select_from(Appeal)) == 0
    assert db.session.scalar(select(func.count()).select_from(FollowUpFile)) == 0


def test_appeal_photos_are_all_checked_before_any_is_decoded(app, aw, monkeypatch):
    decoded = []
    process = media.process_image
    monkeypatch.setattr(media, "process_image", lambda data: decoded.append(data) or process(data))
    photos = [(io.BytesIO(jpeg()), f"ok{n}.jpg") for n in range(4)]
    photos.append((io.BytesIO(png_header(7999, 7999)), "huge.png"))
    response = file_by_post(app, aw, photos=photos)
    assert response.status_code == 422
    assert decoded == []
    assert 'id="photos-error">Photo 5: This photo has too many pixels' in response.text
    assert db.session.scalar(select(func.count()).select_from(Appeal)) == 0


def test_a_closed_window_says_so_instead_of_the_form(app, aw):
    aw.wave.published_at = utcnow() - timedelta(days=15)
    aw.poor.approved_at = aw.wave.published_at - timedelta(days=1)
    db.session.commit()
    page = as_user(app, aw.sue).get(new_url(aw))
    assert page.status_code == 200
    assert "The time to appeal this visit has passed." in page.text
    assert 'id="appeal-form"' not in page.text
    assert file_by_post(app, aw).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Appeal)) == 0


def test_a_manager_of_another_store_gets_404(app, aw):
    appeal = filed(app, aw)
    with app.test_request_context():
        photo = appeals.store_photo(check_photo(jpeg(), "a.jpg"), aw.sue, appeal_id=appeal.id)
    db.session.commit()
    for user in (aw.ned, aw.rhea, aw.otto, aw.rita, aw.sam.user):
        client = as_user(app, user)
        for url in (
            new_url(aw),
            f"/appeals/{appeal.id}",
            f"/appeals/{appeal.id}/photos/{photo.id}",
            f"/appeals/{appeal.id}/photos/{photo.id}?thumb=1",
        ):
            assert client.get(url).status_code == 404, (user.email, url)
        listing = client.get("/appeals/")
        assert listing.status_code == 404 or f'data-appeal="{appeal.id}"' not in listing.text
    assert as_user(app, aw.rex).get(f"/appeals/{appeal.id}").status_code == 200  # North's


def test_a_photo_of_another_appeal_is_not_found(app, aw):
    first, second = filed(app, aw), filed(app, aw, "greeted")
    with app.test_request_context():
        photo = appeals.store_photo(check_photo(jpeg(), "a.jpg"), aw.sue, appeal_id=first.id)
    db.session.commit()
    client = as_user(app, aw.sue)
    assert client.get(f"/appeals/{second.id}/photos/{photo.id}").status_code == 404


# --- both sides, the deadline and the decision -------------------------------------------


def test_the_deadline_shows_on_both_sides(app, aw):
    appeal = filed(app, aw)
    due = store_time(aw, appeal.decide_by)
    for user in (aw.sue, aw.cora):
        client = as_user(app, user)
        assert due in page_text(client.get(f"/appeals/{appeal.id}").text)
        assert due in page_text(client.get("/appeals/").text)


def test_the_coordinators_queue_marks_overdue_appeals(app, aw):
    late, soon = filed(app, aw), filed(app, aw, "greeted")
    late.decide_by = utcnow() - timedelta(hours=2)
    db.session.commit()
    page = as_user(app, aw.cora).get("/appeals/")
    rows = re.findall(r'<tr data-appeal="(\d+)"( class="ap-late")?>', page.text)
    assert rows == [(str(late.id), ' class="ap-late"'), (str(soon.id), "")]
    assert "Overdue" in page_text(page.text)
    with app.test_request_context():
        appeals.reject(soon, aw.cora, "No")
    db.session.commit()
    pending = as_user(app, aw.cora).get("/appeals/")
    assert f'data-appeal="{soon.id}"' not in pending.text  # the queue: pending only
    assert f'data-appeal="{soon.id}"' in as_user(app, aw.cora).get("/appeals/?status=all").text


def test_the_managers_list_shows_their_appeals_with_status(app, aw):
    appeal = filed(app, aw)
    page = as_user(app, aw.sue).get("/appeals/")
    assert page.status_code == 200
    assert f'data-appeal="{appeal.id}"' in page.text and "Pending" in page_text(page.text)
    assert "4. Staff behaviour" in page_text(page.text)


def test_the_coordinator_upholds_with_the_answer_field_prefilled(app, aw):
    appeal = filed(app, aw)
    client = as_user(app, aw.cora)
    page = client.get(f"/appeals/{appeal.id}")
    checked = r'<input[^>]*checked[^>]*value="rude"|<input[^>]*value="rude"[^>]*checked'
    assert re.search(checked, page.text)
    assert 'value="uphold"' in page.text and 'value="reject"' in page.text
    assert SHOPPER_NAME in page_text(page.text)  # the agency sees the name
    data = {"csrf_token": csrf_token(client), "decision": "uphold", "q_staff": "warm",
            "note": "The receipt shows a greeting."}  # fmt: skip
    response = client.post(f"/appeals/{appeal.id}/decide", data=data)
    assert response.status_code == 302
    db.session.refresh(appeal)
    assert appeal.status == APPEAL_UPHELD and appeal.answer_after == "warm"
    shown = words(as_user(app, aw.sue).get(f"/appeals/{appeal.id}").text)
    assert "Upheld" in shown and "33.3 → 73.3" in shown and "Changed to: Warm" in shown
    assert "The receipt shows a greeting." in shown and "Cora Coordinator" not in shown


def test_a_refused_decision_keeps_what_was_typed(app, aw):
    appeal = filed(app, aw)
    client = as_user(app, aw.cora)
    data = {"csrf_token": csrf_token(client), "decision": "uphold", "q_staff": "warm", "note": ""}
    response = client.post(f"/appeals/{appeal.id}/decide", data=data)
    assert response.status_code == 422
    assert 'id="note-error">Explain the decision to the store.</p>' in response.text
    assert re.search(r'<input[^>]*checked[^>]*value="warm"|<input[^>]*value="warm"[^>]*checked',
                     response.text)  # fmt: skip
    data = {**data, "q_staff": "rude", "note": "Keep <it>"}
    response = client.post(f"/appeals/{appeal.id}/decide", data=data)
    assert (
        response.status_code == 422 and 'id="value-error">The answer is unchanged' in response.text
    )
    assert "Keep &lt;it&gt;</textarea>" in response.text
    db.session.refresh(appeal)
    assert appeal.status == APPEAL_PENDING


def test_the_coordinator_rejects_and_the_store_reads_why(app, aw):
    appeal = filed(app, aw)
    client = as_user(app, aw.cora)
    data = {"csrf_token": csrf_token(client), "decision": "reject", "note": "The notes are clear."}
    assert client.post(f"/appeals/{appeal.id}/decide", data=data).status_code == 302
    db.session.refresh(appeal)
    assert appeal.status == APPEAL_REJECTED
    shown = words(as_user(app, aw.sue).get(f"/appeals/{appeal.id}").text)
    assert "Decision: Rejected" in shown and "The notes are clear." in shown
    again = client.post(f"/appeals/{appeal.id}/decide", data={**data, "decision": "uphold"})
    assert again.status_code == 302
    assert "already decided" in client.get(again.location).text


@pytest.mark.parametrize("who", ["sue", "rex", "rita", "otto"])
def test_only_the_agency_decides(app, aw, who):
    appeal = filed(app, aw)
    client = as_user(app, getattr(aw, who))
    data = {"csrf_token": csrf_token(client), "decision": "reject", "note": "No"}
    assert client.post(f"/appeals/{appeal.id}/decide", data=data).status_code == 404
    db.session.refresh(appeal)
    assert appeal.status == APPEAL_PENDING


def test_the_shopper_is_never_named_to_the_clients_people(app, aw):
    appeal = filed(app, aw)
    for user in (aw.sue, aw.rex):
        client = as_user(app, user)
        for url in (new_url(aw, "greeted"), f"/appeals/{appeal.id}", "/appeals/",
                    "/appeals/?status=all", "/appeals/rates"):  # fmt: skip
            page = client.get(url)
            assert page.status_code == 200, url
            assert SHOPPER_NAME not in page.text and "sam.appeal" not in page.text, url


# --- appeal rates ------------------------------------------------------------------------


def test_the_rates_page_names_shoppers_to_the_agency_only(app, aw):
    filed(app, aw)
    agency = as_user(app, aw.cora).get("/appeals/rates")
    assert agency.status_code == 200
    assert 'id="store-rates"' in agency.text and 'id="shopper-rates"' in agency.text
    assert SHOPPER_NAME in agency.text
    store_row = re.search(r"North one.*?</tr>", agency.text, re.S)
    assert store_row and "50.0%" in store_row.group(0)  # 1 appeal over 2 visits
    manager = as_user(app, aw.sue).get("/appeals/rates")
    assert 'id="store-rates"' in manager.text and 'id="shopper-rates"' not in manager.text
    assert "North two" not in manager.text
    other = as_user(app, aw.otto).get(f"/appeals/rates?client={aw.client.id}")
    assert other.status_code == 404


def test_the_store_page_offers_the_manager_an_appeal_of_each_lost_point(app, aw):
    url = f"/reports/stores/{aw.n1.id}?wave={aw.wave.id}"
    page = as_user(app, aw.sue).get(url)
    assert page.status_code == 200
    links = set(re.findall(r'href="(/appeals/new/\d+/\w+)"', page.text))
    # The poor visit lost points on greeted, wait_s and staff; the good one on nothing.
    assert links == {new_url(aw, key) for key in ("greeted", "wait_s", "staff")}
    assert "/appeals/new/" not in as_user(app, aw.cora).get(url).text
