"""The review pages: the queue (filters, flagged rows that cannot be ticked, bulk
approval), the review screen (answers in words, points, evidence, timing, flags),
and the reviewer's POSTs with their refusals shown next to the field, input kept.
Outsiders get 404 on every visit route; finished reviews are read-only."""

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from auditapp.extensions import db
from auditapp.models import Evidence, OutboxMail
from auditapp.models.pay import PayLine
from auditapp.models.review import ReviewEdit, ReviewNote
from auditapp.models.waves import APPROVED, IN_REVIEW, RETURNED, SUBMITTED
from auditapp.services.review import decisions as review
from tests.conftest import count_queries, csrf_token, login, page_text
from tests.web.worlds.review import GOOD, current_answers, post, reload, submitted, url
from tests.web.worlds.review import w as w  # noqa: F401 (a fixture)


def block(page: str, key: str) -> str:
    """The markup of one question on the review screen."""
    start = page.index(f'id="rq-{key}"')
    end = page.find("<article", start)
    return page[start : end if end > 0 else len(page)]


# --- who may ---------------------------------------------------------------------------


def test_outsiders_get_404_on_every_visit_route(client, w, make_user, make_shopper):
    visit = submitted(w, w.store_north)
    regional = make_user("rm.review@example.com", "regional_manager", client=w.client,
                         regions=[w.north])  # fmt: skip
    for outsider in (w.outsider, w.outsider_coordinator, w.ann.user, regional):
        login(client, outsider)
        assert client.get(url(visit)).status_code == 404, outsider.email
        for action in ("start", "release", "approve", "return", "edit"):
            response = post(client, url(visit, action), note="x", question="wait_s",
                            q_wait_s="20", reason="x")  # fmt: skip
            assert response.status_code == 404, (outsider.email, action)
    assert reload(visit).status == SUBMITTED
    assert db.session.scalar(select(func.count()).select_from(ReviewEdit)) == 0


def test_the_queue_is_for_review_roles_only(client, w):
    submitted(w, w.store_north)
    login(client, w.ann.user)
    assert client.get("/review/").status_code == 404
    login(client, w.outsider)
    response = client.get("/review/")
    assert response.status_code == 200 and "North store" not in page_text(response.text)


def test_a_queue_filter_outside_the_users_scope_is_404(client, w):
    login(client, w.reviewer)
    assert client.get(f"/review/?client={w.other.id}").status_code == 404
    assert client.get(f"/review/?wave={w.other_wave.id}").status_code == 404
    assert client.get(f"/review/?client={w.client.id}&wave={w.wave.id}").status_code == 200


# --- the queue -------------------------------------------------------------------------


def test_queue_lists_visits_and_flagged_rows_cannot_be_ticked(client, w):
    clean = submitted(w, w.store_north, hours_ago=60)
    flagged = submitted(w, w.store_south, w.bob, hours_ago=5, flags=("far_check_in",))
    login(client, w.reviewer)
    response = client.get("/review/")
    assert response.status_code == 200
    page = response.text
    assert f'name="visit_id" value="{clean.id}"' in page
    assert f'name="visit_id" value="{flagged.id}"' not in page
    text = page_text(page)
    assert "Checked in far from the store" in text and "cannot be bulk-approved" in text
    assert "Overdue" in text and "Ann Shopper" in text and "Bob Shopper" in text
    assert text.index("North store") < text.index("South store")  # oldest first
    filtered = client.get(f"/review/?flags=clean&region={w.north.id}&min_age=10").text
    assert "North store" in page_text(filtered) and "South store" not in page_text(filtered)


def test_a_visit_whose_only_flag_costs_nothing_can_be_ticked_and_bulk_approved(client, w):
    unlocated = submitted(w, w.store_north, flags=("store_without_location",))
    login(client, w.reviewer)
    page = client.get("/review/").text
    assert f'name="visit_id" value="{unlocated.id}"' in page
    text = page_text(page)
    assert "Distance not checked" in text and "cannot be bulk-approved" not in text
    response = post(client, "/review/approve", visit_id=str(unlocated.id))
    assert response.status_code == 302
    assert reload(unlocated).status == APPROVED


def test_queue_page_makes_the_same_number_of_queries_for_more_rows(app, client, w):
    submitted(w, w.store_north, flags=("far_check_in",))
    login(client, w.reviewer)
    client.get("/review/")
    with count_queries(app) as few:
        client.get("/review/")
    for _n in range(3):
        submitted(w, w.store_south, w.bob, flags=("short_duration",))
        submitted(w, w.store_area)
    with count_queries(app) as many:
        response = client.get("/review/")
    assert response.text.count('data-visit="') == 7
    assert len(many) == len(few)


def test_bulk_approve_approves_ticked_clean_visits_and_explains_refusals(client, w):
    clean = submitted(w, w.store_north)
    flagged = submitted(w, w.store_south, w.bob, flags=("duplicate_photo",))
    foreign = submitted(w, w.store_other)
    login(client, w.reviewer)
    response = client.post(
        "/review/approve",
        data={"csrf_token": csrf_token(client), "visit_id": [str(clean.id), str(flagged.id),
              str(foreign.id)], "next": "/review/?flags=clean"},
    )  # fmt: skip
    assert response.status_code == 302 and response.location.endswith("/review/?flags=clean")
    assert reload(clean).status == APPROVED
    assert reload(flagged).status == SUBMITTED and reload(foreign).status == SUBMITTED
    assert db.session.scalar(select(PayLine.visit_id)) == clean.id
    text = page_text(client.get("/review/").text)
    assert "1 visits approved." in text
    assert f"#{flagged.id}: integrity flags (Photo used before)" in text
    assert f"#{foreign.id}: not found" in text and "Not approved:" in text


def test_bulk_approve_follows_only_a_same_site_next(client, w):
    clean = submitted(w, w.store_north)
    login(client, w.reviewer)
    response = post(client, "/review/approve", visit_id=str(clean.id), next="https://evil.test/")
    assert response.status_code == 302 and response.location.endswith("/review/")


# --- the review screen -----------------------------------------------------------------


def test_review_screen_shows_answers_points_evidence_timing_and_flags(client, w):
    visit = submitted(w, w.store_north, flags=("far_check_in",))
    for n, (kind, key) in enumerate([("photo", "shelf"), ("receipt", None)]):
        db.session.add(
            Evidence(
                visit_id=visit.id,
                kind=kind,
                question_key=key,
                client_upload_id=f"up-{n}",
                sha256="0" * 64,
                content_type="image/jpeg",
                size_bytes=10,
                stored_name=f"s{n}.jpg",
                thumb_name=f"t{n}.jpg",
            )  # fmt: skip
        )
    db.session.commit()
    photo, receipt = db.session.scalars(select(Evidence).order_by(Evidence.id)).all()
    login(client, w.reviewer)
    response = client.get(url(visit))
    assert response.status_code == 200
    page, text = response.text, page_text(response.text)
    staff = page_text(block(page, "staff"))
    assert "Neutral" in staff and "1 / 2 points" in staff
    assert "A bag, A pushy upsell" in page_text(block(page, "extras"))
    assert "0.5 / 1 points" in page_text(block(page, "rating"))
    assert "hidden by an earlier answer" in page_text(block(page, "why"))
    assert f"/evidence/{photo.id}/thumb" in block(page, "shelf")
    assert f'href="/evidence/{photo.id}"' in block(page, "shelf")
    assert f"/evidence/{receipt.id}/thumb" in page
    assert "45.0" in text and "FAIL" in text and "Poor" in text
    assert "100 m from the store" in text and "(accurate to 12 m)" in text
    assert "32 minutes" in text and "Quiet store." in text
    assert "Checked in far from the store" in text and "distance m: 850" in text
    assert "&lt;b&gt;#7&lt;/b&gt;" in page  # the flag's detail is escaped
    assert 'id="approve"' in page and 'id="start"' in page
    assert f'action="/review/visits/{visit.id}/edit"' in block(page, "staff")
    assert "/edit" not in block(page, "shelf")  # photos cannot be edited


def test_review_screen_without_a_shared_location(client, w):
    visit = submitted(w, w.store_north, located=False)
    login(client, w.coordinator)
    assert "location not shared" in page_text(client.get(url(visit)).text)


def test_review_screen_in_chinese_uses_the_checklists_translation(client, w):
    visit = submitted(w, w.store_north, fields={**GOOD, "q_staff": "warm"})
    w.reviewer.locale = "zh_Hans"
    db.session.commit()
    login(client, w.reviewer)
    page = client.get(url(visit)).text
    assert "有人招呼您吗？" in page_text(block(page, "greeted"))
    assert "热情" in page_text(block(page, "staff"))


def test_review_screen_queries_do_not_grow_with_history_edits_or_evidence(app, client, w):
    visit = submitted(w, w.store_north, flags=("far_check_in",))
    submitted(w, w.store_south)  # history
    login(client, w.reviewer)

    def count() -> int:
        client.get(url(visit))
        with count_queries(app) as statements:
            assert client.get(url(visit)).status_code == 200
        return len(statements)

    few = count()
    for n in range(3):
        submitted(w, w.store_south, flags=("short_duration",))
        db.session.add(
            Evidence(
                visit_id=visit.id,
                kind="photo",
                question_key="shelf",
                client_upload_id=f"u{n}",
                sha256="0" * 64,
                content_type="image/jpeg",
                size_bytes=10,
                stored_name=f"s{n}.jpg",
                thumb_name=f"t{n}.jpg",
            )  # fmt: skip
        )
    with app.test_request_context():
        for value in ("20", "30", "200"):
            review.edit_answer(reload(visit), w.coordinator, "wait_s", {"q_wait_s": value}, "x")
    db.session.commit()
    assert count() == few


# --- actions ---------------------------------------------------------------------------


def test_start_and_release_from_the_screen(client, w):
    visit = submitted(w, w.store_north)
    login(client, w.reviewer)
    assert post(client, url(visit, "start")).status_code == 302
    assert reload(visit).status == IN_REVIEW
    assert "In review by Rita Reviewer." in page_text(client.get(url(visit)).text)
    assert post(client, url(visit, "release")).status_code == 302
    assert reload(visit).status == SUBMITTED


def test_edit_from_the_screen_rescores_and_audits(client, w):
    visit = submitted(w, w.store_north)
    login(client, w.reviewer)
    response = post(client, url(visit, "edit"), question="wait_s", q_wait_s="20", reason="CCTV")
    assert response.status_code == 302 and response.location.endswith("#rq-wait_s")
    visit = reload(visit)
    assert visit.score == Decimal("55.0000") and visit.status == IN_REVIEW
    assert current_answers(visit)["wait_s"] == 20
    page = client.get(url(visit)).text
    assert "55.0" in page_text(page) and "Answer changed" in page_text(page)
    trail = page_text(page[page.index('id="edits"') :])
    assert "Seconds until first contact" in trail and "CCTV" in trail and "45.0 → 55.0" in trail


def test_edit_without_a_reason_shows_the_error_next_to_the_question_and_keeps_the_value(client, w):
    visit = submitted(w, w.store_north)
    login(client, w.reviewer)
    response = post(client, url(visit, "edit"), question="staff", q_staff="warm", reason=" ")
    assert response.status_code == 422
    staff = block(response.text, "staff")
    assert "Say why you are changing this answer." in page_text(staff)
    assert re.search(r'<input checked[^>]*value="warm"', staff)  # the typed value kept
    assert '<details class="rv-edit" open>' in staff
    assert "Say why" not in page_text(block(response.text, "wait_s"))
    assert current_answers(reload(visit))["staff"] == "neutral"
    assert reload(visit).status == SUBMITTED


def test_edit_with_a_value_out_of_range_keeps_what_was_typed(client, w):
    visit = submitted(w, w.store_north)
    login(client, w.reviewer)
    response = post(client, url(visit, "edit"), question="wait_s", q_wait_s="900", reason="Typo")
    assert response.status_code == 422
    wait = block(response.text, "wait_s")
    assert "outside the allowed range" in page_text(wait)
    assert 'value="900"' in wait and ">Typo</textarea>" in wait


def test_unchanged_edit_from_the_screen_records_nothing(client, w):
    visit = submitted(w, w.store_north)
    login(client, w.reviewer)
    response = post(client, url(visit, "edit"), question="staff", q_staff="neutral", reason="x")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ReviewEdit)) == 0
    assert "nothing was recorded" in page_text(client.get(url(visit)).text)


def test_return_without_a_note_shows_the_error_and_keeps_the_question_notes(client, w):
    visit = submitted(w, w.store_north)
    login(client, w.reviewer)
    response = post(client, url(visit, "return"), note=" ", note_wait_s="Count from the door")
    assert response.status_code == 422
    form = response.text[response.text.index('id="return-form"') :]
    assert "Tell the shopper what needs to change." in page_text(form)
    assert ">Count from the door</textarea>" in block(response.text, "wait_s")
    assert reload(visit).status == SUBMITTED


def test_return_from_the_screen(client, w):
    visit = submitted(w, w.store_north)
    login(client, w.reviewer)
    response = post(
        client, url(visit, "return"), note="Add the receipt", note_wait_s="Count from the door"
    )
    assert response.status_code == 302 and response.location.endswith("/review/")
    assert reload(visit).status == RETURNED
    notes = db.session.scalars(select(ReviewNote.question_key).order_by(ReviewNote.id)).all()
    assert notes == [None, "wait_s"]
    assert db.session.scalar(select(func.count()).where(OutboxMail.to == w.ann.user.email)) == 1


def test_approve_from_the_screen(client, w):
    visit = submitted(w, w.store_north)
    login(client, w.coordinator)
    response = post(client, url(visit, "approve"))
    assert response.status_code == 302 and response.location.endswith("/review/")
    visit = reload(visit)
    assert visit.status == APPROVED and visit.approved_at is not None
    assert db.session.scalar(select(PayLine.visit_id)) == visit.id


@pytest.mark.parametrize("status", [RETURNED, APPROVED])
def test_a_finished_review_is_read_only(app, client, w, status):
    visit = submitted(w, w.store_north)
    with app.test_request_context():
        if status == RETURNED:
            review.return_visit(visit, w.reviewer, "Please redo", {"staff": "Who served you?"})
        else:
            review.approve(visit, w.reviewer)
        db.session.commit()
    login(client, w.reviewer)
    response = client.get(url(visit))
    assert response.status_code == 200
    page = response.text
    for marker in ('id="approve"', 'id="start"', 'id="release"', "/edit", 'id="return-form"',
                   'name="note_'):  # fmt: skip
        assert marker not in page, marker
    if status == RETURNED:  # earlier notes stay visible
        assert "Who served you?" in page_text(block(page, "staff"))
        assert "Returned to the shopper" in page_text(page)
    else:
        assert "This review is closed." in page_text(page)
    response = post(client, url(visit, "edit"), question="wait_s", q_wait_s="20", reason="Late")
    assert response.status_code == 302
    assert current_answers(reload(visit))["wait_s"] == 45
    assert "can no longer be reviewed" in page_text(client.get(url(visit)).text)
    assert post(client, url(visit, "approve")).status_code == 302
    assert reload(visit).status == status


def test_many_refusals_make_one_short_message(client, w):
    login(client, w.reviewer)
    missing = [str(n) for n in range(900001, 900013)]
    response = client.post(
        "/review/approve", data={"csrf_token": csrf_token(client), "visit_id": missing}
    )
    assert response.status_code == 302
    text = page_text(client.get("/review/").text)
    assert text.count("Not approved:") == 1
    assert "#900010: not found" in text and "#900011" not in text and "And 2 more." in text
