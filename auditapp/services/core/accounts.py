"""Sign-in with throttling, sessions, password changes, reset and invitation tokens."""

from datetime import timedelta

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from ...errors import DomainError
from ...extensions import db
from ...models import LoginEvent, PasswordResetMail, User, utcnow
from ...networks import network_of
from . import login_throttle
from .links import external_url
from .mail import send_mail
from .passwords import hash_password, needs_rehash, verify_password

MIN_PASSWORD_LENGTH = 10


class LoginRefused(DomainError):
    status_code = 200  # the form is shown again with the message


class BadToken(DomainError):
    status_code = 400


def find_user_by_email(email: str, *, for_update: bool = False) -> User | None:
    """`for_update` locks the user's row until the transaction ends."""
    query = select(User).where(User.email == normalise_email(email))
    if for_update:
        query = query.with_for_update()
    return db.session.scalars(query).first()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(email: str, password: str, ip: str, user_agent: str = "") -> User:
    """Returns the user or raises LoginRefused. The caller commits either way, so
    failed attempts are recorded even though the login is refused. Unknown addresses,
    inactive accounts and wrong passwords get the same answer after the same hashing
    work; repeated failures make the next attempt wait (services/login_throttle)."""
    now = utcnow()
    email = normalise_email(email)[:254]
    wait = login_throttle.wait_before_attempt(email, network_of(ip), now)
    if wait is not None and wait.from_this_network:
        raise LoginRefused(_("Too many failed sign-ins from this network. Try again later."))
    if wait is not None:
        raise LoginRefused(
            ngettext(
                "Too many attempts. Try again in %(num)d second.",
                "Too many attempts. Try again in %(num)d seconds.",
                wait.seconds,
            )
        )
    user = find_user_by_email(email)
    matches = verify_password(user.password_hash if user is not None else "", password)
    if user is None or not user.active or not matches:
        db.session.add(
            LoginEvent(user=user, email=email, ip=ip, user_agent=user_agent[:255], success=False)
        )
        raise LoginRefused(_("That e-mail and password do not match an active account."))

    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.add(
        LoginEvent(user=user, email=email, ip=ip, user_agent=user_agent[:255], success=True)
    )
    return user


def set_password(user: User, password: str) -> None:
    """Also ends the user's sessions everywhere: a password set because the old one
    leaked must shut out whoever used it. The view keeps the current one if it wants."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(_("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    user.password_hash = hash_password(password)
    user.end_sessions()


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise DomainError(_("Your current password is not correct."))
    set_password(user, new)


def end_sessions(user: User) -> None:
    """Sign-out everywhere: every session and remember cookie of the user stops working."""
    user.end_sessions()


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
    """Silently does nothing for unknown addresses, so the form reveals no accounts,
    and nothing past RESET_MAILS_PER_HOUR mails to one account, so the form
    cannot be used to flood someone's mailbox."""
    # Locked: concurrent requests for one account count their mails one after another.
    user = find_user_by_email(email, for_update=True)
    if user is None or not user.active or _reset_mails_last_hour(user) >= _reset_cap():
        return
    db.session.add(PasswordResetMail(user_id=user.id, sent_at=utcnow()))
    link = external_url("auth.reset_password", token=make_token(user, "reset"))
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


def _reset_cap() -> int:
    return int(current_app.config["RESET_MAILS_PER_HOUR"])


def _reset_mails_last_hour(user: User) -> int:
    since = utcnow() - timedelta(hours=1)
    count = db.session.scalar(
        select(func.count(PasswordResetMail.id)).where(
            PasswordResetMail.user_id == user.id, PasswordResetMail.sent_at >= since
        )
    )
    return count or 0


def send_invitation(user: User, invited_by: User) -> str:
    link = external_url("auth.accept_invitation", token=make_token(user, "invite"))
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
