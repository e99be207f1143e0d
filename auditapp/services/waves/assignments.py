"""Who does which visit: claiming, direct assignment, accepting, declining,
rescheduling, reassigning, cancelling, and visits that were missed.

Double-booking is refused by the database, not by a check-then-write in Python:
a visit is taken with a conditional UPDATE (only while it is still open), so of two
simultaneous claims exactly one changes a row; a shopper's overlapping visits are
refused by the overlap constraint created in the migration.

On PostgreSQL two transactions giving the same shopper two overlapping visits would
each wait on the other's uncommitted row while checking that constraint, a deadlock
the server breaks by killing one of them; so changes to one shopper's bookings first
take a lock on that shopper (see _lock_shopper). SQLite lets one writer in at a time.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from ...db_setup import end_reading
from ...errors import Conflict, DomainError
from ...extensions import db
from ...models import ShopperProfile, User, utcnow
from ...models.waves import (
    ACCEPTED,
    ASSIGNED,
    BOOKED_STATUSES,
    CANCELLED,
    MISSED,
    PLANNED,
    Visit,
)
from ..core import log, move


class VisitTaken(Conflict):
    pass


class VisitOverlap(Conflict):
    pass


def _lock_shopper(shopper_id: int | None) -> None:
    """Queues changes to one shopper's bookings behind each other until commit."""
    if shopper_id is not None and db.session.get_bind().dialect.name == "postgresql":
        # Two-key form: the first key names this lock's purpose among advisory locks.
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:purpose, :shopper)"),
            {"purpose": _SHOPPER_BOOKINGS_LOCK, "shopper": shopper_id},
        )


_SHOPPER_BOOKINGS_LOCK = 4201


def take_visit(visit_id: int, shopper: ShopperProfile, actor: User | None, status: str) -> Visit:
    """Gives an open visit to the shopper; exactly one of concurrent takers succeeds."""
    return _take(visit_id, shopper.id, actor, status)


def _take(visit_id: int, shopper_id: int, actor: User | None, status: str) -> Visit:
    """The conditional UPDATE itself. Takes plain ids so that nothing has to be loaded
    (no read) before it runs; see claim() for why that matters on SQLite."""
    now = utcnow()
    _lock_shopper(shopper_id)
    try:
        with db.session.begin_nested():
            result = db.session.execute(
                update(Visit)
                .where(Visit.id == visit_id, Visit.status == PLANNED, Visit.shopper_id.is_(None))
                .values(
                    shopper_id=shopper_id,
                    status=status,
                    assigned_at=now,
                    accepted_at=now if status == ACCEPTED else None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        raise VisitOverlap(_("You already have a visit at that time.")) from None
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise VisitTaken(_("Someone else has just taken this visit."))
    visit = db.session.get(Visit, visit_id, populate_existing=True)
    assert visit is not None
    log(visit, status, actor, before=PLANNED)
    return visit


def open_claims(shopper: ShopperProfile, wave_id: int) -> int:
    return _booked_in_wave(shopper.id, wave_id)


def _booked_in_wave(shopper_id: int, wave_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(Visit.id)).where(
                Visit.shopper_id == shopper_id,
                Visit.wave_id == wave_id,
                Visit.status.in_(BOOKED_STATUSES),
            )
        )
        or 0
    )


class ClaimLimitReached(DomainError):
    pass


def claim(visit: Visit, shopper: ShopperProfile, reasons: list[str]) -> Visit:
    """A shopper takes an open visit from the shopboard; claiming is accepting.
    `reasons` are the eligibility rules that exclude them (empty when eligible).

    The claim runs in a transaction of its own whose first statement is the
    conditional UPDATE: the read-only transaction that loaded the page's objects is
    committed first, so call this before writing anything else. On SQLite in WAL mode
    a transaction that has read cannot become a writer once another writer has
    committed ("database is locked", without waiting); one that starts by writing
    waits its turn and then sees the winner's row.

    The claim limit is checked again after the UPDATE, inside the same savepoint, so a
    shopper's two quick claims cannot both slip under it (exact on SQLite, where
    writers take turns; on PostgreSQL two claims committing at the same instant could
    still exceed it by one: the limit is a courtesy, the overlap rule is the guarantee).
    """
    if reasons:
        raise DomainError(_("You cannot take this visit: %(why)s", why="; ".join(reasons)))
    limit = visit.wave.claim_limit
    refusal = _("You already hold %(n)d visits of this wave, the most allowed.", n=limit)
    if open_claims(shopper, visit.wave_id) >= limit:
        raise ClaimLimitReached(refusal)
    visit_id, wave_id, shopper_id, user = visit.id, visit.wave_id, shopper.id, shopper.user
    end_reading()
    with db.session.begin_nested():
        taken = _take(visit_id, shopper_id, user, ACCEPTED)
        if _booked_in_wave(shopper_id, wave_id) > limit:
            raise ClaimLimitReached(refusal)
    return taken


def assign(visit: Visit, shopper: ShopperProfile, actor: User) -> Visit:
    """A coordinator gives the visit to a shopper, who then accepts or declines."""
    return take_visit(visit.id, shopper, actor, ASSIGNED)


def accept(visit: Visit, shopper: ShopperProfile) -> Visit:
    if visit.shopper_id != shopper.id or visit.status != ASSIGNED:
        raise DomainError(_("This visit is not waiting for your answer."))
    visit.accepted_at = utcnow()
    return move(visit, ACCEPTED, shopper.user)


def release(visit: Visit, actor: User | None, note: str) -> Visit:
    """The visit goes back to the open pool (declined, withdrawn or unassigned)."""
    if visit.status not in (ASSIGNED, ACCEPTED):
        raise DomainError(_("Only an assigned visit that has not started can be released."))
    move(visit, PLANNED, actor, note)
    visit.shopper_id = None
    visit.assigned_at = visit.accepted_at = None
    return visit


def decline(visit: Visit, shopper: ShopperProfile, note: str = "") -> Visit:
    if visit.shopper_id != shopper.id:
        raise DomainError(_("This visit is not yours."))
    return release(visit, shopper.user, note or _("Declined by the shopper"))


def reassign(visit: Visit, shopper: ShopperProfile, actor: User, note: str = "") -> Visit:
    release(visit, actor, note or _("Reassigned"))
    db.session.flush()
    return assign(visit, shopper, actor)


def reschedule(visit: Visit, start: datetime, end: datetime, actor: User) -> Visit:
    wave = visit.wave
    if visit.status not in (PLANNED, ASSIGNED, ACCEPTED):
        raise DomainError(_("A visit that has started can no longer be moved."))
    if end <= start:
        raise DomainError(_("The visit must end after it starts."))
    zone = ZoneInfo(visit.store.timezone)  # the period is in the store's calendar days
    if not (
        wave.starts_on
        <= start.astimezone(zone).date()
        <= end.astimezone(zone).date()
        <= wave.ends_on
    ):
        raise DomainError(_("The new time must be inside the wave's period."))
    _lock_shopper(visit.shopper_id)
    try:
        with db.session.begin_nested():
            visit.window_start, visit.window_end = start, end
            db.session.flush()
    except IntegrityError:
        raise VisitOverlap(_("The shopper already has a visit at that time.")) from None
    log(visit, visit.status, actor, _("Rescheduled"), before=visit.status)
    return visit


def cancel(visit: Visit, actor: User, note: str) -> Visit:
    if visit.status not in (PLANNED, ASSIGNED, ACCEPTED):
        raise DomainError(_("A visit that has started cannot be cancelled."))
    return move(visit, CANCELLED, actor, note)


# Points a shopper's reliability loses for each visit accepted and then missed. The
# rating starts where the coordinator set it (80 for a new shopper) and only moves
# down for misses, so a rating entered by hand is never overwritten by a formula.
MISS_PENALTY = 10


def mark_missed(now: datetime | None = None) -> list[Visit]:
    """Visits not started by the end of their window become missed. A shopper who had
    accepted the visit loses MISS_PENALTY reliability points (never below 0); one who
    was assigned but never accepted loses nothing: it was not their promise."""
    now = now or utcnow()
    late = db.session.scalars(
        select(Visit).where(Visit.status.in_((ASSIGNED, ACCEPTED)), Visit.window_end < now)
    ).all()
    for visit in late:
        before = visit.status
        move(visit, MISSED, None, _("Not started before the end of its window"))
        if before == ACCEPTED and visit.shopper is not None:
            visit.shopper.reliability = max(0, visit.shopper.reliability - MISS_PENALTY)
    return list(late)
