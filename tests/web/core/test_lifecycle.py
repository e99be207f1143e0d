"""The visit lifecycle is a state machine held by the database: every allowed status
change works through the service and the database, every other one is refused by
both (the service with a message, the database with its trigger, whoever writes)."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from auditapp.extensions import db
from auditapp.models import utcnow
from auditapp.models.waves import (
    APPROVED,
    PLANNED,
    TRANSITIONS,
    UNSTAFFED_STATUSES,
    VISIT_STATUSES,
    VisitTransition,
)
from auditapp.services.core import lifecycle
from tests.web.access.my_visits import make_visit, make_wave
from tests.web.statuses import walk_to

ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
REFUSED = [
    (a, b) for a in VISIT_STATUSES for b in VISIT_STATUSES if a != b and b not in TRANSITIONS[a]
]


@pytest.fixture
def scene(make_client, make_region, make_store, make_shopper, make_user):
    client = make_client("LIFE", name="Lifecycle brand")
    store = make_store(client, make_region(client, "R1"), "L1")
    shopper = make_shopper("life.shopper@example.com")
    reviewer = make_user("life.reviewer@example.com", "reviewer", clients=[client])
    wave = make_wave(client, [store])
    return type(
        "Scene", (), {"store": store, "shopper": shopper, "reviewer": reviewer, "wave": wave}
    )


def _visit_in(scene, status):
    start = utcnow().replace(microsecond=0) + timedelta(days=5)
    visit = make_visit(scene.wave, scene.store, start, shopper=scene.shopper)
    return walk_to(visit, status)


def _fit_for(visit, status, shopper_id):
    """The other columns the target status needs (its CHECK constraints), so that only
    the status change itself is on trial."""
    visit.shopper_id = None if status == PLANNED else shopper_id
    if status not in UNSTAFFED_STATUSES:
        visit.shopper_id = shopper_id
    if status == APPROVED:
        visit.approved_at = utcnow()


def test_the_database_holds_the_same_transitions_as_the_code():
    rows = db.session.execute(select(VisitTransition.from_status, VisitTransition.to_status))
    assert sorted(rows) == sorted(ALLOWED)


@pytest.mark.parametrize(("before", "after"), ALLOWED)
def test_every_allowed_transition_is_made_and_logged(scene, before, after):
    visit = _visit_in(scene, before)
    _fit_for(visit, after, scene.shopper.id)
    lifecycle.move(visit, after, scene.reviewer, "why")
    db.session.flush()
    db.session.expire(visit)
    assert visit.status == after
    event = visit.events[-1]
    assert (event.from_status, event.to_status, event.actor, event.note) == (
        before,
        after,
        scene.reviewer,
        "why",
    )


@pytest.mark.parametrize(("before", "after"), REFUSED)
def test_every_other_transition_is_refused_by_the_service(scene, before, after):
    visit = _visit_in(scene, before)
    events = len(visit.events)
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.move(visit, after, scene.reviewer)
    assert visit.status == before
    assert len(visit.events) == events


@pytest.mark.parametrize(("before", "after"), REFUSED)
def test_every_other_transition_is_refused_by_the_database(scene, before, after):
    visit = _visit_in(scene, before)
    shopper_id = None if after == PLANNED else scene.shopper.id
    approved_at = utcnow().replace(tzinfo=None) if after == APPROVED else None
    with pytest.raises(IntegrityError, match="visit_status_transition"), db.session.begin_nested():
        db.session.execute(
            text(
                "UPDATE visit SET status = :status, shopper_id = :shopper,"
                " approved_at = :approved WHERE id = :id"
            ),
            {"status": after, "shopper": shopper_id, "approved": approved_at, "id": visit.id},
        )
    db.session.expire(visit)
    assert visit.status == before


@pytest.mark.parametrize(("before", "after"), ALLOWED)
def test_the_database_accepts_each_allowed_transition_from_any_writer(scene, before, after):
    visit = _visit_in(scene, before)
    shopper_id = None if after == PLANNED else scene.shopper.id
    approved_at = utcnow().replace(tzinfo=None) if after == APPROVED else None
    db.session.execute(
        text(
            "UPDATE visit SET status = :status, shopper_id = :shopper,"
            " approved_at = :approved WHERE id = :id"
        ),
        {"status": after, "shopper": shopper_id, "approved": approved_at, "id": visit.id},
    )
    db.session.expire(visit)
    assert visit.status == after


def test_final_states_have_no_way_out():
    for status in (APPROVED, "cancelled", "missed"):
        assert TRANSITIONS[status] == ()
