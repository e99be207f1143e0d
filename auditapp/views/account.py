"""The signed-in user's own profile, language, password and sessions."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from forms.auth import ChangePasswordForm, ProfileForm

from ..config import LANGUAGES
from ..extensions import db
from ..models import LoginEvent
from ..security import keep_signed_in
from ..services.core import accounts
from .transaction import Outcome, transaction

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/", methods=["GET", "POST"])
@login_required
def profile() -> ResponseReturnValue:
    form = ProfileForm(obj=current_user)
    form.locale.choices = list(LANGUAGES.items())
    saved = Outcome()
    if form.validate_on_submit():
        with transaction() as saved:
            current_user.name = form.name.data
            current_user.locale = form.locale.data
        if saved:
            flash(_("Saved."), "success")
            return redirect(url_for("account.profile"))
    logins = db.session.scalars(
        select(LoginEvent)
        .where(LoginEvent.user_id == current_user.id)
        .order_by(LoginEvent.at.desc())
        .limit(10)
    ).all()
    return render_template("account/profile.html", form=form, logins=logins), saved.status


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    saved = Outcome()
    if form.validate_on_submit():
        with transaction(form.current) as saved:
            accounts.change_password(
                current_user, form.current.data or "", form.password.data or ""
            )
        if saved:
            keep_signed_in(current_user._get_current_object())
            flash(_("Your password is changed. You are signed out everywhere else."), "success")
            return redirect(url_for("account.profile"))
    return render_template("account/password.html", form=form), saved.status


@bp.route("/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere() -> ResponseReturnValue:
    """Ends every other session of the user (another browser, a lost phone, a copied
    cookie); this one goes on."""
    with transaction() as saved:
        accounts.end_sessions(current_user)
    if saved:
        keep_signed_in(current_user._get_current_object())
        flash(_("You are signed out everywhere else."), "success")
    return redirect(url_for("account.profile"))
