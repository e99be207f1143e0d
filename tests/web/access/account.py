"""Each signed-in user's own profile, password and sessions."""

from flask import url_for

from . import SIGNED_IN, Route

ACCESS = {
    "account.profile": Route(lambda c: url_for("account.profile"), SIGNED_IN, ("GET", "POST")),
    "account.change_password": Route(
        lambda c: url_for("account.change_password"), SIGNED_IN, ("GET", "POST")
    ),
    "account.sign_out_everywhere": Route(
        lambda c: url_for("account.sign_out_everywhere"), SIGNED_IN, ("POST",)
    ),
}
