"""A shopper's visits as an iCalendar feed (RFC 5545), and the token in its address.

Calendar apps fetch the feed without a session, so its address carries a token:
``<shopper id>-<secret>``, the secret being 256 random bits stored on the shopper
(ShopperProfile.calendar_token) and compared in constant time. Resetting it (the
shopper, or a coordinator revoking the feed) gives a new address and the old one
stops working; a bad, old or foreign token, or an inactive shopper, finds nothing
(404).

The feed text follows RFC 5545: CRLF line endings, TEXT values escaped (backslash,
semicolon, comma, newline), content lines folded at 75 octets without splitting a
UTF-8 character, times in UTC ("Z"), and one stable UID per visit so an app updates
an event in place when a visit moves instead of adding a second one.
"""

import hmac
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import ShopperProfile
from ...models.base import MAX_ID
from ...models.users import new_calendar_token
from ...models.waves import ACCEPTED, ASSIGNED, IN_PROGRESS, Visit

FEED_STATUSES = (ASSIGNED, ACCEPTED, IN_PROGRESS)
_TOKEN = re.compile(r"([1-9][0-9]{0,9})-([0-9a-f]{64})")


def feed_token(shopper: ShopperProfile) -> str:
    """The token in the address of the shopper's feed."""
    return f"{shopper.id}-{shopper.calendar_token}"


def reset_feed(shopper: ShopperProfile) -> None:
    """A new secret: the feed moves to a new address and the old one stops working.
    The caller commits."""
    shopper.calendar_token = new_calendar_token()


def shopper_for_token(token: str) -> ShopperProfile | None:
    """The active shopper whose current token this is, or None for anything else."""
    match = _TOKEN.fullmatch(token)
    if match is None or int(match.group(1)) > MAX_ID:
        return None
    shopper = db.session.get(ShopperProfile, int(match.group(1)))
    if shopper is None or not shopper.calendar_token:
        return None
    if not hmac.compare_digest(shopper.calendar_token.encode(), match.group(2).encode()):
        return None
    if not (shopper.active and shopper.user.active):
        return None
    return shopper


def feed_visits(shopper: ShopperProfile) -> list[Visit]:
    return list(
        db.session.scalars(
            select(Visit)
            .options(selectinload(Visit.store))
            .where(Visit.shopper_id == shopper.id, Visit.status.in_(FEED_STATUSES))
            .order_by(Visit.window_start)
        )
    )


# --- RFC 5545 text ----------------------------------------------------------------------


def escape_text(value: str) -> str:
    """A TEXT property value (RFC 5545 §3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Splits a content line into pieces of at most 75 octets, each continuation
    starting with one space (§3.1), never inside a multi-byte UTF-8 character."""
    pieces: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, 74  # the leading space takes one octet
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def render_feed(
    visits: Iterable[Visit],
    *,
    name: str,
    host: str,
    link: Callable[[Visit], str],
    now: datetime,
) -> str:
    """The VCALENDAR text. `link` gives each visit's briefing address; `host` makes
    the UIDs globally unique; `now` is DTSTAMP when a visit has no change time."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//auditapp//My visits//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for visit in visits:
        store = visit.store
        location = ", ".join(part for part in (store.address, store.city) if part)
        lines += [
            "BEGIN:VEVENT",
            f"UID:visit-{visit.id}@{host}",
            f"DTSTAMP:{_stamp(visit.updated_at or now)}",
            f"DTSTART:{_stamp(visit.window_start)}",
            f"DTEND:{_stamp(visit.window_end)}",
            f"SUMMARY:{escape_text(store.name)}",
            f"LOCATION:{escape_text(location)}",
            f"DESCRIPTION:{escape_text(link(visit))}",
            f"URL:{link(visit)}",
            f"STATUS:{'TENTATIVE' if visit.status == ASSIGNED else 'CONFIRMED'}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
