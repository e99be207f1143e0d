"""What shoppers earn: one pay line per approved visit (the wave's fee plus the
receipted expenses up to the wave's cap), and the payment runs that settle them.

A payment run is a batch of one client's lines, exported for the bank and then marked
paid. A line is in at most one run: lines join a run with a conditional UPDATE (only
those whose run_id is still empty), and the rows it changed are counted, so two
coordinators making runs at the same moment can never both take a line. A paid run
is final; an unpaid one can still lose lines or be cancelled, under a write lock on
the run's row so that "mark paid" and a change can never interleave.

Every write here starts with db_setup.end_reading(): the read-only transaction that loaded
the page ends first, so on SQLite the write transaction begins by writing and waits
its turn instead of failing (see assignments.claim).
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import has_app_context
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, case, delete, func, select, update
from sqlalchemy.orm import selectinload

from forms.pay import REFERENCE_MAX

from ...db_setup import end_reading
from ...errors import Conflict, DomainError
from ...extensions import db
from ...models import Client, ShopperProfile, User, utcnow
from ...models.answers import Evidence
from ...models.pay import PayLine, PaymentRun
from ...models.waves import Visit

# A line's state, as both sides see it.
PENDING = "pending"  # approved, waiting for a payment run
IN_RUN = "in_run"  # in a payment run that is not paid yet
PAID = "paid"

# Why less was paid than claimed (None: nothing to explain).
NO_RECEIPT = "no_receipt"
CAPPED = "capped"


class NothingToPay(DomainError):
    """No pending line matched: the run would be empty."""


class LinesTaken(Conflict):
    """Some chosen lines are no longer pending (another run took them meanwhile)."""


class RunPaid(Conflict):
    """A paid run is final."""


# --- recording ---------------------------------------------------------------------


def receipt_of(visit: Visit) -> Evidence | None:
    """The visit's latest receipt image, if the shopper uploaded one."""
    return db.session.scalars(
        select(Evidence)
        .where(Evidence.visit_id == visit.id, Evidence.kind == "receipt")
        .order_by(Evidence.id.desc())
    ).first()


def record_pay_line(visit: Visit) -> PayLine:
    """The pay line of a visit being approved (called once, by the approval).

    Expenses are paid only against a receipt, and never above the wave's cap; what
    was claimed is kept beside what is paid so the difference can be explained."""
    assert visit.shopper_id is not None, "an approved visit has a shopper"
    wave = visit.wave
    receipt = receipt_of(visit)
    claimed = visit.expense_claimed or Decimal("0")
    paid = min(claimed, wave.expense_cap) if receipt is not None else Decimal("0")
    line = PayLine(
        visit_id=visit.id,
        shopper_id=visit.shopper_id,
        client_id=wave.client_id,
        fee=wave.fee,
        expenses_claimed=claimed,
        expenses_paid=paid,
        total=wave.fee + paid,
        currency=wave.currency,
        receipt_id=receipt.id if receipt is not None else None,
    )
    db.session.add(line)
    return line


# --- reading a line ----------------------------------------------------------------


def line_status(line: PayLine) -> str:
    if line.run is None:
        return PENDING
    return PAID if line.run.paid_at is not None else IN_RUN


def expense_reason(line: PayLine) -> str | None:
    """Why the expenses paid are less than claimed: no receipt, or the wave's cap
    (which, when it cut the claim, is exactly what was paid)."""
    if line.expenses_paid >= line.expenses_claimed:
        return None
    if line.receipt_id is None and line.expenses_paid == 0:
        return NO_RECEIPT
    return CAPPED


def visit_day(visit: Visit) -> date:
    """The day of the visit in the store's own time zone (when it was done, else
    when it was planned)."""
    moment = visit.started_at or visit.window_start
    return moment.astimezone(ZoneInfo(visit.store.timezone)).date()


LINE_LOADS = (
    selectinload(PayLine.visit).selectinload(Visit.store),
    selectinload(PayLine.visit).selectinload(Visit.wave),
    selectinload(PayLine.shopper).selectinload(ShopperProfile.user),
    selectinload(PayLine.client),
    selectinload(PayLine.run),
)


# --- lists -------------------------------------------------------------------------


def pending_filter(
    scope: ColumnElement[bool], client_id: int | None = None, wave_id: int | None = None
) -> list[ColumnElement[bool]]:
    """Pending lines within `scope`, optionally of one client and one wave."""
    where = [scope, PayLine.run_id.is_(None)]
    if client_id is not None:
        where.append(PayLine.client_id == client_id)
    if wave_id is not None:
        where.append(PayLine.visit_id.in_(select(Visit.id).where(Visit.wave_id == wave_id)))
    return where


def lines_query(*where: ColumnElement[bool]) -> Select[PayLine]:
    """Lines with what a list shows loaded, oldest visit first."""
    return (
        select(PayLine)
        .join(Visit, PayLine.visit_id == Visit.id)
        .where(*where)
        .options(*LINE_LOADS)
        .order_by(PayLine.client_id, Visit.window_start, PayLine.id)
    )


# --- totals ------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """Sums of a set of lines in one currency."""

    currency: str
    lines: int
    fee: Decimal
    claimed: Decimal
    expenses: Decimal
    total: Decimal


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def totals(*where: ColumnElement[bool]) -> list[Totals]:
    """Totals per currency of the lines matching `where`."""
    return _grouped(None, *where).get(None, [])


def totals_by(key: Any, *where: ColumnElement[bool]) -> dict[Any, list[Totals]]:
    """Totals per currency for each value of `key` (PayLine.client_id, PayLine.run_id)."""
    return _grouped(key, *where)


def _grouped(key: Any, *where: ColumnElement[bool]) -> dict[Any, list[Totals]]:
    keys = [] if key is None else [key]
    rows = db.session.execute(
        select(
            *keys,
            PayLine.currency,
            func.count(PayLine.id),
            func.sum(PayLine.fee),
            func.sum(PayLine.expenses_claimed),
            func.sum(PayLine.expenses_paid),
            func.sum(PayLine.total),
        )
        .where(*where)
        .group_by(*keys, PayLine.currency)
        .order_by(*keys, PayLine.currency)
    ).all()
    found: dict[Any, list[Totals]] = {}
    for row in rows:
        group = row[0] if keys else None
        *_key, currency, count, fee, claimed, expenses, total = row
        found.setdefault(group, []).append(
            Totals(currency, int(count), *(_money(v) for v in (fee, claimed, expenses, total)))
        )
    return found


@dataclass(frozen=True)
class Earnings:
    """A shopper's money in one currency: all earned, still to be paid, paid."""

    currency: str
    lines: int
    earned: Decimal
    unpaid: Decimal
    paid: Decimal


def earnings(shopper: ShopperProfile) -> list[Earnings]:
    paid = case((PaymentRun.paid_at.is_not(None), PayLine.total), else_=0)
    rows = db.session.execute(
        select(PayLine.currency, func.count(PayLine.id), func.sum(PayLine.total), func.sum(paid))
        .outerjoin(PaymentRun, PayLine.run_id == PaymentRun.id)
        .where(PayLine.shopper_id == shopper.id)
        .group_by(PayLine.currency)
        .order_by(PayLine.currency)
    ).all()
    out = []
    for currency, count, earned, settled in rows:
        earned, settled = _money(earned), _money(settled)
        out.append(Earnings(currency, int(count), earned, earned - settled, settled))
    return out


def shopper_lines(shopper: ShopperProfile) -> Select[PayLine]:
    """The shopper's own lines, newest first."""
    return (
        select(PayLine)
        .where(PayLine.shopper_id == shopper.id)
        .options(*LINE_LOADS)
        .order_by(PayLine.created_at.desc(), PayLine.id.desc())
    )


# --- runs --------------------------------------------------------------------------


def create_run(
    client: Client,
    actor: User,
    line_ids: Sequence[int] | None = None,
    wave_id: int | None = None,
) -> PaymentRun:
    """A payment run of the client's pending lines: all of them (of one wave, if
    given), or exactly the chosen ones.

    The lines are taken with one conditional UPDATE (run_id still empty) and the rows
    it changed are counted: a line another run took meanwhile is not taken again. A
    choice of lines is all or nothing (the coordinator saw those totals); "all" takes
    whatever is still pending. Nothing is left behind when it refuses."""
    wanted = sorted(set(line_ids)) if line_ids is not None else None
    if wanted is not None and not wanted:
        raise NothingToPay(_("Choose at least one line to pay."))
    client_id, actor_id = client.id, actor.id
    end_reading()
    with db.session.begin_nested():
        run = PaymentRun(client_id=client_id, created_by_id=actor_id, created_at=utcnow())
        db.session.add(run)
        db.session.flush()
        take = update(PayLine).where(PayLine.client_id == client_id, PayLine.run_id.is_(None))
        if wanted is not None:
            take = take.where(PayLine.id.in_(wanted))
        if wave_id is not None:
            of_wave = select(Visit.id).where(Visit.wave_id == wave_id)
            take = take.where(PayLine.visit_id.in_(of_wave))
        result = db.session.execute(
            take.values(run_id=run.id).execution_options(synchronize_session=False)
        )
        taken = result.rowcount  # type: ignore[attr-defined]
        if taken == 0:
            raise NothingToPay(
                _("There is nothing to pay: no line is waiting for a payment run.")
                if wanted is None
                else _("None of the chosen lines is waiting for a payment run any more.")
            )
        if wanted is not None and taken != len(wanted):
            raise LinesTaken(
                _(
                    "Only %(taken)d of the %(chosen)d chosen lines are still waiting for "
                    "a payment run (another run took the others meanwhile). Nothing was "
                    "changed; choose again.",
                    taken=taken,
                    chosen=len(wanted),
                )
            )
    db.session.expire(run)
    return run


def _lock_unpaid(run_id: int) -> None:
    """Takes the run's row for writing (a no-op UPDATE) if it is not paid, else
    refuses. "Mark paid" updates the same row, so the two take turns."""
    locked = db.session.execute(
        update(PaymentRun)
        .where(PaymentRun.id == run_id, PaymentRun.paid_at.is_(None))
        .values(reference=PaymentRun.reference)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        raise RunPaid(_("This payment run has been paid and can no longer be changed."))


def mark_paid(run: PaymentRun, actor: User, reference: str = "") -> PaymentRun:
    """Records that the bank paid the run; only once (a second time is refused with
    when and by whom it was paid)."""
    reference = " ".join(reference.split())
    if len(reference) > REFERENCE_MAX:
        raise DomainError(_("The reference may have at most %(n)d characters.", n=REFERENCE_MAX))
    run_id, actor_id = run.id, actor.id
    end_reading()
    with db.session.begin_nested():
        result = db.session.execute(
            update(PaymentRun)
            .where(
                PaymentRun.id == run_id,
                PaymentRun.paid_at.is_(None),
                select(PayLine.id).where(PayLine.run_id == run_id).exists(),
            )
            .values(paid_at=utcnow(), paid_by_id=actor_id, reference=reference)
            .execution_options(synchronize_session=False)
        )
        done = result.rowcount == 1  # type: ignore[attr-defined]
    fresh = db.session.get(PaymentRun, run_id, populate_existing=True)
    assert fresh is not None
    if not done:
        if fresh.paid_at is None:
            raise DomainError(_("This payment run has no lines to pay."))
        who = fresh.paid_by.name if fresh.paid_by is not None else "—"
        raise RunPaid(
            _(
                "This payment run was already marked paid (%(when)s, by %(who)s).",
                when=_format_moment(fresh.paid_at),
                who=who,
            )
        )
    return fresh


def _format_moment(moment: datetime) -> str:
    if not has_app_context():  # a script or a test without an app
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return str(format_datetime(moment, "short"))


def remove_line(run: PaymentRun, line: PayLine) -> None:
    """Takes a line out of an unpaid run; it is pending again."""
    run_id, line_id = run.id, line.id
    end_reading()
    with db.session.begin_nested():
        _lock_unpaid(run_id)
        moved = db.session.execute(
            update(PayLine)
            .where(PayLine.id == line_id, PayLine.run_id == run_id)
            .values(run_id=None)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(_("This line is no longer in the payment run."))


def cancel_run(run: PaymentRun) -> int:
    """Deletes an unpaid run; its lines are pending again. Returns how many."""
    run_id = run.id
    end_reading()
    with db.session.begin_nested():
        _lock_unpaid(run_id)
        released = db.session.execute(
            update(PayLine)
            .where(PayLine.run_id == run_id)
            .values(run_id=None)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(PaymentRun)
            .where(PaymentRun.id == run_id)
            .execution_options(synchronize_session=False)
        )
    return int(released.rowcount)  # type: ignore[attr-defined]


# --- the bank file -------------------------------------------------------------------

RUN_COLUMNS = (
    _l("Run"),
    _l("Shopper"),
    _l("Shopper email"),
    _l("Visit"),
    _l("Store code"),
    _l("Store"),
    _l("Visit date"),
    _l("Wave"),
    _l("Fee"),
    _l("Expenses claimed"),
    _l("Expenses paid"),
    _l("Total"),
    _l("Currency"),
    _l("Receipt"),
)


def run_header() -> list[str]:
    return [str(column) for column in RUN_COLUMNS]


def run_rows(run: PaymentRun) -> Iterator[list[object]]:
    """One row per line, amounts as plain numbers (12.50) for the bank's import."""
    lines = db.session.scalars(
        select(PayLine).where(PayLine.run_id == run.id).options(*LINE_LOADS).order_by(PayLine.id)
    )
    for line in lines:
        visit, user = line.visit, line.shopper.user
        yield [
            run.id, user.name, user.email, visit.id, visit.store.code, visit.store.name,
            visit_day(visit).isoformat(), visit.wave.name, _money(line.fee),
            _money(line.expenses_claimed), _money(line.expenses_paid), _money(line.total),
            line.currency, _("yes") if line.receipt_id is not None else _("no"),
        ]  # fmt: skip
