"""The review world (client REVW: North ── N1, North area ── NA1; South ── S1; and another
client's O1) and visits submitted into it through the real visit form service, whatever
integrity flags that writes removed again and exactly the flags a test asks for set;
approved ones too. Shared by the review, report, result, export, privacy and photo tests."""

import html as htmllib
import re
import uuid
from contextlib import nullcontext
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from flask import has_request_context
from sqlalchemy import delete, select

from auditapp.extensions import db
from auditapp.models import ChecklistQuestion, ShopperProfile, Store, utcnow
from auditapp.models.answers import VisitAnswer, VisitSubmission
from auditapp.models.review import VisitFlag
from auditapp.models.waves import IN_PROGRESS, Visit, Wave
from auditapp.services.checklists import versions as checklists
from auditapp.services.review import decisions as review
from auditapp.services.visits import form as visit_form
from auditapp.services.visits import integrity
from tests.conftest import csrf_token
from tests.web.statuses import new_visit

DOC: dict[str, Any] = {
    "title": "Review audit",
    "language": "en",
    "scoring": {"method": "pooled", "pass_mark": 80, "decimals": 1,
                "bands": [{"min": 90, "label": "Excellent"}, {"min": 0, "label": "Poor"}]},
    "sections": [
        {"key": "main", "title": "Main", "translations": {"zh": {"title": "主要"}}, "questions": [
            {"key": "greeted", "text": "Greeted?", "type": "yes_no", "required": True,
             "na_allowed": True, "translations": {"zh": {"text": "有人招呼您吗？"}}},
            {"key": "wait_s", "text": "Seconds until first contact", "type": "number",
             "min": 0, "max": 600, "required": True,
             "bands": [{"max": 30, "points": 2}, {"max": 120, "points": 1}, {"points": 0}]},
            {"key": "staff", "text": "Staff behaviour", "type": "choice", "required": True,
             "options": [{"value": "warm", "label": "Warm", "points": 2,
                          "translations": {"zh": {"label": "热情"}}},
                         {"value": "neutral", "label": "Neutral", "points": 1},
                         {"value": "rude", "label": "Rude", "points": 0}]},
            {"key": "why", "text": "Why?", "type": "text", "required": True,
             "show_if": {"question": "staff", "in": ["rude"]}},
            {"key": "extras", "text": "What was offered?", "type": "multi",
             "options": [{"value": "bag", "label": "A bag", "points": 1},
                         {"value": "card", "label": "A loyalty card", "points": 2},
                         {"value": "upsell", "label": "A pushy upsell", "points": -1}]},
            {"key": "rating", "text": "Overall", "type": "scale", "min": 1, "max": 5},
            {"key": "shelf", "text": "Photo of the shelf", "type": "photo"},
        ]},
        {"key": "exit", "title": "Exit", "questions": [
            {"key": "thanked", "text": "Thanked?", "type": "yes_no", "critical": True},
        ]},
    ],
}  # fmt: skip

# 4.5 of 10 points: greeted 1/1, wait 1/2, staff 1/2, extras 0/3, rating 0.5/1, thanked 1/1.
GOOD = {
    "q_greeted": "yes",
    "q_wait_s": "45",
    "q_staff": "neutral",
    "q_extras": ["bag", "upsell"],
    "q_rating": "3",
    "q_thanked": "yes",
    "comment_main": "Quiet store.",
}
BEST = GOOD | {"q_wait_s": "10", "q_staff": "warm", "q_extras": ["bag", "card"], "q_rating": "5"}
MID = GOOD | {"q_staff": "warm", "q_extras": ["card"], "q_rating": "5"}  # 8 of 10 points


def build_world(
    app, make_client, make_region, make_store, make_user, make_shopper
) -> SimpleNamespace:
    client = make_client("REVW", name="Review brand")
    north = make_region(client, "RN", name="North")
    north_area = make_region(client, "RNA", parent=north, name="North area", kind="area")
    south = make_region(client, "RS", name="South")
    other = make_client("OTHR", name="Other brand")
    w = SimpleNamespace(
        client=client, other=other, north=north, north_area=north_area, south=south,
        store_north=make_store(client, north, "N1", name="North store"),
        store_area=make_store(client, north_area, "NA1", name="North area store"),
        store_south=make_store(client, south, "S1", name="South store"),
        store_other=make_store(other, make_region(other, "OR"), "O1", name="Other store"),
        ann=make_shopper("ann.review@example.com", name="Ann Shopper"),
        bob=make_shopper("bob.review@example.com", name="Bob Shopper"),
        reviewer=make_user("rita.review@example.com", "reviewer", clients=[client],
                           name="Rita Reviewer"),
        coordinator=make_user("cora.review@example.com", "coordinator", clients=[client]),
        outsider=make_user("otto.review@example.com", "reviewer", clients=[other]),
        outsider_coordinator=make_user("oc.review@example.com", "coordinator", clients=[other]),
        admin=make_user("adam.review@example.com", "admin"),
        days=0,
        app=app,
    )  # fmt: skip
    w.version = _published(client)
    w.wave = _wave(client, w.version, "Spring wave", [w.store_north, w.store_area, w.store_south])
    w.wave2 = _wave(client, w.version, "Summer wave", [w.store_north])
    w.other_wave = _wave(other, _published(other), "Other wave", [w.store_other])
    w.wave.fee, w.wave.expense_cap = Decimal("80.00"), Decimal("50.00")
    db.session.commit()
    return w


def _published(client):  # type: ignore[no-untyped-def]
    checklist = checklists.create_checklist(client, "", None, DOC)
    db.session.flush()
    return checklists.publish(checklist.versions[0], None)


def _wave(client, version, name, stores) -> Wave:  # type: ignore[no-untyped-def]
    today = utcnow().date()
    wave = Wave(
        client=client, checklist_version=version, name=name, status="open", stores=stores,
        starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=30),
    )  # fmt: skip
    db.session.add(wave)
    db.session.flush()
    return wave


def submitted(
    w: SimpleNamespace,
    store: Store,
    shopper: ShopperProfile | None = None,
    *,
    wave: Wave | None = None,
    fields: dict[str, Any] | None = None,
    hours_ago: float | None = None,
    flags: tuple[str, ...] = (),
    located: bool = True,
) -> Visit:
    """A visit submitted through the real service, its flags exactly ``flags``."""
    with _context(w):
        return _submitted(w, store, shopper, wave, fields, hours_ago, flags, located)


def _context(w: SimpleNamespace) -> Any:
    """The services need a request (links, translations, configuration); a test that
    drives the app through its client holds none between requests."""
    return nullcontext() if has_request_context() else w.app.test_request_context()


def _submitted(  # type: ignore[no-untyped-def]
    w, store, shopper, wave, fields, hours_ago, flags, located
) -> Visit:
    shopper = shopper or w.ann
    wave = wave or (w.other_wave if store.client_id == w.other.id else w.wave)
    w.days += 1
    # Midday in the stores' time zone (UTC+8), inside their hours whatever the time now.
    start = (utcnow() - timedelta(days=w.days)).replace(hour=4, minute=0, second=0, microsecond=0)
    visit = new_visit(
        IN_PROGRESS, shopper.id,
        wave=wave, store=store, checklist_version_id=wave.checklist_version_id, slot="midday",
        window_start=start, window_end=start + timedelta(hours=1),
        started_at=start + timedelta(minutes=5), finished_at=start + timedelta(minutes=37),
        start_latitude=Decimal("31.231300") if located else None,
        start_longitude=Decimal("121.473700") if located else None,
        start_accuracy_m=12 if located else None,
    )  # fmt: skip
    sid = f"rv-{uuid.uuid4().hex}"
    visit_form.submit(visit, shopper.user, sid, fields or GOOD)
    db.session.execute(delete(VisitFlag).where(VisitFlag.visit_id == visit.id))
    submission = db.session.scalars(
        select(VisitSubmission).where(VisitSubmission.client_submission_id == sid)
    ).one()
    if hours_ago is not None:
        submission.submitted_at = utcnow() - timedelta(hours=hours_ago)
    for code in flags:
        detail = {"distance_m": 850, "limit_m": 300, "other_visit": "<b>#7</b>"}
        db.session.add(
            VisitFlag(
                visit_id=visit.id,
                submission_id=submission.id,
                code=code,
                penalty=integrity.PENALTIES[code],
                detail=detail,
            )  # fmt: skip
        )
    db.session.commit()
    return reload(visit)


def reload(visit: Visit) -> Visit:
    db.session.expire_all()
    found = db.session.get(Visit, visit.id)
    assert found is not None
    return found


def approved(w: SimpleNamespace, store: Store, fields: dict[str, Any], wave: Wave) -> Any:
    visit = submitted(w, store, wave=wave, fields=fields)
    with w.app.test_request_context():
        review.approve(visit, w.reviewer)
    db.session.commit()
    return visit


def current_answers(visit: Visit) -> dict[str, Any]:
    rows = db.session.execute(
        select(ChecklistQuestion.key, VisitAnswer.value)
        .join(VisitAnswer, VisitAnswer.question_id == ChecklistQuestion.id)
        .where(VisitAnswer.visit_id == visit.id)
    ).all()
    return dict(rows)  # type: ignore[arg-type]


@pytest.fixture
def w(app, make_client, make_region, make_store, make_user, make_shopper):
    return build_world(app, make_client, make_region, make_store, make_user, make_shopper)


# --- the review pages ------------------------------------------------------------------


def post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def url(visit, action=""):
    return f"/review/visits/{visit.id}" + (f"/{action}" if action else "")


def flags_html(page: str) -> str:
    """The markup of the screen's integrity section."""
    start = page.index('id="flags"')
    return page[start : page.index("</section>", start)]


def seen(markup: str) -> str:
    """The text as a reader sees it: tags dropped, entities read, spaces collapsed."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", markup)).split())


def flags_on_screen(client: Any, visit: Visit) -> tuple[str, str]:
    """(markup, text) of the visit's integrity section."""
    markup = flags_html(client.get(f"/review/visits/{visit.id}").text)
    return markup, seen(markup)
