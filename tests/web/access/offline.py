"""The service worker script of the shopper's pages: open to anyone, signed in or not
(it holds nothing private, and a browser re-checking it after the session ended must
get the script, not the sign-in page)."""

from flask import url_for

from . import EVERYONE, Route

ACCESS = {
    "offline.service_worker": Route(lambda c: url_for("offline.service_worker"), EVERYONE),
}
