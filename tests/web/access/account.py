"""Each signed-in user's own profile and password."""

from flask import url_for

from . import SIGNED_IN, Route

ACCESS = {
    "account.profile": Route(lambda c: url_for("account.profile"), SIGNED_IN, ("GET", "POST")),
    "account.change_password": Route(
        lambda c: url_for("account.change_password"), SIGNED_IN, ("GET", "POST")
    ),
}
