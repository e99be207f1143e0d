"""Sign-in, sign-out, password reset and invitations: open to everyone, except
sign-out, which needs a session to end."""

from flask import url_for

from auditapp.services.core.accounts import make_token

from . import EVERYONE, SIGNED_IN, Route

ACCESS = {
    # Signed-in visitors are sent on to the start page, which counts as allowed.
    "auth.login": Route(lambda c: url_for("auth.login"), EVERYONE, ("GET", "POST")),
    "auth.logout": Route(lambda c: url_for("auth.logout"), SIGNED_IN, ("POST",)),
    "auth.forgot_password": Route(
        lambda c: url_for("auth.forgot_password"), EVERYONE, ("GET", "POST")
    ),
    # Whoever holds the link may use it; the token is what is checked.
    "auth.reset_password": Route(
        lambda c: url_for("auth.reset_password", token=make_token(c.shopper_a.user, "reset")),
        EVERYONE,
        ("GET", "POST"),
    ),
    "auth.accept_invitation": Route(
        lambda c: url_for("auth.accept_invitation", token=make_token(c.shopper_b.user, "invite")),
        EVERYONE,
        ("GET", "POST"),
    ),
}
