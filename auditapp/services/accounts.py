"""Sign-in with throttling and lock-out, password changes, reset and invitation tokens."""

from datetime import timedelta

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from ..errors import DomainError
from ..extensions import db
from ..models import LoginEvent, User, utcnow
from .mail import send_mail
from .passwords import hash_password, needs_rehash, verify_password

MIN_PASSWORD_LENGTH = 10


class LoginRefused(DomainError):
    status_code = 200  # the form is shown again with the message


class BadToken(DomainError):
    status_code = 400


def find_user_by_email(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == normalise_email(email))).first()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(email: str, password: str, ip: str, user_agent: str = "") -> User:
    """Returns the user or raises LoginRefused. The caller commits either way, so
    failed attempts are counted even though the login is refused."""
    cfg = current_app.config
    now = utcnow()
    email = normalise_email(email)
    user = find_user_by_email(email)

    def refuse(message: str) -> LoginRefused:
        db.session.add(
            LoginEvent(
                user=user, email=email[:254], ip=ip, user_agent=user_agent[:255], success=False
            )
        )
        return LoginRefused(message)

    recent_ip_failures = db.session.scalar(
        select(func.count(LoginEvent.id)).where(
            LoginEvent.ip == ip,
            LoginEvent.success.is_(False),
            LoginEvent.at >= now - cfg["LOGIN_IP_WINDOW"],
        )
    )
    if (recent_ip_failures or 0) >= cfg["LOGIN_IP_MAX_FAILURES"]:
        raise refuse(_("Too many failed sign-ins from this network. Try again later."))
    if user is not None and user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise refuse(
            _("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=minutes)
        )
    if user is None or not user.active or not verify_password(user.password_hash, password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= cfg["LOGIN_MAX_FAILURES"]:
                user.locked_until = now + cfg["LOGIN_LOCKOUT"]
                user.failed_logins = 0
        raise refuse(_("That e-mail and password do not match an active account."))

    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.add(
        LoginEvent(user=user, email=email, ip=ip, user_agent=user_agent[:255], success=True)
    )
    return user


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(_("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise DomainError(_("Your current password is not correct."))
    set_password(user, new)


# --- tokens --------------------------------------------------------------------
# A token carries a fragment of the current password hash, so it stops working as
# soon as the password is set: each reset or invitation link works once.


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"auditapp-{purpose}")


def make_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"uid": user.id, "h": user.password_hash[-16:]})


def user_from_token(token: str, purpose: str, max_age: timedelta) -> User:
    try:
        data = _serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise BadToken(_("This link has expired. Ask for a new one.")) from exc
    except BadSignature as exc:
        raise BadToken(_("This link is not valid.")) from exc
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.active or user.password_hash[-16:] != data.get("h"):
        raise BadToken(_("This link has already been used or is no longer valid."))
    return user


def send_password_reset(email: str) -> None:
    """Silently does nothing for unknown addresses, so the form reveals no accounts."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    link = url_for("auth.reset_password", token=make_token(user, "reset"), _external=True)
    with force_locale(user.locale or "en"):
        send_mail(
            user.email,
            _("Reset your auditapp password"),
            _(
                "Someone asked to reset the password for %(email)s.\n\n"
                "Open this link within two hours to choose a new password:\n%(link)s\n\n"
                "If it was not you, ignore this message.",
                email=user.email,
                link=link,
            ),
        )


def send_invitation(user: User, invited_by: User) -> str:
    link = url_for("auth.accept_invitation", token=make_token(user, "invite"), _external=True)
    with force_locale(user.locale or invited_by.locale or "en"):
        send_mail(
            user.email,
            _("You are invited to auditapp"),
            _(
                "%(inviter)s invited you to auditapp.\n\n"
                "Open this link within 14 days to choose your password:\n%(link)s",
                inviter=invited_by.name,
                link=link,
            ),
        )
    return link
