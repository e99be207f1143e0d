"""Column types and helpers shared by every model."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from ..clock import utcnow

__all__ = ["MAX_ID", "UTCDateTime", "in_list", "utcnow"]

# The largest row id: ids are PostgreSQL INTEGERs (SQLite's 64-bit ids are a superset).
# A larger number cannot be any row's id, and the database driver fails on it.
MAX_ID = 2**31 - 1


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL text for a CHECK that keeps a string column inside a fixed vocabulary."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
