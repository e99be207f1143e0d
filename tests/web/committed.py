"""For tests that commit for real (races between threads cannot run inside the
rolled-back test transaction): the `committed` fixture, thread-local sessions that
really commit, and the clean-up that deletes, children first, what one client's test
world created."""

from collections.abc import Iterable, Iterator

import pytest
from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session, sessionmaker

from auditapp.extensions import db
from auditapp.models import (
    Checklist,
    ChecklistOption,
    ChecklistQuestion,
    ChecklistSection,
    ChecklistVersion,
    Client,
    OutboxMail,
    Region,
    ShopperConflict,
    ShopperProfile,
    Store,
    User,
)
from auditapp.models.answers import VisitAnswer, VisitComment, VisitDraft, VisitSubmission
from auditapp.models.waves import Visit, VisitEvent, Wave, wave_stores

VISIT_CHILDREN = (VisitAnswer, VisitComment, VisitDraft, VisitSubmission, VisitEvent)


def remove_committed(
    engine: Engine,
    *,
    client_id: int,
    region_id: int,
    store_id: int,
    checklist_id: int,
    wave_id: int,
    shopper_ids: Iterable[int],
    user_ids: Iterable[int],
) -> None:
    """Plain DELETEs (no ORM events), so nothing the app would do on delete interferes."""
    shopper_ids, user_ids = list(shopper_ids), list(user_ids)
    with engine.begin() as conn:
        visits = select(Visit.id).where(Visit.wave_id == wave_id)
        for model in VISIT_CHILDREN:
            conn.execute(delete(model).where(model.visit_id.in_(visits)))  # type: ignore[attr-defined]
        conn.execute(delete(Visit).where(Visit.wave_id == wave_id))
        conn.execute(delete(wave_stores).where(wave_stores.c.wave_id == wave_id))
        conn.execute(delete(Wave).where(Wave.id == wave_id))
        versions = select(ChecklistVersion.id).where(ChecklistVersion.checklist_id == checklist_id)
        sections = select(ChecklistSection.id).where(ChecklistSection.version_id.in_(versions))
        questions = select(ChecklistQuestion.id).where(ChecklistQuestion.section_id.in_(sections))
        conn.execute(delete(ChecklistOption).where(ChecklistOption.question_id.in_(questions)))
        conn.execute(delete(ChecklistQuestion).where(ChecklistQuestion.section_id.in_(sections)))
        conn.execute(delete(ChecklistSection).where(ChecklistSection.version_id.in_(versions)))
        conn.execute(delete(ChecklistVersion).where(ChecklistVersion.id.in_(versions)))
        conn.execute(delete(Checklist).where(Checklist.id == checklist_id))
        conn.execute(delete(ShopperConflict).where(ShopperConflict.shopper_id.in_(shopper_ids)))
        conn.execute(delete(ShopperProfile).where(ShopperProfile.id.in_(shopper_ids)))
        # Mail the world's people were sent (alerts, notices) names them, not their ids.
        emails = select(User.email).where(User.id.in_(user_ids))
        conn.execute(delete(OutboxMail).where(OutboxMail.to.in_(emails)))
        conn.execute(delete(User).where(User.id.in_(user_ids)))
        conn.execute(delete(Store).where(Store.id == store_id))
        conn.execute(delete(Region).where(Region.id == region_id))
        conn.execute(delete(Client).where(Client.id == client_id))


@pytest.fixture
def committed(app: Flask) -> Iterator[Engine]:
    """Thread-local sessions that really commit, for the length of the test."""
    with app.app_context():
        engine = db.engine
    saved = db.session
    db.session = scoped_session(sessionmaker(bind=engine))  # type: ignore[misc]
    try:
        yield engine
    finally:
        db.session.remove()
        db.session = saved  # type: ignore[misc]
