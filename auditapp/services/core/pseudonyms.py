"""How the client's people see a shopper: a pseudonym, never a name.

The pseudonym is a keyed hash of the shopper and the client, so it is stable (the
same shopper is the same "Shopper K7QF2M" on every page, PDF and export of a client),
differs between clients (two clients cannot match up their shoppers), and cannot be
turned back into the shopper without the site's secret key.
"""

import hashlib
import hmac

from flask import current_app
from flask_babel import gettext as _

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
LENGTH = 6


def pseudonym_code(shopper_id: int, client_id: int) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"shopper:{client_id}:{shopper_id}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    letters = []
    for _i in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        letters.append(ALPHABET[index])
    return "".join(letters)


def pseudonym(shopper_id: int | None, client_id: int) -> str:
    """ "Shopper K7QF2M", in the reader's language; "—" for a visit without a shopper."""
    if shopper_id is None:
        return "—"
    return _("Shopper %(code)s", code=pseudonym_code(shopper_id, client_id))
