"""Clients and their region trees (coordinators and admins)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from forms.org import ClientForm, RegionForm

from ..extensions import db
from ..models import ADMIN, COORDINATOR, Client, Region, Store
from ..permissions import client_scope, get_client_or_404, get_region_or_404, roles_required
from ..services.org import records as org
from .params import page_arg
from .transaction import Outcome, transaction

bp = Blueprint("clients", __name__, url_prefix="/clients")


@bp.route("/")
@roles_required(ADMIN, COORDINATOR)
def index() -> ResponseReturnValue:
    q = request.args.get("q", "").strip()
    query = select(Client).where(client_scope(current_user)).order_by(Client.name)
    if q:
        query = query.where(or_(Client.name.icontains(q), Client.code.icontains(q)))
    page = db.paginate(query, page=page_arg(), per_page=25, error_out=False)
    ids = [c.id for c in page.items]
    store_counts = dict(
        db.session.execute(
            select(Store.client_id, func.count(Store.id))
            .where(Store.client_id.in_(ids))
            .group_by(Store.client_id)
        ).all()
    )
    return render_template("admin/clients.html", page=page, q=q, store_counts=store_counts)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def create() -> ResponseReturnValue:
    form = ClientForm()
    saved = Outcome()
    if form.validate_on_submit():
        with transaction(form.code) as saved:
            client = org.save_client(None, form.data)
        if saved:
            flash(_("Client %(name)s created.", name=client.name), "success")
            return redirect(url_for("clients.show", client_id=client.id))
    return render_template("admin/client_form.html", form=form, client=None), saved.status


@bp.route("/<int:client_id>")
@roles_required(ADMIN, COORDINATOR)
def show(client_id: int) -> ResponseReturnValue:
    client = get_client_or_404(current_user, client_id)
    regions = org.region_tree(client.id)
    store_counts = dict(
        db.session.execute(
            select(Store.region_id, func.count(Store.id))
            .where(Store.client_id == client.id)
            .group_by(Store.region_id)
        ).all()
    )
    return render_template(
        "admin/client.html", client=client, regions=regions, store_counts=store_counts
    )


@bp.route("/<int:client_id>/edit", methods=["GET", "POST"])
@roles_required(ADMIN, COORDINATOR)
def edit(client_id: int) -> ResponseReturnValue:
    client = get_client_or_404(current_user, client_id)
    form = ClientForm(obj=client)
    saved = Outcome()
    if form.validate_on_submit():
        with transaction(form.code) as saved:
            org.save_client(client, form.data)
        if saved:
            flash(_("Saved."), "success")
            return redirect(url_for("clients.show", client_id=client.id))
    return render_template("admin/client_form.html", form=form, client=client), saved.status


def _region_form(client: Client, region: Region | None) -> RegionForm:
    form = RegionForm(obj=region)
    choices = [(0, _("— top level —"))]
    for node in org.region_tree(client.id):
        if region is None or not node.path.startswith(region.path):
            choices.append((node.id, "· " * node.depth + f"{node.name} ({node.code})"))
    form.parent_id.choices = choices
    if region is not None and request.method == "GET":
        form.parent_id.data = region.parent_id or 0
    return form


def _save_region(client: Client, region: Region | None, form: RegionForm) -> Outcome:
    parent = None
    if form.parent_id.data:
        parent = get_region_or_404(current_user, form.parent_id.data)
    with transaction(form.code) as saved:
        org.save_region(region, client, {**form.data, "parent": parent})
    return saved


@bp.route("/<int:client_id>/regions/new", methods=["GET", "POST"])
@roles_required(ADMIN, COORDINATOR)
def create_region(client_id: int) -> ResponseReturnValue:
    client = get_client_or_404(current_user, client_id)
    form = _region_form(client, None)
    saved = Outcome()
    if form.validate_on_submit():
        saved = _save_region(client, None, form)
        if saved:
            flash(_("Region created."), "success")
            return redirect(url_for("clients.show", client_id=client.id))
    page = render_template("admin/region_form.html", form=form, client=client, region=None)
    return page, saved.status


@bp.route("/regions/<int:region_id>/edit", methods=["GET", "POST"])
@roles_required(ADMIN, COORDINATOR)
def edit_region(region_id: int) -> ResponseReturnValue:
    region = get_region_or_404(current_user, region_id)
    form = _region_form(region.client, region)
    saved = Outcome()
    if form.validate_on_submit():
        saved = _save_region(region.client, region, form)
        if saved:
            flash(_("Saved."), "success")
            return redirect(url_for("clients.show", client_id=region.client_id))
    page = render_template("admin/region_form.html", form=form, client=region.client, region=region)
    return page, saved.status
