"""The UTC time column and how audit values are written as text."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import make_url

from necstgen_desk.records.roles import Role
from necstgen_desk.storage.audit import format_value
from necstgen_desk.storage.types import UTCDateTime

SQLITE = make_url("sqlite+pysqlite://").get_dialect()()
POSTGRES = make_url("postgresql+psycopg://").get_dialect()()
WHEN = datetime(2026, 11, 26, 17, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))


def test_sqlite_stores_fixed_width_utc_text() -> None:
    stored = UTCDateTime().process_bind_param(WHEN, SQLITE)
    assert stored == "2026-11-26T16:00:00.000005+00:00"
    back = UTCDateTime().process_result_value(stored, SQLITE)
    assert back == WHEN and back is not None and back.tzinfo is UTC
    # Text order is time order.
    earlier = UTCDateTime().process_bind_param(datetime(2026, 11, 26, 9, 0, tzinfo=UTC), SQLITE)
    assert earlier < stored


def test_postgres_gets_an_aware_datetime_and_gives_utc() -> None:
    stored = UTCDateTime().process_bind_param(WHEN, POSTGRES)
    assert stored == WHEN and stored.tzinfo is UTC
    back = UTCDateTime().process_result_value(WHEN, POSTGRES)
    assert back is not None and back.tzinfo is UTC and back == WHEN


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), SQLITE)


def test_a_stored_time_without_offset_is_read_as_utc() -> None:
    back = UTCDateTime().process_result_value("2026-01-01 12:00:00", SQLITE)
    assert back == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class _Colour(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None),
        ("as is ", "as is "),
        (True, "true"),
        (12, "12"),
        (2.5, "2.5"),
        (Role.QA, "qa"),
        (_Colour.RED, "red"),
        (WHEN, "2026-11-26T16:00:00.000005+00:00"),
        (date(2026, 11, 26), "2026-11-26"),
        ({"b": 1, "a": [1, 2]}, '{"a":[1,2],"b":1}'),
    ],
)
def test_audit_values_as_text(value: object, text: str | None) -> None:
    assert format_value(value) == text
