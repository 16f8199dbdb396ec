"""Times on screen: stored in UTC, shown in local time with the offset (DESIGN.md §3).

``2026-11-26 17:02:11 +01:00`` on screen, ``2026-11-26 16:02:11 UTC`` in the
tooltip. Editors (:class:`QDateTimeEdit`) work in local time and show the
offset; :func:`to_utc` turns what was entered into the aware UTC datetime the
services take.

"Now" on every screen — the defaults of the logbook forms and filters, the
signature dialog's "now" — is :func:`now_utc`: the wall clock, or the facility's
clock the composition root hands to :func:`use_clock` (a time-lapse demo,
ADR 0006), so a form's default times are the plant's and its checks agree
with the services'.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from PySide6.QtCore import QDate, QDateTime

from necstgen_desk.records.signatures import format_local

#: Display format of every date-and-time editor: local time with its UTC offset.
EDIT_FORMAT = "yyyy-MM-dd HH:mm ttt"
DATE_FORMAT = "yyyy-MM-dd"


def local_text(at: datetime | None) -> str:
    """``2026-11-26 17:02:11 +01:00`` (the offset valid at that instant); '' for None."""
    if at is None:
        return ""
    local = at.astimezone()  # the system zone, with the offset of that instant (DST-safe)
    tz = local.tzinfo
    assert tz is not None
    return format_local(local, tz)


def utc_text(at: datetime | None) -> str:
    """``2026-11-26 16:02:11.123456 UTC``, for tooltips and exports."""
    if at is None:
        return ""
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f} UTC"


def date_text(day: date | None) -> str:
    return "" if day is None else day.isoformat()


def to_qdatetime(at: datetime) -> QDateTime:
    """An aware datetime as a local-time QDateTime for an editor."""
    return QDateTime.fromMSecsSinceEpoch(round(at.timestamp() * 1000))


def to_utc(value: QDateTime) -> datetime:
    """What an editor holds (local time) as an aware UTC datetime, to the millisecond."""
    return datetime.fromtimestamp(value.toMSecsSinceEpoch() / 1000, UTC)


def to_qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def to_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def _wall_now() -> datetime:
    return datetime.now(UTC)


_now: Callable[[], datetime] = _wall_now


def use_clock(clock: Callable[[], datetime] | None) -> None:
    """Every screen's "now" from ``clock`` (aware UTC); None: the wall clock again."""
    global _now  # noqa: PLW0603 - one clock for the whole UI, set by the composition root
    _now = clock if clock is not None else _wall_now


def now_utc() -> datetime:
    """Now on the facility's clock (see the module docstring), aware UTC."""
    return _now()


def now_local() -> QDateTime:
    """:func:`now_utc` for an editor (local time, to the millisecond)."""
    return to_qdatetime(now_utc())


def today_local() -> QDate:
    """The local date of :func:`now_utc`."""
    return to_qdate(now_utc().astimezone().date())
