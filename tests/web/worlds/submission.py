"""The submission world, shared by the submission, visit form query and returned visit
tests: a shopper's visit in progress on a checklist whose scores are easy to follow,
and the form's answers that submit it."""

import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from auditapp.clock import utcnow
from auditapp.extensions import db
from auditapp.models import ChecklistVersion, Client, ShopperProfile, Store
from auditapp.models.waves import IN_PROGRESS, Visit, Wave
from auditapp.services.checklists import versions as checklists
from tests.web.statuses import new_visit
from tests.web.worlds.visit_form import post

DOC: dict[str, Any] = {
    "title": "Crafted checks",
    "language": "en",
    "scoring": {"method": "pooled", "pass_mark": 80, "decimals": 1,
                "bands": [{"min": 90, "label": "Excellent"}, {"min": 0, "label": "Poor"}]},
    "sections": [
        {"key": "main", "title": "Main", "questions": [
            {"key": "greeted", "text": "Greeted?", "type": "yes_no", "required": True,
             "na_allowed": True},
            {"key": "wait_s", "text": "Seconds until first contact", "type": "number",
             "min": 0, "max": 600, "required": True,
             "bands": [{"max": 30, "points": 2}, {"max": 120, "points": 1}, {"points": 0}]},
            {"key": "staff", "text": "Staff behaviour", "type": "choice", "required": True,
             "options": [{"value": "warm", "label": "Warm", "points": 2},
                         {"value": "neutral", "label": "Neutral", "points": 1},
                         {"value": "rude", "label": "Rude", "points": 0}]},
            {"key": "why", "text": "Why?", "type": "text", "required": True,
             "show_if": {"question": "staff", "in": ["rude"]}},
            {"key": "extras", "text": "What was offered?", "type": "multi",
             "options": [{"value": "bag", "label": "A bag", "points": 1},
                         {"value": "card", "label": "A loyalty card", "points": 2},
                         {"value": "upsell", "label": "A pushy upsell", "points": -1}]},
            {"key": "rating", "text": "Overall", "type": "scale", "min": 1, "max": 5},
        ]},
        {"key": "exit", "title": "Exit", "questions": [
            {"key": "thanked", "text": "Thanked?", "type": "yes_no"},
        ]},
    ],
}  # fmt: skip

GOOD = {
    "q_greeted": "yes",
    "q_wait_s": "45",
    "q_staff": "neutral",
    "q_extras": ["bag", "upsell"],
    "q_rating": "3",
    "q_thanked": "no",
    "comment_main": "Quiet store.",
}
JSON = {"Accept": "application/json"}


@pytest.fixture
def world(make_client, make_region, make_store, make_shopper):
    client = make_client("SUBM", name="Submission brand")
    store = make_store(client, make_region(client, "R1"), "S1")
    ann = make_shopper("ann.subm@example.com", name="Ann")
    checklist = checklists.create_checklist(client, "", None, DOC)
    version = checklists.publish(checklist.versions[0], None)
    wave = _wave(client, store, version)
    visit = _visit(wave, store, ann, 0)
    db.session.commit()
    return SimpleNamespace(ann=ann, visit=visit, version=version)


def _wave(client: Client, store: Store, version: ChecklistVersion) -> Wave:
    today = utcnow().date()
    wave = Wave(
        client=client, checklist_version=version, name=f"Wave {uuid.uuid4().hex[:6]}",
        starts_on=today, ends_on=today + timedelta(days=60), status="open", stores=[store],
    )  # fmt: skip
    db.session.add(wave)
    db.session.flush()
    return wave


def _visit(wave: Wave, store: Store, shopper: ShopperProfile, day: int) -> Visit:
    start = utcnow().replace(hour=2, minute=0, second=0, microsecond=0)
    start += timedelta(days=3 + day)
    return new_visit(
        IN_PROGRESS, shopper=shopper,
        wave=wave, store=store, checklist_version_id=wave.checklist_version_id, slot="midday",
        window_start=start, window_end=start + timedelta(hours=1), started_at=start,
    )  # fmt: skip


def _submit(client, visit, headers=None, submission_id="sub-0000-0001", **fields):
    url = f"/my/visits/{visit.id}/submit"
    return post(client, url, headers, submission_id=submission_id, action="submit", **fields)
