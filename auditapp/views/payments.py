"""Shopper pay. Coordinators (and admins) see the pending pay lines of their clients,
make payment runs of them, download a run for the bank and mark it paid; shoppers see
their own earnings on their phone.

Everything is scoped to the user's clients: a run, line, client or wave outside that
scope is not found (404), as is every page here for reviewers and client staff. The
service (services/pay/ledger.py) holds the rules; the views turn its refusals into messages.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_currency, format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import ColumnElement, false, func, select, true
from sqlalchemy.orm import selectinload

from forms.pay import MarkPaidForm
from reports.tabular import csv_lines

from ..extensions import db
from ..models import ADMIN, COORDINATOR, SHOPPER, Client, ShopperProfile, User
from ..models.pay import PayLine, PaymentRun
from ..models.waves import Visit, Wave
from ..permissions import can_export, client_scope, get_client_or_404, roles_required
from ..services.pay import ledger as pay
from .params import id_arg, id_list, page_arg
from .transaction import transaction

bp = Blueprint("payments", __name__)
STAFF = (ADMIN, COORDINATOR)
SHOWN = 500  # pending lines listed at once; the totals always cover them all
RUNS_PER_PAGE = 25
EARNINGS_PER_PAGE = 30

STATUS_LABELS = {
    pay.PENDING: _l("Pending"),
    pay.IN_RUN: _l("In a payment run"),
    pay.PAID: _l("Paid"),
}


# --- scope -------------------------------------------------------------------------


def _in_scope(user: User) -> Any:
    """Client ids whose pay the user manages (admins: all; coordinators: theirs)."""
    return select(Client.id).where(client_scope(user))


def line_scope(user: User) -> ColumnElement[bool]:
    if user.role == ADMIN:
        return true()
    if user.role == COORDINATOR:
        return PayLine.client_id.in_(_in_scope(user))
    return false()


def run_scope(user: User) -> ColumnElement[bool]:
    if user.role == ADMIN:
        return true()
    if user.role == COORDINATOR:
        return PaymentRun.client_id.in_(_in_scope(user))
    return false()


def get_run_or_404(run_id: int) -> PaymentRun:
    run = db.session.scalars(
        select(PaymentRun)
        .options(
            selectinload(PaymentRun.client),
            selectinload(PaymentRun.created_by),
            selectinload(PaymentRun.paid_by),
        )
        .where(PaymentRun.id == run_id, run_scope(current_user))
    ).first()
    if run is None:
        abort(404)
    return run


def _wave_or_404(wave_id: int, client_id: int | None = None) -> Wave:
    query = select(Wave).where(Wave.id == wave_id, Wave.client_id.in_(_in_scope(current_user)))
    if client_id is not None:
        query = query.where(Wave.client_id == client_id)
    wave = db.session.scalars(query).first()
    if wave is None:
        abort(404)
    return wave


def _me() -> ShopperProfile:
    profile: ShopperProfile | None = current_user.shopper
    if profile is None:
        abort(404)
    return profile


# --- words and numbers ---------------------------------------------------------------


def money(amount: Decimal | int | None, currency: str) -> str:
    """Always two decimals and the currency, in the reader's language."""
    return str(format_currency(amount or 0, currency, currency_digits=False))


def expense_note(line: PayLine) -> str:
    """Why less was paid than claimed, in a sentence (empty when nothing was cut)."""
    reason = pay.expense_reason(line)
    claimed = money(line.expenses_claimed, line.currency)
    if reason == pay.NO_RECEIPT:
        return _("%(claimed)s claimed; expenses are paid only against a receipt.", claimed=claimed)
    if reason == pay.CAPPED:
        if line.expenses_paid == 0:
            return _("%(claimed)s claimed; this wave pays no expenses.", claimed=claimed)
        return _(
            "%(claimed)s claimed; cut to the wave's expense cap of %(cap)s.",
            claimed=claimed,
            cap=money(line.expenses_paid, line.currency),
        )
    return ""


def status_text(line: PayLine) -> str:
    status = pay.line_status(line)
    if status == pay.PAID and line.run is not None and line.run.paid_at is not None:
        return _("Paid on %(date)s", date=day_text(line.run.paid_at))
    return str(STATUS_LABELS[status])


def day_text(moment: datetime) -> str:
    return str(format_date(moment, "medium"))


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {
        "money": money,
        "expense_note": expense_note,
        "line_status": pay.line_status,
        "status_text": status_text,
        "visit_day": lambda visit: format_date(pay.visit_day(visit), "medium"),
        "day_text": day_text,
    }


# --- pending lines -------------------------------------------------------------------


def _pending_waves(client_id: int | None) -> list[Wave]:
    """Waves in scope that have pending lines (the wave filter's choices)."""
    pending = (
        select(Visit.wave_id)
        .join(PayLine, PayLine.visit_id == Visit.id)
        .where(*pay.pending_filter(line_scope(current_user), client_id))
    )
    query = (
        select(Wave)
        .where(Wave.id.in_(pending))
        .options(selectinload(Wave.client))
        .order_by(Wave.starts_on.desc(), Wave.id.desc())
    )
    return list(db.session.scalars(query))


@bp.route("/payments/")
@roles_required(*STAFF)
def index() -> ResponseReturnValue:
    client_id = id_arg("client")
    wave_id = id_arg("wave")
    client = get_client_or_404(current_user, client_id) if client_id is not None else None
    wave = _wave_or_404(wave_id, client_id) if wave_id is not None else None
    where = pay.pending_filter(line_scope(current_user), client_id, wave_id)
    lines = list(db.session.scalars(pay.lines_query(*where).limit(SHOWN + 1)))
    shown, more = lines[:SHOWN], len(lines) > SHOWN
    per_client = pay.totals_by(PayLine.client_id, *where)
    clients = {
        c.id: c for c in db.session.scalars(select(Client).where(client_scope(current_user)))
    }
    groups = [
        (clients[cid], [line for line in shown if line.client_id == cid], sums)
        for cid, sums in sorted(per_client.items(), key=lambda item: clients[item[0]].name)
    ]
    return render_template(
        "payments/index.html",
        groups=groups,
        overall=pay.totals(*where),
        more=more,
        shown=SHOWN,
        clients=sorted(clients.values(), key=lambda c: c.name),
        waves=_pending_waves(client_id),
        client=client,
        wave=wave,
        unpaid_runs=db.session.scalar(
            select(func.count(PaymentRun.id)).where(
                run_scope(current_user), PaymentRun.paid_at.is_(None)
            )
        ),
    )


@bp.route("/payments/runs", methods=["POST"])
@roles_required(*STAFF)
def create_run() -> ResponseReturnValue:
    client = get_client_or_404(current_user, id_arg("client_id", request.form) or 0)
    wave_id = id_arg("wave_id", request.form)
    if wave_id is not None:
        _wave_or_404(wave_id, client.id)
    back = url_for(".index", client=client.id, wave=wave_id)
    chosen = None
    if request.form.get("scope") == "selected":
        chosen = id_list("line", request.form)
    with transaction() as saved:
        made = pay.create_run(client, current_user, chosen, wave_id if chosen is None else None)
    if not saved:
        return redirect(back)
    flash(
        ngettext(
            "Payment run #%(id)d created with %(num)d line.",
            "Payment run #%(id)d created with %(num)d lines.",
            len(made.lines),
            id=made.id,
        ),
        "success",
    )
    return redirect(url_for(".run", run_id=made.id))


# --- runs ----------------------------------------------------------------------------


@bp.route("/payments/runs")
@roles_required(*STAFF)
def runs() -> ResponseReturnValue:
    client_id = id_arg("client")
    client = get_client_or_404(current_user, client_id) if client_id is not None else None
    query = (
        select(PaymentRun)
        .where(run_scope(current_user))
        .options(
            selectinload(PaymentRun.client),
            selectinload(PaymentRun.created_by),
            selectinload(PaymentRun.paid_by),
        )
        .order_by(PaymentRun.created_at.desc(), PaymentRun.id.desc())
    )
    if client is not None:
        query = query.where(PaymentRun.client_id == client.id)
    page = db.paginate(query, page=page_arg(), per_page=RUNS_PER_PAGE, error_out=False)
    ids = [r.id for r in page.items]
    sums = pay.totals_by(PayLine.run_id, PayLine.run_id.in_(ids)) if ids else {}
    clients = db.session.scalars(
        select(Client).where(client_scope(current_user)).order_by(Client.name)
    ).all()
    return render_template(
        "payments/runs.html", page=page, sums=sums, clients=clients, client=client
    )


def render_run(
    run: PaymentRun, form: MarkPaidForm | None = None, status: int = 200
) -> ResponseReturnValue:
    lines = list(db.session.scalars(pay.lines_query(PayLine.run_id == run.id)))
    return (
        render_template(
            "payments/run.html",
            run=run,
            lines=lines,
            sums=pay.totals(PayLine.run_id == run.id),
            form=form or MarkPaidForm(formdata=None),
            may_export=can_export(current_user),
        ),
        status,
    )


@bp.route("/payments/runs/<int:run_id>")
@roles_required(*STAFF)
def run(run_id: int) -> ResponseReturnValue:
    return render_run(get_run_or_404(run_id))


@bp.route("/payments/runs/<int:run_id>.csv")
@roles_required(*STAFF)
def run_csv(run_id: int) -> ResponseReturnValue:
    """The run for the bank. Exporting shoppers' names and emails needs the export
    permission, as every other export does."""
    found = get_run_or_404(run_id)
    if not can_export(current_user):
        abort(404)
    rows = list(pay.run_rows(found))  # read now: the response streams after the request
    return Response(
        csv_lines(pay.run_header(), rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="payment-run-{found.id}.csv"'},
    )


@bp.route("/payments/runs/<int:run_id>/paid", methods=["POST"])
@roles_required(*STAFF)
def mark_paid(run_id: int) -> ResponseReturnValue:
    found = get_run_or_404(run_id)
    form = MarkPaidForm()
    if not form.validate():
        return render_run(found, form, 422)
    with transaction() as saved:
        pay.mark_paid(found, current_user, form.reference.data or "")
    if saved:
        flash(_("Payment run #%(id)d marked paid.", id=run_id), "success")
    return redirect(url_for(".run", run_id=run_id))


@bp.route("/payments/runs/<int:run_id>/lines/<int:line_id>/remove", methods=["POST"])
@roles_required(*STAFF)
def remove_line(run_id: int, line_id: int) -> ResponseReturnValue:
    found = get_run_or_404(run_id)
    line = db.session.scalars(
        select(PayLine).where(PayLine.id == line_id, PayLine.client_id == found.client_id)
    ).first()
    if line is None:
        abort(404)
    with transaction() as saved:
        pay.remove_line(found, line)
    if saved:
        flash(_("The line is out of the run and waiting for a payment run again."), "success")
    return redirect(url_for(".run", run_id=run_id))


@bp.route("/payments/runs/<int:run_id>/cancel", methods=["POST"])
@roles_required(*STAFF)
def cancel_run(run_id: int) -> ResponseReturnValue:
    found = get_run_or_404(run_id)
    client_id = found.client_id
    with transaction() as saved:
        released = pay.cancel_run(found)
    if not saved:
        return redirect(url_for(".run", run_id=run_id))
    flash(
        ngettext(
            "Payment run #%(id)d cancelled; %(num)d line is waiting for a payment run again.",
            "Payment run #%(id)d cancelled; %(num)d lines are waiting for a payment run again.",
            released,
            id=run_id,
        ),
        "success",
    )
    return redirect(url_for(".index", client=client_id))


# --- the shopper's earnings ----------------------------------------------------------


@bp.route("/my/earnings")
@roles_required(SHOPPER)
def earnings() -> ResponseReturnValue:
    shopper = _me()
    page = db.paginate(
        pay.shopper_lines(shopper), page=page_arg(), per_page=EARNINGS_PER_PAGE, error_out=False
    )
    return render_template("payments/earnings.html", page=page, sums=pay.earnings(shopper))
