"""The agency's shopper pool: list, profile, editing, import and export."""

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from forms.org import ShopperForm
from reports.tabular import XLSX_MIME, csv_lines, xlsx_bytes

from ..extensions import db
from ..models import (
    ADMIN,
    COORDINATOR,
    REVIEWER,
    Client,
    ShopperConflict,
    ShopperProfile,
    Store,
    User,
    utcnow,
)
from ..permissions import can_export, client_scope, get_shopper_or_404, roles_required
from ..services.core import calendar
from ..services.org import exports, imports
from ..services.org import records as org
from ..services.org.imports import conflict_stores
from ..services.visits import calibration as calibration_service
from .imports import import_flow
from .params import page_arg
from .transaction import Outcome, add_error, transaction

bp = Blueprint("shoppers", __name__, url_prefix="/shoppers")


def _visible_clients() -> list[Client]:
    return list(
        db.session.scalars(select(Client).where(client_scope(current_user)).order_by(Client.code))
    )


def _shopper_query() -> Select[ShopperProfile]:
    query = select(ShopperProfile).join(ShopperProfile.user)
    if q := request.args.get("q", "").strip():
        query = query.where(
            or_(
                User.name.icontains(q),
                User.email.icontains(q),
                ShopperProfile.home_city.icontains(q),
            )
        )
    if (active := request.args.get("active")) in ("yes", "no"):
        query = query.where(ShopperProfile.active.is_(active == "yes"))
    return query


_CONFLICT_LOADS = (
    selectinload(ShopperProfile.conflicts).joinedload(ShopperConflict.client),
    selectinload(ShopperProfile.conflicts)
    .joinedload(ShopperConflict.store)
    .joinedload(Store.client),
)


@bp.route("/")
@roles_required(ADMIN, COORDINATOR)
def index() -> ResponseReturnValue:
    # Eager loads named here: the list shows each shopper's account and conflicts.
    query = _shopper_query().options(contains_eager(ShopperProfile.user), *_CONFLICT_LOADS)
    page = db.paginate(query.order_by(User.name), page=page_arg(), per_page=25, error_out=False)
    return render_template("admin/shoppers.html", page=page, args=request.args)


@bp.route("/<int:shopper_id>")
@roles_required(ADMIN, COORDINATOR)
def show(shopper_id: int) -> ResponseReturnValue:
    profile = get_shopper_or_404(current_user, shopper_id)
    leniency = calibration_service.leniency_of(
        profile.id, calibration_service.client_ids_for(current_user)
    )
    return render_template("admin/shopper.html", profile=profile, leniency=leniency)


@bp.route("/calibration")
@roles_required(ADMIN, COORDINATOR, REVIEWER)
def calibration() -> ResponseReturnValue:
    """Every shopper's leniency against their peers, over the viewer's clients (or the
    one chosen among them); the flagged first, then by how far off, then the rest."""
    clients = _visible_clients()
    client_ids = calibration_service.client_ids_for(current_user)
    chosen = None
    if client_arg := request.args.get("client"):
        chosen = next((c for c in clients if str(c.id) == client_arg), None)
        if chosen is None:
            abort(404)
        client_ids = [chosen.id]
    figures = calibration_service.leniency_by_shopper(client_ids)
    names = {
        row.id: row
        for row in db.session.execute(
            select(ShopperProfile.id, User.name, User.email)
            .join(ShopperProfile.user)
            .where(ShopperProfile.id.in_(list(figures)))
        )
    }
    rows = [(names[sid], figures[sid]) for sid in figures if sid in names]
    rows.sort(
        key=lambda row: (
            not row[1].warn,
            not row[1].enough,
            -abs(row[1].index_exact or 0),
            -row[1].n,
            row[0].name.casefold(),
        )
    )
    return render_template(
        "shoppers/calibration.html",
        rows=rows,
        clients=clients,
        chosen=chosen,
        may_open=current_user.role in (ADMIN, COORDINATOR),
    )


def _form(profile: ShopperProfile | None) -> ShopperForm:
    form = ShopperForm(obj=profile)
    clients = _visible_clients()
    form.conflict_clients.choices = [(c.id, f"{c.name} ({c.code})") for c in clients]
    if profile is not None and request.method == "GET":
        # Only conflicts with the editor's own clients are shown (and so edited).
        visible = {c.id for c in clients}
        form.email.data, form.name.data = profile.user.email, profile.user.name
        form.conflict_clients.data = [c.client_id for c in profile.conflicts if c.client_id]
        form.conflict_stores.data = [
            f"{c.store.client.code}/{c.store.code}"
            for c in profile.conflicts
            if c.store and c.store.client_id in visible
        ]
    return form


def _shopper_data(profile: ShopperProfile | None, form: ShopperForm) -> dict[str, Any] | None:
    """What save_shopper takes from the form, or None with the error beside the
    conflicting stores (one that does not exist)."""
    clients = {c.id: c for c in _visible_clients()}
    data = dict(form.data)
    for name in ("home_city", "notes"):
        data[name] = data[name] or ""
    data["conflict_clients"] = [
        clients[i] for i in form.conflict_clients.data or [] if i in clients
    ]
    try:
        data["conflict_stores"] = conflict_stores(
            ", ".join(form.conflict_stores.data or []), {c.code: c for c in clients.values()}
        )
    except ValueError as error:
        add_error(form.conflict_stores, str(error))
        return None
    hidden_clients, hidden_stores = org.hidden_conflicts(profile, clients)
    data["conflict_clients"] += hidden_clients
    data["conflict_stores"] += hidden_stores
    return data


@bp.route("/new", methods=["GET", "POST"])
@roles_required(ADMIN, COORDINATOR)
def create() -> ResponseReturnValue:
    form = _form(None)
    saved = Outcome()
    if form.validate_on_submit() and (data := _shopper_data(None, form)) is not None:
        with transaction(form.email) as saved:
            profile = org.save_shopper(None, data)
        if saved:
            flash(_("Shopper %(name)s created.", name=profile.user.name), "success")
            return redirect(url_for("shoppers.show", shopper_id=profile.id))
    return render_template("admin/shopper_form.html", form=form, profile=None), saved.status


@bp.route("/<int:shopper_id>/edit", methods=["GET", "POST"])
@roles_required(ADMIN, COORDINATOR)
def edit(shopper_id: int) -> ResponseReturnValue:
    profile = get_shopper_or_404(current_user, shopper_id)
    form = _form(profile)
    saved = Outcome()
    if form.validate_on_submit() and (data := _shopper_data(profile, form)) is not None:
        with transaction(form.email) as saved:
            org.save_shopper(profile, data)
        if saved:
            flash(_("Saved."), "success")
            return redirect(url_for("shoppers.show", shopper_id=profile.id))
    return render_template("admin/shopper_form.html", form=form, profile=profile), saved.status


@bp.route("/<int:shopper_id>/calendar/revoke", methods=["POST"])
@roles_required(ADMIN, COORDINATOR)
def revoke_calendar(shopper_id: int) -> ResponseReturnValue:
    """The shopper's calendar feed address stops working (a lost phone, a shared
    link); they find the new one under My visits."""
    profile = get_shopper_or_404(current_user, shopper_id)
    with transaction() as saved:
        calendar.reset_feed(profile)
    if saved:
        flash(
            _(
                "The calendar address of %(name)s no longer works. They find the new one "
                "under My visits.",
                name=profile.user.name,
            ),
            "success",
        )
    return redirect(url_for("shoppers.show", shopper_id=profile.id))


@bp.route("/import", methods=["GET", "POST"])
@roles_required(ADMIN, COORDINATOR)
def import_file() -> ResponseReturnValue:
    clients = _visible_clients()
    return import_flow(
        lambda data, apply: imports.import_shoppers(clients, data, apply),
        _("Import shoppers"),
        imports.SHOPPER_COLUMNS,
        url_for("shoppers.index"),
    )


@bp.route("/export.<fmt>")
@roles_required(ADMIN, COORDINATOR)
def export(fmt: str) -> ResponseReturnValue:
    if not can_export(current_user) or fmt not in ("csv", "xlsx"):
        abort(404)
    query = _shopper_query().options(contains_eager(ShopperProfile.user), *_CONFLICT_LOADS)
    rows = list(exports.shopper_rows(db.session.scalars(query.order_by(User.email))))
    stamp = utcnow().strftime("%Y%m%d")
    if fmt == "csv":
        return Response(
            csv_lines(imports.SHOPPER_COLUMNS, rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="shoppers-{stamp}.csv"'},
        )
    return Response(
        xlsx_bytes(imports.SHOPPER_COLUMNS, rows, "shoppers"),
        mimetype=XLSX_MIME,
        headers={"Content-Disposition": f'attachment; filename="shoppers-{stamp}.xlsx"'},
    )
