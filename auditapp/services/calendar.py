"""A shopper's visits as an iCalendar feed (RFC 5545), and the token in its address.

Calendar apps fetch the feed without a session, so its address carries a token: the
shopper's id signed with the app's secret key (itsdangerous). Changing SECRET_KEY
revokes every feed address at once; a bad or foreign token finds nothing (404).

The feed text follows RFC 5545: CRLF line endings, TEXT values escaped (backslash,
semicolon, comma, newline), content lines folded at 75 octets without splitting a
UTF-8 character, times in UTC ("Z"), and one stable UID per visit so an app updates
an event in place when a visit moves instead of adding a second one.
"""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import ShopperProfile
from ..models.waves import ACCEPTED, ASSIGNED, IN_PROGRESS, Visit

FEED_STATUSES = (ASSIGNED, ACCEPTED, IN_PROGRESS)
_SALT = "auditapp.calendar-feed"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def feed_token(shopper: ShopperProfile) -> str:
    return _serializer().dumps({"shopper": shopper.id})


def shopper_for_token(token: str) -> ShopperProfile | None:
    """The active shopper the token was made for, or None for anything else."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    shopper_id = data.get("shopper") if isinstance(data, dict) else None
    if not isinstance(shopper_id, int):
        return None
    shopper = db.session.get(ShopperProfile, shopper_id)
    if shopper is None or not (shopper.active and shopper.user.active):
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
