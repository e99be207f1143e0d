"""Submitting a visit: the server is the judge. Crafted values (a hidden question's,
an unknown option, a number out of range) are discarded or refused as SCORING.md says;
scores are the scoring engine's, to the digit of `python -m scoring`; and a submission
is made exactly once, however often or however simultaneously it is sent."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

import scoring
from auditapp.extensions import db
from auditapp.models import ChecklistQuestion, User
from auditapp.models.answers import VisitAnswer, VisitDraft, VisitSubmission
from auditapp.models.waves import IN_PROGRESS, Visit
from auditapp.services.checklists import versions as checklists
from auditapp.services.org import records as org
from tests.conftest import csrf_token, login
from tests.web.committed import committed as committed  # noqa: F401 (a fixture)
from tests.web.committed import remove_committed
from tests.web.worlds.submission import DOC, GOOD, JSON, _submit, _visit, _wave
from tests.web.worlds.submission import world as world  # noqa: F401 (a fixture)
from tests.web.worlds.visit_form import cli_score, reload


def _stored(visit: Visit) -> tuple[int, int, dict[str, Any]]:
    db.session.expire_all()
    submissions = db.session.scalar(
        select(func.count()).where(VisitSubmission.visit_id == visit.id)
    )
    rows = db.session.execute(
        select(ChecklistQuestion.key, VisitAnswer.value)
        .join(ChecklistQuestion, VisitAnswer.question_id == ChecklistQuestion.id)
        .where(VisitAnswer.visit_id == visit.id)
    ).all()
    return submissions or 0, len(rows), dict(rows)  # type: ignore[arg-type]


# --- crafted values ----------------------------------------------------------------------


def test_value_of_a_hidden_question_is_discarded(client, world):
    login(client, world.ann.user)
    response = _submit(client, world.visit, **GOOD, q_why="Typed while it was hidden")
    assert response.status_code == 302
    count, _rows, answers = _stored(world.visit)
    assert count == 1 and "why" not in answers
    submission = db.session.scalars(select(VisitSubmission)).one()
    assert "why" not in submission.answers
    assert answers["extras"] == ["bag", "upsell"] and answers["wait_s"] == 45


def test_a_visible_follow_up_is_required_and_kept(client, world):
    login(client, world.ann.user)
    missing = _submit(client, world.visit, JSON, **(GOOD | {"q_staff": "rude"}))
    assert missing.status_code == 422
    assert missing.json == {"ok": False, "errors": {"why": "This question needs an answer."}}
    done = _submit(client, world.visit, JSON, **(GOOD | {"q_staff": "rude", "q_why": "Ignored"}))
    assert done.status_code == 200 and _stored(world.visit)[2]["why"] == "Ignored"


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("q_staff", "bribed", "staff"),  # unknown option
        ("q_extras", ["bag", "free_lunch"], "extras"),  # unknown option of a multi
        ("q_greeted", "maybe", "greeted"),
        ("q_rating", "9", "rating"),  # off the 1..5 scale
        ("q_wait_s", "601", "wait_s"),  # above max
        ("q_wait_s", "-1", "wait_s"),  # below min
        ("q_wait_s", "1e400", "wait_s"),  # not a plain number
        ("q_wait_s", "twelve", "wait_s"),
        ("q_thanked", "na", "thanked"),  # N/A where it is not allowed
    ],
)
def test_values_outside_the_domain_are_refused_and_nothing_is_stored(
    client, world, field, value, key
):
    login(client, world.ann.user)
    response = _submit(client, world.visit, JSON, **(GOOD | {field: value}))
    assert response.status_code == 422
    assert response.json["ok"] is False and list(response.json["errors"]) == [key]
    assert response.json["errors"][key]
    assert _stored(world.visit) == (0, 0, {})
    assert reload(world.visit).status == IN_PROGRESS


def test_browser_submit_with_a_bad_value_shows_the_message_beside_the_question(client, world):
    login(client, world.ann.user)
    response = _submit(client, world.visit, **(GOOD | {"q_wait_s": "700"}))
    assert response.status_code == 422
    start = response.text.index('id="vq-wait_s"')
    block = response.text[start : response.text.index('id="vq-staff"')]
    assert "The number is outside the allowed range." in block and 'value="700"' in block
    assert "Quiet store.</textarea>" in response.text
    draft = db.session.get(VisitDraft, world.visit.id)  # no autosave without JS: kept here
    assert draft is not None and draft.data["q_wait_s"] == "700"


# --- scores -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        GOOD,
        GOOD | {"q_greeted": "na", "q_extras": "", "q_rating": "5", "q_wait_s": "29.5"},
        GOOD | {"q_staff": "rude", "q_why": "Eye-rolling", "q_extras": ["upsell"]},
    ],
)
def test_scores_match_the_command_line(client, world, tmp_path, fields):
    login(client, world.ann.user)
    assert _submit(client, world.visit, JSON, **fields).status_code == 200
    submission = db.session.scalars(select(VisitSubmission)).one()
    answers = {k: Decimal(str(v)) if isinstance(v, float) else v
               for k, v in submission.answers.items()}  # fmt: skip
    cli = cli_score(world.version, answers, tmp_path)
    exact = scoring.score_visit(checklists.scoring_checklist(world.version), answers)
    assert submission.score == scoring.round_half_up(exact.score, 4)
    assert cli["score"] == scoring.round_half_up(Fraction(submission.score), 1)
    assert (cli["result"], cli["grade"]) == (submission.result, submission.grade)
    assert submission.sections == {
        key: {n: None if v is None else float(v) for n, v in section.items()}
        for key, section in cli["sections"].items()
    }


# --- exactly once ---------------------------------------------------------------------------


def test_a_retried_submit_returns_the_same_submission(client, world):
    login(client, world.ann.user)
    first = _submit(client, world.visit, JSON, "retry-me-0001", **GOOD)
    again = _submit(client, world.visit, JSON, "retry-me-0001", **GOOD)
    assert first.status_code == again.status_code == 200
    assert (
        first.json
        == again.json
        == {"ok": True, "submission_id": "retry-me-0001", "redirect": "/my/"}
    )
    browser = _submit(client, world.visit, None, "retry-me-0001", **GOOD)
    assert browser.status_code == 302 and browser.location.endswith("/my/")
    assert _stored(world.visit)[0] == 1
    other = _submit(client, world.visit, JSON, "another-id-0002", **GOOD)
    assert other.status_code == 409 and other.json["ok"] is False
    assert "already been submitted" in other.json["error"]
    assert _stored(world.visit)[0] == 1


def test_a_returned_visit_reopens_with_what_was_sent_and_submits_again(client, world):
    login(client, world.ann.user)
    _submit(client, world.visit, None, "first-round-001", **GOOD)
    visit = reload(world.visit)
    visit.status = "returned"
    db.session.commit()
    page = client.get(f"/my/visits/{visit.id}/form").text
    assert "Quiet store.</textarea>" in page and 'value="45"' in page
    assert _submit(client, visit, JSON, "second-round-02", **GOOD).status_code == 200
    assert _stored(visit)[0] == 2 and reload(visit).status == "submitted"


def test_submission_id_must_look_like_one(client, world):
    login(client, world.ann.user)
    assert _submit(client, world.visit, JSON, "x", **GOOD).status_code == 400
    assert _stored(world.visit)[0] == 0


def _build_committed(app: Flask, rounds: int) -> SimpleNamespace:
    tag = uuid.uuid4().hex[:8]
    with app.app_context():
        client = org.save_client(None, {"code": f"DBL{tag}", "name": f"Double {tag}"})
        region = org.save_region(None, client, {"code": "R", "name": "Region"})
        store = org.save_store(None, client, region, {"code": "S1", "name": "Store"})
        shopper = org.save_shopper(None, {"email": f"double-{tag}@example.com", "name": "Dee"})
        checklist = checklists.create_checklist(client, "", None, DOC)
        version = checklists.publish(checklist.versions[0], None)
        wave = _wave(client, store, version)
        visits = [_visit(wave, store, shopper, 2 * n) for n in range(rounds)]
        db.session.commit()
        return SimpleNamespace(
            client_id=client.id, region_id=region.id, store_id=store.id,
            checklist_id=checklist.id, wave_id=wave.id, shopper_id=shopper.id,
            user_id=shopper.user_id, visits=[v.id for v in visits],
        )  # fmt: skip


def _remove(engine: Engine, w: SimpleNamespace) -> None:
    remove_committed(
        engine, client_id=w.client_id, region_id=w.region_id, store_id=w.store_id,
        checklist_id=w.checklist_id, wave_id=w.wave_id, shopper_ids=[w.shopper_id],
        user_ids=[w.user_id],
    )  # fmt: skip


def _send(app: Flask, barrier: threading.Barrier, user_id: int, visit_id: int, sid: str) -> Any:
    """One browser's submit, in its own thread, session, connection and app context."""
    browser = app.test_client()
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        login(browser, user)
    token = csrf_token(browser)
    data = {"csrf_token": token, "submission_id": sid, "action": "submit", **GOOD}
    barrier.wait(timeout=30)
    response = browser.post(f"/my/visits/{visit_id}/submit", data=data, headers=JSON)
    return response.status_code, response.get_json()


def test_two_identical_submits_at_once_make_one_submission(app, committed):
    rounds = 5
    w = _build_committed(app, rounds)
    try:
        for n, visit_id in enumerate(w.visits):
            sid = f"double-{uuid.uuid4()}"
            barrier = threading.Barrier(2)
            with ThreadPoolExecutor(max_workers=2) as pool:
                futures = [pool.submit(_send, app, barrier, w.user_id, visit_id, sid)
                           for _ in range(2)]  # fmt: skip
                results = [f.result(timeout=60) for f in futures]
            expected = {"ok": True, "submission_id": sid, "redirect": "/my/"}
            assert results == [(200, expected), (200, expected)], f"round {n}: {results}"
            with app.app_context():
                made = db.session.scalars(
                    select(VisitSubmission).where(VisitSubmission.visit_id == visit_id)
                ).all()
                assert [s.client_submission_id for s in made] == [sid], f"round {n}"
                visit = db.session.get(Visit, visit_id)
                assert visit is not None and visit.status == "submitted"
                assert [e.to_status for e in visit.events] == ["submitted"]
                answers = db.session.scalar(
                    select(func.count()).where(VisitAnswer.visit_id == visit_id)
                )
                assert answers == 6  # greeted, wait_s, staff, extras, rating, thanked
    finally:
        _remove(committed, w)
