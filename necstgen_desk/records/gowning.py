"""Gowning log rules and the Grade A/B entry check (DESIGN.md §3, issue 3).

Annex 1 (2022) ch. 7 asks that personnel working in Grade A and B areas are
qualified for aseptic gowning and reassessed at least annually; so entry to a
Grade A or B room is refused for a missing or expired qualification. For
Grade C, D and CNC the status is recorded, not enforced.
"""

from __future__ import annotations

import calendar
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from necstgen_desk.records.errors import RuleViolation

DEFAULT_QUALIFICATION_MONTHS = 12
FUTURE_TOLERANCE = timedelta(minutes=5)
KNOWN_GRADES = ("A", "B", "C", "D", "CNC")
#: Grades whose entry needs a valid gowning qualification.
QUALIFICATION_REQUIRED = frozenset({"A", "B"})


class QualificationStatus(StrEnum):
    QUALIFIED = "qualified"
    EXPIRED = "expired"
    MISSING = "missing"

    @property
    def display_name(self) -> str:
        return self.value.capitalize()


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months; the 31st becomes the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def qualification_valid_until(
    qualified_on: date, months: int = DEFAULT_QUALIFICATION_MONTHS
) -> date:
    """The last day the qualification is valid (qualified 2025-11-26 → 2026-11-26)."""
    if months <= 0:
        raise ValueError("the qualification validity must be at least one month")
    return add_months(qualified_on, months)


def qualification_status(
    qualified_on: date | None,
    today: date,
    months: int = DEFAULT_QUALIFICATION_MONTHS,
) -> QualificationStatus:
    """Qualified, expired (older than ``months``) or missing.

    A qualification dated after ``today`` is not a valid record and counts as missing.
    """
    if qualified_on is None or qualified_on > today:
        return QualificationStatus.MISSING
    if today > qualification_valid_until(qualified_on, months):
        return QualificationStatus.EXPIRED
    return QualificationStatus.QUALIFIED


def _grade(grade: str) -> str:
    return grade.strip().upper()


def entry_problems(grade: str, status: QualificationStatus) -> list[str]:
    g = _grade(grade)
    if g not in KNOWN_GRADES:
        return [f"grade {grade!r} is not one of {', '.join(KNOWN_GRADES)}"]
    if g in QUALIFICATION_REQUIRED and status is not QualificationStatus.QUALIFIED:
        return [
            f"entry to a Grade {g} room needs a valid gowning qualification; "
            f"this person's is {status.value}"
        ]
    return []


def check_entry(grade: str, status: QualificationStatus) -> None:
    """Refuse entry to Grade A/B without a valid qualification (C, D, CNC pass)."""
    problems = entry_problems(grade, status)
    if problems:
        raise RuleViolation("Entry refused", problems)


@dataclass(frozen=True, slots=True)
class GowningEntry:
    """One gowning log record: who entered which room, when, in which garments.

    ``qualification`` is the status at entry, recorded for every grade.
    """

    person: str
    room_id: str
    grade: str
    time_in: datetime
    time_out: datetime | None
    garment_lot: str
    qualification: QualificationStatus

    def content(self) -> dict[str, object]:
        return asdict(self)


def _aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def _fmt(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def gowning_problems(
    entry: GowningEntry, now: datetime, *, future_tolerance: timedelta = FUTURE_TOLERANCE
) -> list[str]:
    """Every reason ``entry`` cannot be recorded at ``now``; empty when it can."""
    if not _aware(now):
        raise ValueError("now has no time zone; use UTC")
    problems: list[str] = []
    for label, text in (
        ("person", entry.person),
        ("room", entry.room_id),
        ("garment lot", entry.garment_lot),
    ):
        if not text.strip():
            problems.append(f"{label} is blank")
    times = [("time in", entry.time_in)]
    if entry.time_out is not None:
        times.append(("time out", entry.time_out))
    aware = True
    for label, value in times:
        if not _aware(value):
            problems.append(f"{label} has no time zone")
            aware = False
        elif value > now + future_tolerance:
            problems.append(f"{label} {_fmt(value)} is in the future")
    if aware and entry.time_out is not None and entry.time_out < entry.time_in:
        problems.append(
            f"time out ({_fmt(entry.time_out)}) is before time in ({_fmt(entry.time_in)})"
        )
    problems.extend(entry_problems(entry.grade, entry.qualification))
    return problems


def validate_gowning(
    entry: GowningEntry, now: datetime, *, future_tolerance: timedelta = FUTURE_TOLERANCE
) -> None:
    """Raise :class:`RuleViolation` listing every problem of ``entry``."""
    problems = gowning_problems(entry, now, future_tolerance=future_tolerance)
    if problems:
        raise RuleViolation(f"Gowning record for {entry.person or 'a person'} refused", problems)
