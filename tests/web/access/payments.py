"""Shopper pay is agency work: admins and the coordinators of the client manage pay
lines and payment runs; a coordinator of another client, reviewers and client staff
get 404. The pending list and the runs list belong to every coordinator (each sees
only their own clients). Earnings belong to shoppers, each seeing only their own.

Also the small builders the pay tests share: approved visits with their pay lines,
receipts, and a run. The objects are made on first use, committed (so they survive a
view's rollback), and kept on the cast: two approved visits of shopper A at client X,
one pending and one in an unpaid run."""

from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from flask import url_for

from auditapp.extensions import db
from auditapp.models import Evidence, ShopperProfile, Store, User, utcnow
from auditapp.models.pay import PayLine, PaymentRun
from auditapp.models.waves import Visit, Wave
from auditapp.services.pay.ledger import record_pay_line
from tests.web.statuses import walk_to

from . import ADMIN, COORDINATOR_X, COORDINATOR_Y, SHOPPER_A, SHOPPER_B, Route
from .my_visits import make_visit, make_wave

OF_CLIENT_X = frozenset({ADMIN, COORDINATOR_X})
COORDINATORS = frozenset({ADMIN, COORDINATOR_X, COORDINATOR_Y})
SHOPPERS = frozenset({SHOPPER_A, SHOPPER_B})


def make_receipt(visit: Visit, name: str = "receipt.jpg") -> Evidence:
    """A receipt row as an upload leaves it (the file itself is not needed here)."""
    evidence = Evidence(
        visit_id=visit.id,
        kind="receipt",
        client_upload_id=f"receipt-{visit.id}-{name}",
        sha256=f"{visit.id:064d}",
        content_type="image/jpeg",
        original_name=name,
        size_bytes=1234,
        stored_name=f"{visit.id}-{name}",
    )
    db.session.add(evidence)
    db.session.flush()
    return evidence


def approved_line(
    wave: Wave,
    store: Store,
    shopper: ShopperProfile,
    start: datetime,
    claimed: Decimal | str | None = None,
    receipt: bool = False,
) -> PayLine:
    """A visit walked to approved, with what the shopper claimed and maybe a
    receipt, and the pay line its approval records."""
    visit = make_visit(wave, store, start, shopper=shopper)
    visit.expense_claimed = Decimal(claimed) if claimed is not None else None
    if receipt:
        make_receipt(visit)
    walk_to(visit, "approved")
    line = record_pay_line(visit)
    db.session.flush()
    return line


def make_run(lines: list[PayLine], by: User, paid: bool = False) -> PaymentRun:
    run = PaymentRun(client_id=lines[0].client_id, created_by_id=by.id)
    db.session.add(run)
    db.session.flush()
    for line in lines:
        line.run_id = run.id
    if paid:
        run.paid_at, run.paid_by_id = utcnow(), by.id
    db.session.flush()
    return run


def _objects(cast: Any) -> SimpleNamespace:
    found = getattr(cast, "_payments", None)
    if found is None:
        wave = make_wave(
            cast.client_x, [cast.store_north], fee=Decimal("50"), expense_cap=Decimal("30")
        )
        start = utcnow().replace(microsecond=0) - timedelta(days=10)
        pending = approved_line(wave, cast.store_north, cast.shopper_a, start, "20", True)
        in_run = approved_line(wave, cast.store_north, cast.shopper_a, start + timedelta(days=1))
        run = make_run([in_run], cast.users[COORDINATOR_X])
        db.session.commit()  # survives a view's rollback between GET and POST
        found = SimpleNamespace(wave=wave, pending=pending, line=in_run, run=run)
        cast._payments = found
    return found


def _run(endpoint: str) -> Any:
    return lambda c: url_for(endpoint, run_id=_objects(c).run.id)


ACCESS = {
    "payments.index": Route(lambda c: url_for("payments.index"), COORDINATORS),
    "payments.runs": Route(lambda c: url_for("payments.runs"), COORDINATORS),
    "payments.create_run": Route(
        lambda c: url_for("payments.create_run"),
        OF_CLIENT_X,
        ("POST",),
        form=lambda c: {"client_id": str(_objects(c).pending.client_id), "scope": "all"},
    ),
    "payments.run": Route(_run("payments.run"), OF_CLIENT_X),
    "payments.run_csv": Route(_run("payments.run_csv"), OF_CLIENT_X),
    "payments.mark_paid": Route(
        _run("payments.mark_paid"), OF_CLIENT_X, ("POST",), form=lambda c: {"reference": "B-1"}
    ),
    "payments.remove_line": Route(
        lambda c: url_for(
            "payments.remove_line", run_id=_objects(c).run.id, line_id=_objects(c).line.id
        ),
        OF_CLIENT_X,
        ("POST",),
    ),
    "payments.cancel_run": Route(_run("payments.cancel_run"), OF_CLIENT_X, ("POST",)),
    "payments.earnings": Route(lambda c: url_for("payments.earnings"), SHOPPERS),
}
