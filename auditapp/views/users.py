"""User accounts (admins): roles, data scope, invitations, login history, and the
outbox: every mail with its delivery attempts and last error, and retries."""

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from forms.org import UserForm

from ..config import LANGUAGES
from ..extensions import db
from ..models import ADMIN, LoginEvent, OutboxMail, Region, Store, User
from ..models import Client as ClientModel
from ..permissions import get_user_or_404, roles_required
from ..security import keep_signed_in
from ..services.core import accounts, mail
from ..services.org import records as org
from .params import page_arg, parse_id
from .transaction import Outcome, add_error, transaction

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.route("/")
@roles_required(ADMIN)
def index() -> ResponseReturnValue:
    query = select(User).options(selectinload(User.clients), selectinload(User.client))
    if q := request.args.get("q", "").strip():
        query = query.where(or_(User.name.icontains(q), User.email.icontains(q)))
    if role := request.args.get("role"):
        query = query.where(User.role == role)
    page = db.paginate(query.order_by(User.name), page=page_arg(), per_page=25, error_out=False)
    return render_template("admin/users.html", page=page, args=request.args)


def _form(user: User | None) -> UserForm:
    form = UserForm(obj=user)
    clients = db.session.scalars(select(ClientModel).order_by(ClientModel.name)).all()
    form.locale.choices = list(LANGUAGES.items())
    form.client_id.choices = [(0, "—")] + [(c.id, c.name) for c in clients]
    form.clients.choices = [(c.id, c.name) for c in clients]
    regions = db.session.scalars(
        select(Region).options(joinedload(Region.client)).order_by(Region.client_id, Region.path)
    ).all()
    form.regions.choices = [(r.id, f"{r.client.code} · {r.name} ({r.code})") for r in regions]
    if user is not None and request.method == "GET":
        form.client_id.data = user.client_id or 0
        form.clients.data = [c.id for c in user.clients]
        form.regions.data = [r.id for r in user.regions]
        form.stores.data = [s.code for s in user.stores]
    return form


def _data(form: UserForm) -> dict[str, Any] | None:
    """What ``org.save_user`` takes, or None when a store code is unknown (said at
    the field)."""
    client_id = parse_id(str(form.client_id.data or ""))
    client = db.session.get(ClientModel, client_id) if client_id else None
    store_codes = form.stores.data or []
    stores = []
    if client is not None and store_codes:
        stores = list(
            db.session.scalars(
                select(Store).where(Store.client_id == client.id, Store.code.in_(store_codes))
            )
        )
        missing = set(store_codes) - {s.code for s in stores}
        if missing:
            add_error(
                form.stores, _("Unknown store codes: %(codes)s", codes=", ".join(sorted(missing)))
            )
            return None
    return {
        **form.data,
        "client": client,
        "clients": db.session.scalars(
            select(ClientModel).where(ClientModel.id.in_(form.clients.data or []))
        ).all(),
        "regions": db.session.scalars(
            select(Region).where(Region.id.in_(form.regions.data or []))
        ).all(),
        "stores": stores,
    }


@bp.route("/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def create() -> ResponseReturnValue:
    form = _form(None)
    saved = Outcome()
    if form.validate_on_submit() and (data := _data(form)):
        with transaction(form.email) as saved:
            user = org.save_user(None, data)
            db.session.flush()
            accounts.send_invitation(user, current_user)
        if saved:
            flash(
                _("%(email)s is invited; the link is in their mail.", email=user.email), "success"
            )
            return redirect(url_for("users.show", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=None), saved.status


@bp.route("/<int:user_id>")
@roles_required(ADMIN)
def show(user_id: int) -> ResponseReturnValue:
    user = get_user_or_404(current_user, user_id)
    logins = db.session.scalars(
        select(LoginEvent)
        .where(LoginEvent.user_id == user.id)
        .order_by(LoginEvent.at.desc())
        .limit(50)
    ).all()
    return render_template("admin/user.html", user=user, logins=logins)


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit(user_id: int) -> ResponseReturnValue:
    user = get_user_or_404(current_user, user_id)
    form = _form(user)
    saved = Outcome()
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != ADMIN or not form.active.data):
            add_error(form.role, _("You cannot remove your own admin access."))
        elif data := _data(form):
            with transaction(form.email) as saved:
                org.save_user(user, data)
            if saved:
                flash(_("Saved."), "success")
                return redirect(url_for("users.show", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=user), saved.status


@bp.route("/<int:user_id>/invite", methods=["POST"])
@roles_required(ADMIN)
def invite(user_id: int) -> ResponseReturnValue:
    user = get_user_or_404(current_user, user_id)
    with transaction() as saved:
        accounts.send_invitation(user, current_user)
    if saved:
        flash(_("A new invitation was sent to %(email)s.", email=user.email), "success")
    return redirect(url_for("users.show", user_id=user.id))


@bp.route("/<int:user_id>/sign-out-everywhere", methods=["POST"])
@roles_required(ADMIN)
def sign_out_everywhere(user_id: int) -> ResponseReturnValue:
    """Ends all of the user's sessions, say after a lost phone or a shared password."""
    user = get_user_or_404(current_user, user_id)
    with transaction() as saved:
        accounts.end_sessions(user)
    if saved:
        if user.id == current_user.id:  # the admin's own: this browser stays signed in
            keep_signed_in(user)
        flash(_("%(name)s is signed out everywhere.", name=user.name), "success")
    return redirect(url_for("users.show", user_id=user.id))


# --- the outbox: every mail, its delivery attempts, and retries ------------------------


@bp.route("/outbox")
@roles_required(ADMIN)
def outbox() -> ResponseReturnValue:
    state = request.args.get("state")
    query = select(OutboxMail)
    if state in mail.STATES:
        query = query.where(mail.state_filter(state))
    page = db.paginate(
        query.order_by(OutboxMail.id.desc()), page=page_arg(), per_page=25, error_out=False
    )
    failed = db.session.scalar(
        select(func.count(OutboxMail.id)).where(mail.state_filter(mail.FAILED))
    )
    return render_template(
        "admin/outbox.html",
        page=page,
        state=state if state in mail.STATES else "",
        failed=failed or 0,
        state_of=mail.state_of,
        gave_up=mail.gave_up,
    )


@bp.route("/outbox/<int:mail_id>/retry", methods=["POST"])
@roles_required(ADMIN)
def outbox_retry(mail_id: int) -> ResponseReturnValue:
    message = db.session.get(OutboxMail, mail_id)
    if message is None:
        abort(404)
    with transaction() as saved:
        retried = mail.retry(message)
    if saved:
        if retried:
            flash(_("Delivery to %(to)s is tried again.", to=message.to), "success")
        else:
            flash(_("That mail is sent already."), "warning")
    return redirect(url_for("users.outbox", state=request.args.get("state") or None))


@bp.route("/outbox/retry-failed", methods=["POST"])
@roles_required(ADMIN)
def outbox_retry_failed() -> ResponseReturnValue:
    with transaction() as saved:
        count = mail.retry_failed()
    if saved:
        flash(
            ngettext(
                "Delivery is tried again for %(num)d mail.",
                "Delivery is tried again for %(num)d mails.",
                count,
            ),
            "success",
        )
    return redirect(url_for("users.outbox", state=mail.FAILED))
