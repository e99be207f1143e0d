"""The app's one clock. Everything that needs "now" asks `utcnow()` here (models and
services through `models.utcnow`), so a test or the demo can set the day the whole app
sees, and nothing depends on the day the code happens to run.

`frozen_at(moment)` stops the clock at one moment; `travel_to(moment)` moves it there
and lets it run on, as the demo needs (its timestamps must keep increasing).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, tzinfo

_offset = timedelta(0)
_frozen: datetime | None = None


def utcnow() -> datetime:
    """Now, in UTC, as the app sees it."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def today(zone: tzinfo = UTC) -> date:
    """Today's date in `zone` (UTC unless the caller names the stores' zone)."""
    return utcnow().astimezone(zone).date()


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("give the clock an aware datetime")
    return moment.astimezone(UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Stops the clock at `moment` inside the block."""
    global _frozen
    before, _frozen = _frozen, _aware(moment)
    try:
        yield
    finally:
        _frozen = before


@contextmanager
def travel_to(moment: datetime) -> Iterator[None]:
    """Moves the clock to `moment` inside the block; it keeps running from there."""
    global _offset
    before = _offset
    _offset = _aware(moment) - datetime.now(UTC)
    try:
        yield
    finally:
        _offset = before
