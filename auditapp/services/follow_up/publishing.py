"""Publishing a wave's results to the client.

Rules decided here:

- Who sees a wave's results before and after publication: services/core/visibility.py.
- A coordinator publishes now, or schedules a time: ``publish_due`` (run by
  ``flask follow-up tick``) publishes the waves whose time has come. A schedule can be
  moved or cancelled until then; a published wave stays published.
- Publishing walks the wave's approved visits in the order they happened: each opens,
  reopens or verifies corrective actions (services/follow_up/actions.py) and raises its alerts
  (services/follow_up/alerts.py); then the wave's declining stores are alerted. A visit approved
  after its wave was published is published on approval, the same way.
"""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ...errors import DomainError
from ...extensions import db
from ...models import User, utcnow
from ...models.waves import APPROVED, Visit, Wave
from ..core import is_published
from . import actions, alerts


class NotPublishable(DomainError):
    status_code = 409


def publish_wave(wave: Wave, user: User | None, at: datetime | None = None) -> bool:
    """Publishes the wave now, or at ``at`` when that is later; True when published."""
    if is_published(wave):
        raise NotPublishable(_("This wave's results are already published."))
    now = utcnow()
    if at is not None and at > now:
        wave.publish_at = at
        wave.published_by_id = user.id if user is not None else None
        return False
    _publish(wave, user, now)
    return True


def cancel_schedule(wave: Wave) -> None:
    if is_published(wave):
        raise NotPublishable(_("This wave's results are already published."))
    wave.publish_at = None


def publish_due(now: datetime | None = None) -> list[Wave]:
    """Publishes every wave whose scheduled time has passed (each under a row lock, so
    two runs at once publish it once)."""
    now = now or utcnow()
    due = list(
        db.session.scalars(
            select(Wave)
            .where(Wave.published_at.is_(None), Wave.publish_at <= now)
            .order_by(Wave.publish_at, Wave.id)
            .with_for_update(skip_locked=True)
        )
    )
    for wave in due:
        publisher = db.session.get(User, wave.published_by_id) if wave.published_by_id else None
        _publish(wave, publisher, now)
    return due


def _publish(wave: Wave, user: User | None, now: datetime) -> None:
    wave.published_at = now
    wave.publish_at = None
    wave.published_by_id = user.id if user is not None else None
    db.session.flush()
    visits = db.session.scalars(
        select(Visit)
        .where(Visit.wave_id == wave.id, Visit.status == APPROVED)
        .order_by(Visit.started_at, Visit.window_start, Visit.id)
    )
    for visit in visits:
        visit_published(visit)
    alerts.wave_published(wave)


def visit_published(visit: Visit) -> None:
    """What publication does with one approved visit: its corrective actions and its
    alerts. Safe to run twice for a visit (both are keyed by it)."""
    actions.record_findings(visit)
    alerts.visit_published(visit)
