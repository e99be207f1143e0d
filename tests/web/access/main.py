"""The start page (signed in) and the language switch (anyone, also on the sign-in page)."""

from flask import url_for

from . import EVERYONE, SIGNED_IN, Route

ACCESS = {
    "main.home": Route(lambda c: url_for("main.home"), SIGNED_IN),
    "main.set_language": Route(
        lambda c: url_for("main.set_language"), EVERYONE, ("POST",), lambda c: {"locale": "en"}
    ),
}
