"""Sign-in, sign-out, password reset and invitations."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from limits import parse_many

from forms.auth import ForgotPasswordForm, LoginForm, NewPasswordForm

from ..extensions import limiter
from ..services.core import accounts
from . import safe_next
from .transaction import Outcome, add_error, transaction

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    saved = Outcome()
    if form.validate_on_submit():
        # A refusal is caught inside the block, so it commits too: the failed attempt
        # is the history that throttling reads.
        refused = None
        with transaction(form.password) as saved:
            try:
                user = accounts.authenticate(
                    form.email.data or "",
                    form.password.data or "",
                    ip=request.remote_addr or "",
                    user_agent=request.user_agent.string,
                )
            except accounts.LoginRefused as error:
                refused = error
            else:
                if user.locale is None:  # mail to them will use their browser's language
                    user.locale = str(get_locale() or "en")
        if refused is not None:
            add_error(form.password, str(refused))
        elif saved:
            login_user(user)
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
    return render_template("auth/login.html", form=form), saved.status


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> ResponseReturnValue:
    # Ends the user's sessions everywhere: a copy of this cookie must not outlive it.
    with transaction() as saved:
        accounts.end_sessions(current_user)
    if not saved:
        return redirect(url_for("main.home"))
    logout_user()
    flash(_("You are signed out."), "info")
    response = redirect(url_for("auth.login"))
    # The service worker keeps visit forms, and static/visit_form/ keeps answers, on the
    # device: none of it may be left for whoever signs in next on a shared phone.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


def _reset_limit_per_client() -> str:
    return str(current_app.config["RESET_REQUEST_LIMIT_PER_CLIENT"])


def _typed_address_asked_too_often(email: str) -> bool:
    """Counts this request for the address typed in; True once it was asked for more
    than RESET_REQUEST_LIMIT_PER_EMAIL allows, from anywhere. Not a 429: a stranger
    asking for someone's address must not get the owner's own request refused."""
    key = accounts.normalise_email(email)[:254]
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
    limits = parse_many(current_app.config["RESET_REQUEST_LIMIT_PER_EMAIL"])
    spent = [not limiter.limiter.hit(limit, prefix, "reset-email", key) for limit in limits]
    return any(spent)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit_per_client, methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    saved = Outcome()
    if form.validate_on_submit():
        # Past the limit for the typed address no mail goes out; the answer is the same.
        with transaction(form.email) as saved:
            if not _typed_address_asked_too_often(form.email.data or ""):
                accounts.send_password_reset(form.email.data or "")
        if saved:
            flash(_("If that address has an account, a reset link is on its way."), "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), saved.status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    return _choose_password(token, "reset", current_app.config["PASSWORD_RESET_MAX_AGE"])


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> ResponseReturnValue:
    return _choose_password(token, "invite", current_app.config["INVITATION_MAX_AGE"])


def _choose_password(token: str, purpose: str, max_age: object) -> ResponseReturnValue:
    try:
        user = accounts.user_from_token(token, purpose, max_age)  # type: ignore[arg-type]
    except accounts.BadToken as bad:
        return render_template("errors/error.html", message=str(bad)), 400
    form = NewPasswordForm()
    saved = Outcome()
    if form.validate_on_submit():
        with transaction(form.password) as saved:
            accounts.set_password(user, form.password.data or "")
        if saved:
            logout_user()
            flash(_("Your password is set. Please sign in."), "success")
            return redirect(url_for("auth.login"))
    page = render_template("auth/choose_password.html", form=form, user=user, purpose=purpose)
    return page, saved.status
