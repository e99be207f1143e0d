"""Stores: searchable list within the viewer's scope, details, editing, import, export."""

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from forms.org import StoreForm
from reports.tabular import XLSX_MIME, csv_lines, xlsx_bytes

from ..extensions import db
from ..models import ADMIN, COORDINATOR, SHOPPER, Client, Region, Store, utcnow
from ..permissions import (
    can_export,
    get_client_or_404,
    get_region_or_404,
    get_store_or_404,
    manages_org,
    region_scope,
    roles_required,
    store_scope,
)
from ..services.org import exports, imports
from ..services.org import records as org
from .imports import import_flow
from .params import id_arg, page_arg
from .transaction import Outcome, transaction

bp = Blueprint("stores", __name__, url_prefix="/stores")
VIEWERS = (ADMIN, COORDINATOR, "reviewer", "regional_manager", "store_manager")


def _filtered_stores() -> Select[Store]:
    args = request.args
    query = select(Store).where(store_scope(current_user))
    if q := args.get("q", "").strip():
        query = query.where(
            or_(Store.name.icontains(q), Store.code.icontains(q), Store.city.icontains(q))
        )
    # A filter naming a client or region outside the viewer's scope is a 404, as
    # opening it would be, rather than an empty list that confirms it exists.
    if client_id := id_arg("client", args):
        query = query.where(Store.client_id == get_client_or_404(current_user, client_id).id)
    if region_id := id_arg("region", args):
        region = get_region_or_404(current_user, region_id)
        subtree = select(Region.id).where(Region.path.startswith(region.path, autoescape=True))
        query = query.where(Store.region_id.in_(subtree))
    for name in ("tier", "format", "status"):
        if value := args.get(name):
            query = query.where(getattr(Store, name) == value)
    if args.get("stale"):
        limit = utcnow() - timedelta(days=current_app.config["STORE_STALE_AFTER_DAYS"])
        query = query.where(Store.updated_at < limit)
    return query


@bp.route("/")
@roles_required(*VIEWERS)
def index() -> ResponseReturnValue:
    # Eager loads named here: the list shows each store's client and region.
    query = _filtered_stores().options(joinedload(Store.client), joinedload(Store.region))
    page = db.paginate(
        query.order_by(Store.client_id, Store.code), page=page_arg(), per_page=25, error_out=False
    )
    clients = db.session.scalars(
        select(Client).where(
            Client.id.in_(select(Store.client_id).where(store_scope(current_user)))
        )
    ).all()
    regions = db.session.scalars(
        select(Region).where(region_scope(current_user)).order_by(Region.path)
    ).all()
    return render_template(
        "admin/stores.html",
        page=page, clients=clients, regions=regions, args=request.args,
        stale_days=current_app.config["STORE_STALE_AFTER_DAYS"], now=utcnow(),
    )  # fmt: skip


@bp.route("/<int:store_id>")
@roles_required(*VIEWERS)
def show(store_id: int) -> ResponseReturnValue:
    store = get_store_or_404(current_user, store_id)
    return render_template(
        "admin/store.html", store=store, stale_days=current_app.config["STORE_STALE_AFTER_DAYS"]
    )


def _store_form(client: Client, store: Store | None) -> StoreForm:
    form = StoreForm(obj=store)
    form.region_id.choices = [
        (r.id, "· " * r.depth + f"{r.name} ({r.code})") for r in org.region_tree(client.id)
    ]
    if store is not None and request.method == "GET":
        form.fill_hours(store.opening_hours)
        form.target_age_bands.data = store.target_age_bands
    return form


def _store_data(form: StoreForm) -> dict[str, Any]:
    data = {**form.data, "opening_hours": form.opening_hours()}
    data["target_age_bands"] = data["target_age_bands"] or []
    for name in ("address", "city", "manager_name", "manager_phone", "manager_email", "notes"):
        data[name] = data[name] or ""
    return data


@bp.route("/new/<int:client_id>", methods=["GET", "POST"])
@roles_required(ADMIN, COORDINATOR)
def create(client_id: int) -> ResponseReturnValue:
    client = get_client_or_404(current_user, client_id)
    form = _store_form(client, None)
    saved = Outcome()
    if form.validate_on_submit():
        region = get_region_or_404(current_user, form.region_id.data)
        with transaction(form.code) as saved:
            store = org.save_store(None, client, region, _store_data(form))
        if saved:
            flash(_("Store %(code)s created.", code=store.code), "success")
            return redirect(url_for("stores.show", store_id=store.id))
    page = render_template("admin/store_form.html", form=form, client=client, store=None)
    return page, saved.status


@bp.route("/<int:store_id>/edit", methods=["GET", "POST"])
@roles_required(ADMIN, COORDINATOR)
def edit(store_id: int) -> ResponseReturnValue:
    store = get_store_or_404(current_user, store_id)
    form = _store_form(store.client, store)
    saved = Outcome()
    if form.validate_on_submit():
        region = get_region_or_404(current_user, form.region_id.data)
        with transaction(form.code) as saved:
            org.save_store(store, store.client, region, _store_data(form))
        if saved:
            flash(_("Saved."), "success")
            return redirect(url_for("stores.show", store_id=store.id))
    page = render_template("admin/store_form.html", form=form, client=store.client, store=store)
    return page, saved.status


@bp.route("/import/<int:client_id>", methods=["GET", "POST"])
@roles_required(ADMIN, COORDINATOR)
def import_file(client_id: int) -> ResponseReturnValue:
    client = get_client_or_404(current_user, client_id)
    return import_flow(
        lambda data, apply: imports.import_stores(client, data, apply),
        _("Import stores into %(client)s", client=client.name),
        imports.STORE_COLUMNS,
        url_for("stores.index", client=client.id),
    )


@bp.route("/export.<fmt>")
@login_required
def export(fmt: str) -> ResponseReturnValue:
    if current_user.role == SHOPPER or not can_export(current_user) or fmt not in ("csv", "xlsx"):
        abort(404)
    query = (
        _filtered_stores().options(joinedload(Store.region)).order_by(Store.client_id, Store.code)
    )
    stores = db.session.scalars(query)
    rows = list(exports.store_rows(stores))  # a client has thousands of stores, not millions
    stamp = utcnow().strftime("%Y%m%d")
    if fmt == "csv":
        return Response(
            csv_lines(imports.STORE_COLUMNS, rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="stores-{stamp}.csv"'},
        )
    return Response(
        xlsx_bytes(imports.STORE_COLUMNS, rows, "stores"),
        mimetype=XLSX_MIME,
        headers={"Content-Disposition": f'attachment; filename="stores-{stamp}.xlsx"'},
    )


@bp.app_template_global()
def may_manage_org() -> bool:
    return current_user.is_authenticated and manages_org(current_user)


@bp.app_template_global()
def may_export() -> bool:
    return current_user.is_authenticated and can_export(current_user)
