"""Column types that behave the same on SQLite and PostgreSQL.

:class:`UTCDateTime` is the one time type of every table: it accepts only
timezone-aware datetimes, stores the instant in UTC and always gives back an
aware UTC datetime with the microseconds it was given, so a hash computed
before an INSERT is the hash computed after reading the row back.

- PostgreSQL: ``timestamp with time zone`` (microsecond precision).
- SQLite (which has no time type): fixed-width ISO 8601 text,
  ``2026-11-26T16:00:00.000000+00:00``, which sorts and compares in time order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator, TypeEngine

SQLITE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"
_SQLITE_TIME_LENGTH = 32


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is refused (its instant is unknown)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone; use UTC")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant with microseconds, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(_SQLITE_TIME_LENGTH))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        utc = as_utc(value)
        if dialect.name == "sqlite":
            return utc.strftime(SQLITE_TIME_FORMAT)
        return utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(parsed, datetime):
            raise TypeError(f"cannot read {value!r} as a time")
        if parsed.tzinfo is None:
            # Written by something else without an offset: our rule is UTC.
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
