"""The report data world, its results written the way the app writes them
(services/visits/results.record_results on visits with answers, and one visit approved
through services/review.approve). Shared by the report data, filter, question summary
and scorecard tests.

Client RPT, waves W1 <- W2 <- W3 <- W4, a pooled 5-point checklist, pass mark 80, a
critical "clean" question that only flags, and a "shop" section pass mark of 90:

    North ── North-east ── A1, B1        South ── S1
          ├─ North-west ── C1, E1 (in W4, never visited)
          └─ D1

Visit score = 20 × points (greeted 1, helped 1, clean 1, staff warm 2 / neutral 1).

    store   W1    W2    W3          W4
    A1      40    —     100, 100    100, 60, 80 (clean failed)
    B1      100   80    60, 60      80, 80
    C1      100   80    60          40   (+ a submitted 100 that must not count)
    D1      —     —     —           100 (greeting section N/A), 60
    S1      —     —     —           100  (South: never in North's figures)
"""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from auditapp.extensions import db
from auditapp.models import ChecklistQuestion, utcnow
from auditapp.models.answers import VisitAnswer, VisitComment
from auditapp.models.waves import APPROVED, CANCELLED, SUBMITTED, Visit, Wave
from auditapp.services.checklists import versions as checklists
from auditapp.services.reporting.rows import region_report
from auditapp.services.review import decisions as review
from auditapp.services.visits.results import record_results
from tests.web.statuses import new_visit, walk_to

DOC: dict[str, Any] = {
    "title": "Store audit",
    "language": "en",
    "translations": {"zh": {"title": "门店审核"}},
    "scoring": {
        "method": "pooled", "pass_mark": 80, "decimals": 1, "critical_failure": "flag",
        "bands": [{"min": 90, "label": "Excellent", "translations": {"zh": {"label": "优秀"}}},
                  {"min": 75, "label": "Good"}, {"min": 0, "label": "Poor"}],
    },
    "sections": [
        {"key": "greeting", "title": "Greeting", "translations": {"zh": {"title": "问候"}},
         "questions": [
            {"key": "greeted", "text": "Greeted?", "type": "yes_no", "na_allowed": True,
             "tag": "compliance", "translations": {"zh": {"text": "有人招呼您吗？"}}},
            {"key": "helped", "text": "Helped?", "type": "yes_no", "na_allowed": True,
             "tag": "effectiveness"},
        ]},
        {"key": "shop", "title": "Shop", "pass_mark": 90, "questions": [
            {"key": "clean", "text": "Clean?", "type": "yes_no", "critical": True,
             "tag": "compliance"},
            {"key": "staff", "text": "Staff", "type": "choice", "options": [
                {"value": "warm", "label": "Warm", "points": 2,
                 "translations": {"zh": {"label": "热情"}}},
                {"value": "neutral", "label": "Neutral", "points": 1},
                {"value": "rude", "label": "Rude", "points": 0}]},
            {"key": "recommend", "text": "Recommend?", "type": "nps"},
        ]},
    ],
}  # fmt: skip

# (greeted, helped, clean, staff) for each score used in W1..W3.
FOR_SCORE = {
    100: ("yes", "yes", "yes", "warm"),
    80: ("yes", "yes", "yes", "neutral"),
    60: ("yes", "no", "yes", "neutral"),
    40: ("no", "no", "yes", "neutral"),
}


@pytest.fixture
def w(app: Flask, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    client = make_client("RPT", name="Report brand")
    north = make_region(client, "N", name="North")
    ne = make_region(client, "NE", parent=north, name="North-east", kind="area")
    nw = make_region(client, "NW", parent=north, name="North-west", kind="area")
    south = make_region(client, "S", name="South")
    other = make_client("OTH", name="Other brand")
    w = SimpleNamespace(
        app=app, client=client, north=north, ne=ne, nw=nw, south=south, hour=0,
        a=make_store(client, ne, "A1", name="Alpha"),
        b=make_store(client, ne, "B1", name="Bravo"),
        c=make_store(client, nw, "C1", name="Charlie"),
        e=make_store(client, nw, "E1", name="Echo"),
        d=make_store(client, north, "D1", name="Delta"),
        s=make_store(client, south, "S1", name="Sierra"),
        x=make_store(other, make_region(other, "OX"), "X1", name="Xray"),
        shopper=make_shopper("sam.report@example.com"),
        admin=make_user("adam.report@example.com", "admin"),
        reviewer=make_user("rita.report@example.com", "reviewer", clients=[client]),
        manager=make_user("nora.report@example.com", "regional_manager", client=client,
                          regions=[ne]),
        store_manager=make_user("sid.report@example.com", "store_manager", client=client,
                                stores=[make_store(client, ne, "F1")]),
    )  # fmt: skip
    checklist = checklists.create_checklist(client, "", None, DOC)
    db.session.flush()
    w.version = checklists.publish(checklist.versions[0], None)
    w.questions = dict(
        db.session.execute(
            select(ChecklistQuestion.key, ChecklistQuestion.id).where(
                ChecklistQuestion.version_id == w.version.id
            )
        ).all()
    )
    everyone = [w.a, w.b, w.c, w.d, w.e, w.s]
    w.waves, before = [], None
    for month in (1, 2, 3, 4):
        wave = Wave(
            client=client, checklist_version=w.version, name=f"W{month}", status="open",
            starts_on=datetime(2026, month, 1).date(), ends_on=datetime(2026, month, 28).date(),
            stores=everyone if month == 4 else [w.a, w.b, w.c], previous_wave=before,
        )  # fmt: skip
        db.session.add(wave)
        w.waves.append(wave)
        before = wave
    db.session.flush()
    w1, w2, w3, w4 = w.waves
    for wave, store, score in [
        (w1, w.a, 40), (w1, w.b, 100), (w1, w.c, 100),
        (w2, w.b, 80), (w2, w.c, 80),
        (w3, w.a, 100), (w3, w.a, 100), (w3, w.b, 60), (w3, w.b, 60), (w3, w.c, 60),
    ]:  # fmt: skip
        visit(w, wave, store, *FOR_SCORE[score])
    w.a1 = visit(w, w4, w.a, "yes", "yes", "yes", "warm", nps=10)
    w.a2 = visit(w, w4, w.a, "yes", "no", "yes", "neutral", nps=9)
    w.a3 = visit(w, w4, w.a, "yes", "yes", "no", "warm", nps=7)
    visit(w, w4, w.b, "yes", "yes", "yes", "neutral", nps=8)
    visit(w, w4, w.b, "yes", "no", "yes", "warm", nps=3)
    visit(w, w4, w.c, "no", "no", "yes", "neutral", nps=6)
    visit(w, w4, w.d, "na", "na", "yes", "warm", nps=10)
    visit(w, w4, w.d, "yes", "no", "yes", "neutral", approve=False)
    visit(w, w4, w.s, "yes", "yes", "yes", "warm", nps=0)
    visit(w, w4, w.c, "yes", "yes", "yes", "warm", nps=0, status=SUBMITTED)
    visit(w, w4, w.c, "yes", "yes", "yes", "warm", status=CANCELLED)
    other_version = checklists.publish(
        checklists.create_checklist(other, "", None, DOC).versions[0], None
    )
    other_wave = Wave(
        client=other, checklist_version=other_version, name="Other", status="open",
        starts_on=w4.starts_on, ends_on=w4.ends_on, stores=[w.x],
    )  # fmt: skip
    db.session.add(other_wave)
    db.session.flush()
    visit(w, other_wave, w.x, "no", "no", "no", "rude")
    db.session.add_all(
        [
            VisitComment(visit_id=w.a1.id, section_key="", text="Friendly staff."),
            VisitComment(visit_id=w.a1.id, section_key="shop", text="Dusty shelf."),
        ]
    )
    for wave in (*w.waves, other_wave):  # the client's managers read published waves only
        wave.published_at = utcnow()
    db.session.flush()
    return w


def visit(
    w: Any,
    wave: Wave,
    store: Any,
    greeted: str,
    helped: str,
    clean: str,
    staff: str,
    nps: int | None = None,
    status: str = APPROVED,
    approve: bool = True,
) -> Visit:
    """A visit with these answers; approved ones get their results recorded (or, with
    approve=False, go through the reviewer's approval)."""
    w.hour += 2
    start = datetime(2026, 1, 1, 1, tzinfo=UTC) + timedelta(days=31 * (wave.starts_on.month - 1))
    start += timedelta(hours=w.hour)
    row = new_visit(
        "assigned", shopper=w.shopper,
        wave=wave, store=store, checklist_version_id=wave.checklist_version_id, slot="midday",
        window_start=start, window_end=start + timedelta(hours=1),
        assigned_at=start - timedelta(days=3),
    )  # fmt: skip
    answers = {"greeted": greeted, "helped": helped, "clean": clean, "staff": staff}
    if nps is not None:
        answers["recommend"] = nps
    ids = w.questions if wave.client_id == w.client.id else _ids(wave)
    for key, value in answers.items():
        db.session.add(VisitAnswer(visit_id=row.id, question_id=ids[key], value=value))
    db.session.flush()
    if status == APPROVED and not approve:
        walk_to(row, SUBMITTED)
        with w.app.test_request_context():
            review.approve(row, w.reviewer)
        return row
    walk_to(row, status)
    if status in (APPROVED, SUBMITTED):
        record_results(row)  # a submitted visit with figures must still never count
    db.session.flush()
    return row


def _ids(wave: Wave) -> dict[str, int]:
    return dict(
        db.session.execute(
            select(ChecklistQuestion.key, ChecklistQuestion.id).where(
                ChecklistQuestion.version_id == wave.checklist_version_id
            )
        ).all()
    )


def report(app: Flask, w: Any, region: Any, user: Any, language: str | None = None) -> Any:
    with app.app_context():
        return region_report(region, w.waves[-1], user, language)
