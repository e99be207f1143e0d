"""The appeals world, shared by the appeal service, page and scorecard tests and the
store manager's phone view.

Client APL, appeals open 14 days after publication, decided within 7: a weighted
checklist (greeting 40, shop 60) whose "why" question shows only for a rude member of
staff, and a critical "clean" question that zeroes the visit.

    region North ── N1 (store manager Sue), N2 (store manager Ned)
    region South ── S1
    regional manager Rex over North, Rhea over South; coordinator Cora (APL),
    coordinator Otto (another client), reviewer Rita, admin Adam; shopper Sam.

The published visit of N1 answers greeted no, wait 45 s (1 of 2), clean yes, staff
rude, why "Ignored me": greeting 1/3, shop 1/3, score 33.3 (Poor, FAIL).
"""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

import scoring
from auditapp.extensions import db
from auditapp.models import ChecklistQuestion, utcnow
from auditapp.models.answers import VisitAnswer
from auditapp.models.waves import APPROVED, Visit, Wave
from auditapp.services.checklists import versions as checklists
from auditapp.services.visits.answers import stored_answers
from auditapp.services.visits.results import record_results
from tests.web.evidence_images import encode, halves
from tests.web.statuses import new_visit, walk_to

DOC: dict[str, Any] = {
    "title": "Appeal audit",
    "language": "en",
    "scoring": {"method": "weighted_sections", "pass_mark": 80, "decimals": 1,
                "bands": [{"min": 90, "label": "Excellent"}, {"min": 75, "label": "Good"},
                          {"min": 0, "label": "Poor"}]},
    "sections": [
        {"key": "greeting", "title": "Greeting", "weight": 40, "questions": [
            {"key": "greeted", "text": "Greeted within 30 seconds?", "type": "yes_no",
             "na_allowed": True},
            {"key": "wait_s", "text": "Seconds until first contact", "type": "number",
             "min": 0, "max": 600,
             "bands": [{"max": 30, "points": 2}, {"max": 120, "points": 1}, {"points": 0}]},
        ]},
        {"key": "shop", "title": "Shop", "weight": 60, "questions": [
            {"key": "clean", "text": "Was the store clean?", "type": "yes_no", "critical": True},
            {"key": "staff", "text": "Staff behaviour", "type": "choice", "options": [
                {"value": "warm", "label": "Warm", "points": 2},
                {"value": "neutral", "label": "Neutral", "points": 1},
                {"value": "rude", "label": "Rude", "points": 0}]},
            {"key": "why", "text": "Why?", "type": "text",
             "show_if": {"question": "staff", "in": ["rude"]}},
        ]},
    ],
}  # fmt: skip
POOR = {"greeted": "no", "wait_s": 45, "clean": "yes", "staff": "rude", "why": "Ignored me"}
GOOD = {"greeted": "yes", "wait_s": 10, "clean": "yes", "staff": "warm"}
SHOPPER_NAME = "Sam Shopperton"


def build_world(app, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    client = make_client("APL", name="Appeal brand", appeal_days=14, appeal_decision_days=7)
    other = make_client("APO", name="Other brand")
    north = make_region(client, "AN", name="North")
    south = make_region(client, "AS", name="South")
    n1 = make_store(client, north, "N1", name="North one")
    n2 = make_store(client, north, "N2", name="North two")
    s1 = make_store(client, south, "S1", name="South one")
    w = SimpleNamespace(
        app=app, client=client, other=other, north=north, south=south, n1=n1, n2=n2, s1=s1,
        sue=make_user("sue.appeal@example.com", "store_manager", client=client, stores=[n1],
                      name="Sue Manager"),
        ned=make_user("ned.appeal@example.com", "store_manager", client=client, stores=[n2]),
        rex=make_user("rex.appeal@example.com", "regional_manager", client=client,
                      regions=[north]),
        rhea=make_user("rhea.appeal@example.com", "regional_manager", client=client,
                       regions=[south]),
        cora=make_user("cora.appeal@example.com", "coordinator", clients=[client],
                       name="Cora Coordinator"),
        otto=make_user("otto.appeal@example.com", "coordinator", clients=[other]),
        rita=make_user("rita.appeal@example.com", "reviewer", clients=[client]),
        adam=make_user("adam.appeal@example.com", "admin"),
        sam=make_shopper("sam.appeal@example.com", name=SHOPPER_NAME),
        hour=0,
    )  # fmt: skip
    checklist = checklists.create_checklist(client, "", None, DOC)
    db.session.flush()
    w.version = checklists.publish(checklists.draft_of(checklist), None)
    w.questions = dict(
        db.session.execute(
            select(ChecklistQuestion.key, ChecklistQuestion.id).where(
                ChecklistQuestion.version_id == w.version.id
            )
        ).all()
    )
    published = utcnow() - timedelta(days=2)
    w.wave = make_wave(w, "Spring", published)
    w.poor = make_visit(w, w.wave, n1, POOR)
    w.good = make_visit(w, w.wave, n1, GOOD)
    w.n2_visit = make_visit(w, w.wave, n2, POOR)
    return w


def make_wave(w: Any, name: str, published: datetime | None) -> Wave:
    wave = Wave(
        client=w.client, checklist_version=w.version, name=name, status="open",
        starts_on=(utcnow() - timedelta(days=40)).date(),
        ends_on=(utcnow() - timedelta(days=10)).date(),
        stores=[w.n1, w.n2, w.s1], published_at=published,
    )  # fmt: skip
    db.session.add(wave)
    db.session.flush()
    return wave


def make_visit(w: Any, wave: Wave, store: Any, answers: dict[str, Any]) -> Visit:
    """An approved visit with these answers and its results recorded, approved before
    its wave was published."""
    w.hour += 3
    start = datetime.combine(wave.starts_on, datetime.min.time(), UTC) + timedelta(hours=w.hour)
    visit = new_visit(
        "assigned", w.sam.id,
        wave=wave, store=store, checklist_version_id=w.version.id, slot="midday",
        window_start=start, window_end=start + timedelta(hours=1),
        assigned_at=start - timedelta(days=3),
    )  # fmt: skip
    for key, value in answers.items():
        db.session.add(VisitAnswer(visit_id=visit.id, question_id=w.questions[key], value=value))
    db.session.flush()
    walk_to(visit, APPROVED, w.sam.id)
    visit.approved_at = start + timedelta(days=1)
    record_results(visit)
    db.session.flush()
    return visit


def jpeg() -> bytes:
    return encode(halves((64, 48)), "JPEG")


def answers_of(visit: Visit) -> dict[str, Any]:
    return {k: r.value for k, r in stored_answers(visit).items()}


def cli_score(version: Any, answers: dict[str, Any], tmp_path: Path, **scoring_changes: Any) -> Any:
    """What `python -m scoring CHECKLIST.json ANSWERS.json` prints, as its own process."""
    document = scoring.dump_checklist(checklists.scoring_checklist(version))
    document["scoring"] = {**document.get("scoring", {}), **scoring_changes}
    checklist_path, answers_path = tmp_path / "checklist.json", tmp_path / "answers.json"
    checklist_path.write_text(scoring.dumps_exact(document))
    answers_path.write_text(json.dumps(answers))
    done = subprocess.run(
        [sys.executable, "-m", "scoring", str(checklist_path), str(answers_path)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout, parse_float=Decimal)
