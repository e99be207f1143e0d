"""Store appeals, the services: who may appeal what and until when, filing with photos
(all or nothing), upholding (the answer changes, the visit is rescored to the digit
of `python -m scoring`, the original result is kept, the store's question sums stay
right), rejecting, deciding once, and the appeal rates.

The world (client APL, appeals open 14 days after publication, decided within 7): a
weighted checklist (greeting 40, shop 60) whose "why" question shows only for a rude
member of staff, and a critical "clean" question that zeroes the visit.

    region North ── N1 (store manager Sue), N2 (store manager Ned)
    region South ── S1
    regional manager Rex over North, Rhea over South; coordinator Cora (APL),
    coordinator Otto (another client), reviewer Rita, admin Adam; shopper Sam.

The published visit of N1 answers greeted no, wait 45 s (1 of 2), clean yes, staff
rude, why "Ignored me": greeting 1/3, shop 1/3, score 33.3 (Poor, FAIL).
"""

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

import scoring
from auditapp.errors import NotFound
from auditapp.extensions import db
from auditapp.models import ChecklistQuestion, FollowUpFile, User, utcnow
from auditapp.models.follow_up import APPEAL_PENDING, APPEAL_REJECTED, APPEAL_UPHELD, Appeal
from auditapp.models.review import ReviewEdit
from auditapp.models.waves import Visit, Wave
from auditapp.services.appeals import cases as appeals
from auditapp.services.checklists import versions as checklists
from auditapp.services.follow_up.files import photo_path
from auditapp.services.org import records as org
from auditapp.services.visits.results import rebuild_question_summary
from tests.web.committed import committed as committed  # noqa: F401 (sessions that really commit)
from tests.web.committed import remove_committed
from tests.web.evidence_images import png
from tests.web.worlds.appeals import (
    DOC,
    GOOD,
    POOR,
    SHOPPER_NAME,
    answers_of,
    build_world,
    cli_score,
    jpeg,
    make_visit,
    make_wave,
)
from tests.web.worlds.question_summary import expected, stored


@pytest.fixture
def aw(app, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    return build_world(app, make_client, make_region, make_store, make_user, make_shopper)


@pytest.fixture(autouse=True)
def _request(app: Flask):
    """Services translate and read the configuration: a request context."""
    with app.test_request_context():
        yield


def file_one(w: Any, key: str = "staff", visit: Visit | None = None, **kw: Any) -> Appeal:
    appeal = appeals.file_appeal(
        visit or w.poor, kw.pop("user", w.sue), key, kw.pop("reason", "Staff were busy"), **kw
    )
    db.session.flush()
    return appeal


# --- the window and who may appeal -------------------------------------------------------


def test_the_window_runs_appeal_days_from_publication(aw):
    assert aw.poor.approved_at < aw.wave.published_at
    assert appeals.appeal_closes(aw.poor) == aw.wave.published_at + timedelta(days=14)
    aw.poor.approved_at = aw.wave.published_at + timedelta(days=3)  # approved after publication
    assert appeals.appeal_closes(aw.poor) == aw.wave.published_at + timedelta(days=17)
    aw.wave.published_at = None
    assert appeals.appeal_closes(aw.poor) is None


def test_the_store_manager_and_the_regional_manager_over_it_may_appeal(aw):
    assert appeals.can_appeal(aw.sue, aw.poor, "staff") is None
    assert appeals.can_appeal(aw.rex, aw.poor, "staff") is None


@pytest.mark.parametrize("who", ["ned", "rhea", "cora", "rita", "adam", "otto"])
def test_nobody_else_may_appeal(aw, who):
    assert appeals.can_appeal(getattr(aw, who), aw.poor, "staff") is not None
    with pytest.raises(appeals.NotAppealable):
        file_one(aw, user=getattr(aw, who))
    assert db.session.scalar(select(func.count()).select_from(Appeal)) == 0


def test_the_shopper_may_not_appeal(aw):
    assert appeals.can_appeal(aw.sam.user, aw.poor, "staff") is not None


def test_only_an_answer_that_cost_points_can_be_appealed(aw):
    assert appeals.can_appeal(aw.sue, aw.poor, "wait_s") is None  # 1 of 2 points
    assert appeals.can_appeal(aw.sue, aw.poor, "clean") is not None  # full points
    assert appeals.can_appeal(aw.sue, aw.poor, "why") is not None  # a text: not scored
    assert appeals.can_appeal(aw.sue, aw.good, "staff") is not None  # warm: full points
    assert appeals.can_appeal(aw.sue, aw.poor, "nothing") is not None
    with pytest.raises(appeals.NotAppealable, match="cost the store points"):
        file_one(aw, "clean")


def test_a_closed_window_refuses(aw):
    aw.wave.published_at = utcnow() - timedelta(days=14, minutes=1)
    assert "passed" in appeals.can_appeal(aw.sue, aw.poor, "staff")
    aw.wave.published_at = utcnow() - timedelta(days=13, hours=23)
    assert appeals.can_appeal(aw.sue, aw.poor, "staff") is None
    aw.client.appeal_days = 0
    assert appeals.can_appeal(aw.sue, aw.poor, "staff") is not None


def test_an_unpublished_wave_cannot_be_appealed(aw):
    aw.wave.published_at = None
    db.session.flush()
    assert appeals.can_appeal(aw.sue, aw.poor, "staff") is not None
    assert appeals.appealable_visit(aw.sue, aw.poor.id) is None


def test_one_appeal_per_finding(aw):
    file_one(aw)
    assert "already" in appeals.can_appeal(aw.rex, aw.poor, "staff")
    with pytest.raises(appeals.NotAppealable, match="already"):
        file_one(aw, user=aw.rex)
    assert file_one(aw, "greeted").question_key == "greeted"  # another finding: fine


# --- filing ------------------------------------------------------------------------------


def test_filing_keeps_the_answer_the_deadline_and_the_photos(aw):
    before = utcnow()
    appeal = file_one(
        aw,
        reason="  The manager greeted her at once.  ",
        photos=[(jpeg(), "a.jpg"), (png(), "b.png")],
    )
    assert appeal.status == APPEAL_PENDING and appeal.store_id == aw.n1.id
    assert appeal.reason == "The manager greeted her at once."
    assert appeal.answer_before == "rude" and appeal.filed_by_id == aw.sue.id
    assert appeal.score_before == aw.poor.score
    assert before + timedelta(days=7) <= appeal.decide_by <= utcnow() + timedelta(days=7)
    files = db.session.scalars(select(FollowUpFile).where(FollowUpFile.appeal_id == appeal.id))
    stored_files = list(files)
    assert [f.original_name for f in stored_files] == ["a.jpg", "b.png"]
    for row in stored_files:
        assert photo_path(row).is_file() and photo_path(row, thumb=True).is_file()


@pytest.mark.parametrize(("reason", "message"), [("   ", "Say why"), ("x" * 2001, "under 2000")])
def test_a_reason_is_required_and_limited(aw, reason, message):
    with pytest.raises(appeals.AppealInvalid, match=message) as refused:
        file_one(aw, reason=reason)
    assert refused.value.field == "reason"


def test_a_bad_photo_refuses_the_whole_appeal_and_stores_nothing(aw, app):
    folder = Path(app.config["UPLOAD_FOLDER"]) / "follow-up"
    before = set(folder.glob("*")) if folder.exists() else set()
    with pytest.raises(appeals.AppealInvalid, match="Photo 2") as refused:
        file_one(aw, photos=[(jpeg(), "good.jpg"), (b"not a picture at all", "bad.jpg")])
    assert refused.value.field == "photos"
    assert db.session.scalar(select(func.count()).select_from(Appeal)) == 0
    assert db.session.scalar(select(func.count()).select_from(FollowUpFile)) == 0
    assert set(folder.glob("*")) == before  # the good photo's files are gone too
    assert appeals.can_appeal(aw.sue, aw.poor, "staff") is None  # and it can be filed again


def test_too_many_photos_are_refused(aw):
    with pytest.raises(appeals.AppealInvalid, match="At most 5") as refused:
        file_one(aw, photos=[(jpeg(), f"{i}.jpg") for i in range(6)])
    assert refused.value.field == "photos"


# --- upholding ---------------------------------------------------------------------------


def test_an_upheld_appeal_rescores_exactly_as_the_cli_and_keeps_the_original(aw, tmp_path):
    visit = aw.poor
    original = (visit.score, visit.score_exact, visit.result, visit.grade)
    assert original == (Decimal("33.3333"), "100/3", "FAIL", "Poor")
    appeal = file_one(aw)
    appeals.uphold(appeal, aw.cora, "The receipt shows a greeting.", {"q_staff": "warm"})
    db.session.flush()
    db.session.refresh(visit)
    answers = answers_of(visit)
    assert answers == {"greeted": "no", "wait_s": 45, "clean": "yes", "staff": "warm"}
    cli = cli_score(aw.version, answers, tmp_path)
    exact = Fraction(visit.score_exact)
    assert cli["score"] == scoring.round_half_up(exact, 1) == Decimal("73.3")
    assert (cli["result"], cli["grade"]) == (visit.result, visit.grade) == ("FAIL", "Poor")
    precise = cli_score(aw.version, answers, tmp_path, decimals=4)
    assert precise["score"] == visit.score == scoring.round_half_up(exact, 4)
    assert exact == Fraction(220, 3)  # 0.4 x 100/3 + 0.6 x 100
    assert (visit.original_score, visit.original_score_exact) == original[:2]
    assert (visit.original_result, visit.original_grade) == original[2:]
    assert appeal.status == APPEAL_UPHELD and appeal.decided_by_id == aw.cora.id
    assert appeal.decided_at is not None and appeal.decision_note == "The receipt shows a greeting."
    assert (appeal.answer_before, appeal.answer_after) == ("rude", "warm")
    assert (appeal.score_before, appeal.score_after) == (Decimal("33.3333"), Decimal("73.3333"))


def test_an_answer_that_hides_a_question_removes_its_answer_in_the_edit_trail(aw):
    appeal = file_one(aw)
    appeals.uphold(appeal, aw.cora, "Checked the CCTV", {"q_staff": "warm"})
    db.session.flush()
    edits = list(
        db.session.scalars(
            select(ReviewEdit).where(ReviewEdit.visit_id == aw.poor.id).order_by(ReviewEdit.id)
        )
    )
    assert [(e.question_key, e.before, e.after) for e in edits] == [
        ("staff", "rude", "warm"),
        ("why", "Ignored me", None),
    ]
    assert all(e.reason == "Appeal upheld: Checked the CCTV" for e in edits)
    assert all(e.editor_id == aw.cora.id for e in edits)
    assert edits[0].score_before == Decimal("33.3333")
    assert edits[0].score_after == edits[1].score_before == edits[1].score_after


def test_a_second_upheld_appeal_keeps_the_first_original(aw, tmp_path):
    first, second = file_one(aw), file_one(aw, "greeted", reason="She was greeted")
    appeals.uphold(first, aw.cora, "Fair", {"q_staff": "warm"})
    appeals.uphold(second, aw.adam, "Fair too", {"q_greeted": "yes"})
    db.session.flush()
    visit = aw.poor
    assert (visit.original_score, visit.original_grade) == (Decimal("33.3333"), "Poor")
    assert visit.score_exact == "260/3" and (visit.result, visit.grade) == ("PASS", "Good")
    assert cli_score(aw.version, answers_of(visit), tmp_path)["score"] == Decimal("86.7")
    assert (second.score_before, second.score_after) == (Decimal("73.3333"), Decimal("86.6667"))


def test_a_failed_critical_item_upheld_lifts_the_zeroed_visit(aw, tmp_path):
    visit = make_visit(aw, aw.wave, aw.n1, {**GOOD, "clean": "no"})
    assert (visit.score, visit.result) == (Decimal("0.0000"), "FAIL")
    appeal = file_one(aw, "clean", visit=visit, reason="It was mopped at 10:00")
    appeals.uphold(appeal, aw.cora, "The photo shows it clean", {"q_clean": "yes"})
    db.session.flush()
    assert (visit.score, visit.result, visit.grade) == (Decimal("100.0000"), "PASS", "Excellent")
    assert (visit.original_score, visit.original_result) == (Decimal("0.0000"), "FAIL")
    assert cli_score(aw.version, answers_of(visit), tmp_path)["score"] == Decimal("100.0")


def test_the_store_question_sums_match_after_an_upheld_appeal(aw):
    assert stored() == expected()
    appeals.uphold(file_one(aw), aw.cora, "Fair", {"q_staff": "warm"})
    db.session.flush()
    after = stored()
    assert after == expected()
    staff = (aw.wave.id, aw.questions["staff"], aw.n1.id)
    # Two N1 visits, both warm now: 4 of 4 points, two answers with full credit.
    assert after[staff][:4] == (4 * 10**8, 4 * 10**8, 2, 2)
    rebuild_question_summary(aw.wave.id)
    assert stored() == after


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"q_staff": "rude"}, "unchanged"),
        ({"q_staff": "splendid"}, "."),
    ],
)
def test_the_new_answer_must_be_valid_and_different(aw, fields, message):
    appeal = file_one(aw)
    with pytest.raises(appeals.AppealInvalid, match=message) as refused:
        appeals.uphold(appeal, aw.cora, "Fair", fields)
    assert refused.value.field == "value"
    db.session.refresh(appeal)
    assert appeal.status == APPEAL_PENDING


def test_an_appeal_upheld_as_not_applicable_takes_the_question_out(aw, tmp_path):
    appeal = file_one(aw, "greeted", reason="Nobody could greet: the door was jammed")
    appeals.uphold(appeal, aw.cora, "Fair", {"q_greeted": "na"})
    assert appeal.answer_after == "na" and answers_of(aw.poor)["greeted"] == "na"
    # Greeting is now 1 of 2 (the wait), shop 1 of 3: 0.4 x 50 + 0.6 x 100/3 = 40.
    assert Fraction(aw.poor.score_exact) == 40
    assert cli_score(aw.version, answers_of(aw.poor), tmp_path)["score"] == Decimal("40.0")


def test_a_number_is_read_as_the_review_screen_reads_it(aw):
    appeal = file_one(aw, "wait_s", reason="The clock says 20 seconds")
    with pytest.raises(appeals.AppealInvalid, match="plain number"):
        appeals.uphold(appeal, aw.cora, "Fair", {"q_wait_s": "2e1"})
    appeals.uphold(appeal, aw.cora, "Fair", {"q_wait_s": "20"})
    assert appeal.answer_after == 20 and answers_of(aw.poor)["wait_s"] == 20


# --- rejecting and who decides -----------------------------------------------------------


def test_a_rejection_needs_a_note_and_changes_nothing(aw):
    appeal = file_one(aw)
    with pytest.raises(appeals.AppealInvalid, match="Explain") as refused:
        appeals.reject(appeal, aw.cora, "  ")
    assert refused.value.field == "note"
    appeals.reject(appeal, aw.cora, "The shopper's notes are clear.")
    db.session.flush()
    assert appeal.status == APPEAL_REJECTED and appeal.decided_by_id == aw.cora.id
    assert aw.poor.score == Decimal("33.3333") and aw.poor.original_score is None
    assert answers_of(aw.poor)["staff"] == "rude"


def test_an_upheld_appeal_needs_a_note_too(aw):
    with pytest.raises(appeals.AppealInvalid) as refused:
        appeals.uphold(file_one(aw), aw.cora, "", {"q_staff": "warm"})
    assert refused.value.field == "note"


def test_a_decided_appeal_cannot_be_decided_again(aw):
    appeal = file_one(aw)
    appeals.reject(appeal, aw.cora, "No")
    with pytest.raises(appeals.NotAppealable, match="already decided"):
        appeals.uphold(appeal, aw.adam, "Yes after all", {"q_staff": "warm"})
    with pytest.raises(appeals.NotAppealable, match="already decided"):
        appeals.reject(appeal, aw.adam, "No again")


@pytest.mark.parametrize("who", ["otto", "rita", "sue", "rex"])
def test_only_the_clients_coordinators_and_admins_decide(aw, who):
    appeal = file_one(aw)
    with pytest.raises(NotFound):
        appeals.reject(appeal, getattr(aw, who), "No")
    with pytest.raises(NotFound):
        appeals.uphold(appeal, getattr(aw, who), "Yes", {"q_staff": "warm"})


# --- lists and rates ---------------------------------------------------------------------


def test_the_list_holds_the_readers_appeals_pending_first(aw):
    late = file_one(aw)
    late.decide_by = utcnow() - timedelta(hours=1)
    soon = file_one(aw, "greeted")
    elsewhere = file_one(aw, visit=aw.n2_visit, user=aw.ned)
    decided = file_one(aw, "wait_s")
    appeals.reject(decided, aw.cora, "No")
    db.session.flush()
    rows = appeals.appeal_list(aw.cora)
    assert [r.appeal.id for r in rows] == [late.id, soon.id, elsewhere.id, decided.id]
    assert [r.overdue for r in rows] == [True, False, False, False]
    assert [r.appeal.id for r in appeals.appeal_list(aw.cora, APPEAL_PENDING)][-1] == elsewhere.id
    assert {r.appeal.id for r in appeals.appeal_list(aw.sue)} == {late.id, soon.id, decided.id}
    assert [r.appeal.id for r in appeals.appeal_list(aw.ned)] == [elsewhere.id]
    assert appeals.appeal_list(aw.otto) == appeals.appeal_list(aw.rita) == []
    assert appeals.appeal_list(aw.rhea) == []


def test_appeal_rates_per_store_and_per_shopper(aw):
    appeals.uphold(file_one(aw), aw.cora, "Fair", {"q_staff": "warm"})
    appeals.reject(file_one(aw, "greeted"), aw.cora, "No")
    file_one(aw, visit=aw.n2_visit, user=aw.ned)
    unpublished = make_wave(aw, "Summer", None)
    make_visit(aw, unpublished, aw.n1, POOR)  # not published: not counted
    db.session.flush()
    rates = appeals.appeal_rates(aw.cora, aw.client.id)
    by_code = {
        r.code: (r.visits, r.appeals, r.upheld, r.rate, r.upheld_share) for r in rates.stores
    }
    assert by_code == {
        "N1": (2, 2, 1, Fraction(1), Fraction(1, 2)),
        "N2": (1, 1, 0, Fraction(1), Fraction(0)),
    }
    assert rates.shoppers is not None
    assert [(r.name, r.visits, r.appeals, r.upheld) for r in rates.shoppers] == [
        (SHOPPER_NAME, 3, 3, 1)
    ]
    for manager in (aw.sue, aw.rex):
        mine = appeals.appeal_rates(manager, aw.client.id)
        assert mine.shoppers is None
    assert [r.code for r in appeals.appeal_rates(aw.sue, aw.client.id).stores] == ["N1"]
    only = appeals.appeal_rates(aw.cora, aw.client.id, unpublished.id)
    assert only.stores == []
    with pytest.raises(NotFound):
        appeals.appeal_rates(aw.otto, aw.client.id)


# --- two decisions at once ---------------------------------------------------------------

ON_POSTGRESQL = os.environ.get("AUDITAPP_TEST_DATABASE_URL", "").startswith("postgresql")


def _committed_world(app: Flask) -> Any:
    """A small world committed for real (threads cannot see the test's transaction)."""
    tag = uuid.uuid4().hex[:6].upper()
    with app.test_request_context():
        client = org.save_client(None, {"code": f"AR{tag}", "name": f"Race {tag}"})
        region = org.save_region(None, client, {"code": "R", "name": "Race region"})
        store = org.save_store(None, client, region, {"code": "S", "name": "Race store"})
        db.session.flush()
        manager = org.save_user(None, {"email": f"sm-{tag}@example.com", "name": "SM",
                                       "role": "store_manager", "client": client,
                                       "stores": [store]})  # fmt: skip
        coordinators = [
            org.save_user(
                None,
                {
                    "email": f"co{i}-{tag}@example.com",
                    "name": f"Co {i}",
                    "role": "coordinator",
                    "clients": [client],
                },
            )  # fmt: skip
            for i in range(2)
        ]
        shopper = org.save_shopper(None, {"email": f"sh-{tag}@example.com", "name": "Racer"})
        checklist = checklists.create_checklist(client, "", None, DOC)
        db.session.flush()
        version = checklists.publish(checklists.draft_of(checklist), None)
        w = SimpleNamespace(client=client, n1=store, version=version, sam=shopper, hour=0)
        w.questions = dict(
            db.session.execute(
                select(ChecklistQuestion.key, ChecklistQuestion.id).where(
                    ChecklistQuestion.version_id == version.id
                )
            ).all()
        )
        wave = Wave(
            client=client, checklist_version=version, name="Race wave", status="open",
            starts_on=(utcnow() - timedelta(days=40)).date(),
            ends_on=(utcnow() - timedelta(days=10)).date(), stores=[store],
            published_at=utcnow() - timedelta(days=1),
        )  # fmt: skip
        db.session.add(wave)
        db.session.flush()
        visit = make_visit(w, wave, store, POOR)
        first = appeals.file_appeal(visit, manager, "staff", "Polite staff")
        second = appeals.file_appeal(visit, manager, "greeted", "Greeted at once")
        db.session.commit()
        return SimpleNamespace(
            ids={"client_id": client.id, "region_id": region.id, "store_id": store.id,
                 "checklist_id": checklist.id, "wave_id": wave.id, "shopper_ids": [shopper.id],
                 "user_ids": [manager.id, shopper.user_id, *(c.id for c in coordinators)]},
            visit_id=visit.id, appeal_ids=(first.id, second.id),
            coordinator_ids=[c.id for c in coordinators],
        )  # fmt: skip


def _decide(app: Flask, barrier: threading.Barrier, appeal_id: int, user_id: int, how: Any) -> str:
    """One coordinator's decision in its own thread, session, connection and request."""
    with app.test_request_context():
        try:
            appeal = db.session.get(Appeal, appeal_id)
            user = db.session.get(User, user_id)
            assert appeal is not None and user is not None
            _loaded = (appeal.visit.store.client_id, user.role)  # as a request would have
            barrier.wait(timeout=30)
            how(appeal, user)
            db.session.commit()
            return "done"
        except appeals.NotAppealable:
            db.session.rollback()
            return "refused"
        except Exception as error:  # anything else fails the test with its name
            db.session.rollback()
            return f"error: {error!r}"


def _at_once(app: Flask, decisions: list[tuple[int, int, Any]]) -> list[str]:
    barrier = threading.Barrier(len(decisions))
    with ThreadPoolExecutor(max_workers=len(decisions)) as pool:
        futures = [pool.submit(_decide, app, barrier, *d) for d in decisions]
        return sorted(f.result(timeout=60) for f in futures)


def _uphold(key: str, value: str) -> Any:
    return lambda appeal, user: appeals.uphold(appeal, user, "Fair", {f"q_{key}": value})


@pytest.mark.postgres_only
@pytest.mark.skipif(not ON_POSTGRESQL, reason="row locks need PostgreSQL")
def test_two_decisions_on_one_visit_apply_one_after_the_other(app, committed):
    world = _committed_world(app)
    try:
        staff, greeted = world.appeal_ids
        one, two = world.coordinator_ids
        results = _at_once(
            app, [(staff, one, _uphold("staff", "warm")), (greeted, two, _uphold("greeted", "yes"))]
        )
        assert results == ["done", "done"]
        with app.app_context():
            visit = db.session.get(Visit, world.visit_id)
            assert visit is not None
            # Both changes count: 0.4 x 2/3 + 0.6 x 1 = 86.7, and the original is the approved.
            assert (visit.score_exact, visit.original_score_exact) == ("260/3", "100/3")
            assert stored() == expected()
    finally:
        remove_committed(committed, **world.ids)


@pytest.mark.postgres_only
@pytest.mark.skipif(not ON_POSTGRESQL, reason="row locks need PostgreSQL")
def test_one_appeal_decided_twice_at_once_is_decided_once(app, committed):
    world = _committed_world(app)
    try:
        staff, _greeted = world.appeal_ids
        one, two = world.coordinator_ids
        reject = lambda appeal, user: appeals.reject(appeal, user, "No")  # noqa: E731
        results = _at_once(app, [(staff, one, _uphold("staff", "warm")), (staff, two, reject)])
        assert results == ["done", "refused"]
        with app.app_context():
            appeal = db.session.get(Appeal, staff)
            visit = db.session.get(Visit, world.visit_id)
            assert appeal is not None and visit is not None
            upheld = appeal.status == APPEAL_UPHELD
            assert visit.score_exact == ("220/3" if upheld else "100/3")
    finally:
        remove_committed(committed, **world.ids)
