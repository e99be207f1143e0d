"""The corrective actions world, shared by the action service and page tests.

Client ACT, action threshold 50%, critical actions due in 7 days, others in 30; waves
W1 <- W2 <- W3, January to March 2026:

    North ── A1 (Shanghai; store managers Sam, then Sid; Sue inactive before them)
          └─ B1 (Honolulu; store manager Bob)
    South ── S1

The checklist: greeting/greeted (yes/no, N/A allowed), shop/clean (yes/no, critical),
shop/staff (warm 2, neutral 1 = exactly 50%, rude 0), extras/rating (scale 1..4:
2 is 33.3%, 3 is 66.7%), extras/notes (text, not scored).
"""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from auditapp.extensions import db
from auditapp.models import ChecklistQuestion, CorrectiveAction
from auditapp.models.answers import VisitAnswer, VisitComment
from auditapp.models.waves import APPROVED, Visit, Wave
from auditapp.services.checklists import versions as checklists
from auditapp.services.follow_up import actions
from auditapp.services.visits.results import record_results
from tests.web.statuses import new_visit, walk_to

DOC: dict[str, Any] = {
    "title": "Action audit",
    "language": "en",
    "scoring": {"method": "pooled", "critical_failure": "flag"},
    "sections": [
        {"key": "greeting", "title": "Greeting", "questions": [
            {"key": "greeted", "text": "Were you greeted?", "type": "yes_no", "na_allowed": True},
        ]},
        {"key": "shop", "title": "Shop floor", "questions": [
            {"key": "clean", "text": "Was the floor clean?", "type": "yes_no", "critical": True},
            {"key": "staff", "text": "Staff manner", "type": "choice", "options": [
                {"value": "warm", "label": "Warm", "points": 2},
                {"value": "neutral", "label": "Neutral", "points": 1},
                {"value": "rude", "label": "Rude", "points": 0}]},
        ]},
        {"key": "extras", "title": "Extras", "questions": [
            {"key": "rating", "text": "Overall impression", "type": "scale", "min": 1, "max": 4},
            {"key": "notes", "text": "Anything else?", "type": "text"},
        ]},
    ],
}  # fmt: skip
GOOD = {"greeted": "yes", "clean": "yes", "staff": "warm", "rating": 4}
SHOPPER_NAME = "Zed Shopperson"


@pytest.fixture
def w(app: Flask, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    client = make_client(
        "ACT", name="Action brand", action_threshold=50, critical_action_days=7, action_days=30
    )
    north = make_region(client, "N", name="North")
    south = make_region(client, "S", name="South")
    a = make_store(client, north, "A1", name="Alpha", timezone="Asia/Shanghai")
    b = make_store(client, north, "B1", name="Bravo", timezone="Pacific/Honolulu")
    s = make_store(client, south, "S1", name="Sierra")
    other = make_client("OTH", name="Other brand")
    inactive = make_user("sue.act@example.com", "store_manager", client=client, stores=[a])
    inactive.active = False
    w = SimpleNamespace(
        app=app, client=client, north=north, south=south, a=a, b=b, s=s, hour=0,
        sam=make_user("sam.act@example.com", "store_manager", client=client, stores=[a],
                      name="Sam Store"),
        sid=make_user("sid.act@example.com", "store_manager", client=client, stores=[a],
                      name="Sid Store"),
        bob=make_user("bob.act@example.com", "store_manager", client=client, stores=[b],
                      name="Bob Store"),
        rm=make_user("rm.act@example.com", "regional_manager", client=client, regions=[north],
                     name="Rita Regional"),
        rm_south=make_user("rs.act@example.com", "regional_manager", client=client,
                           regions=[south]),
        coordinator=make_user("co.act@example.com", "coordinator", clients=[client],
                              name="Cora Coordinator"),
        other_coordinator=make_user("oc.act@example.com", "coordinator", clients=[other]),
        reviewer=make_user("rv.act@example.com", "reviewer", clients=[client]),
        admin=make_user("ad.act@example.com", "admin"),
        shopper=make_shopper("zed.act@example.com", name=SHOPPER_NAME),
    )  # fmt: skip
    checklist = checklists.create_checklist(client, "", None, DOC)
    db.session.flush()
    w.version = checklists.publish(checklist.versions[0], None)
    w.checklist_id = checklist.id
    w.questions = dict(
        db.session.execute(
            select(ChecklistQuestion.key, ChecklistQuestion.id).where(
                ChecklistQuestion.version_id == w.version.id
            )
        ).all()
    )
    w.waves, before = [], None
    for month in (1, 2, 3):
        wave = Wave(
            client=client, checklist_version=w.version, name=f"W{month}", status="open",
            starts_on=date(2026, month, 1), ends_on=date(2026, month, 28),
            stores=[a, b, s], previous_wave=before,
        )  # fmt: skip
        db.session.add(wave)
        w.waves.append(wave)
        before = wave
    db.session.flush()
    return w


def visit(
    w: Any, wave: Wave, store: Any, comments: dict[str, str] | None = None, **answers: Any
) -> Visit:
    """An approved visit of ``wave`` with GOOD answers changed by ``answers``, its
    results recorded as approval records them."""
    w.hour += 2
    start = datetime(wave.starts_on.year, wave.starts_on.month, 2, 1, tzinfo=UTC)
    start += timedelta(hours=w.hour)
    row = new_visit(
        "assigned", shopper=w.shopper,
        wave=wave, store=store, checklist_version_id=wave.checklist_version_id, slot="midday",
        window_start=start, window_end=start + timedelta(hours=1),
        assigned_at=start - timedelta(days=3), started_at=start,
    )  # fmt: skip
    for key, value in (GOOD | answers).items():
        db.session.add(VisitAnswer(visit_id=row.id, question_id=w.questions[key], value=value))
    for section, text in (comments or {}).items():
        db.session.add(VisitComment(visit_id=row.id, section_key=section, text=text))
    db.session.flush()
    walk_to(row, APPROVED)
    row.approved_at = start + timedelta(days=1)
    record_results(row)
    db.session.flush()
    return row


def publish(wave: Wave, at: datetime) -> None:
    """What publishing does for the actions: the wave's approved visits, in order."""
    wave.published_at = at
    db.session.flush()
    for row in db.session.scalars(
        select(Visit)
        .where(Visit.wave_id == wave.id, Visit.status == APPROVED)
        .order_by(Visit.started_at, Visit.window_start, Visit.id)
    ):
        actions.record_findings(row)
    db.session.flush()


def at(month: int, day: int = 10, hour: int = 17) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def store_actions(store: Any) -> list[CorrectiveAction]:
    return list(
        db.session.scalars(
            select(CorrectiveAction)
            .where(CorrectiveAction.store_id == store.id)
            .order_by(CorrectiveAction.id)
        )
    )


def only(store: Any, key: str) -> CorrectiveAction:
    found = [a for a in store_actions(store) if a.question_key == key]
    assert len(found) == 1, found
    return found[0]
