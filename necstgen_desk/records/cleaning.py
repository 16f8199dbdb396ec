"""Cleaning log rules (DESIGN.md §3, issue 3).

Annex 1 (2022) ch. 4 asks for validated cleaning and disinfection with
agents used within their defined shelf life after preparation, and the
periodic use of a sporicidal agent; ALCOA+ asks that a record be complete and
contemporaneous. :func:`validate_cleaning` refuses an entry with every problem
at once, so the operator fixes them in one go.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from necstgen_desk.records.errors import RuleViolation
from necstgen_desk.records.roles import same_user

#: How far ahead of the clock a time may be (clock drift between PCs); later is "in the future".
FUTURE_TOLERANCE = timedelta(minutes=5)
#: Default sporicidal rotation: at least one sporicidal clean per room per week.
DEFAULT_SPORICIDAL_ROTATION = timedelta(days=7)


class CleaningType(StrEnum):
    ROUTINE = "routine"
    CHANGEOVER = "changeover"
    SPORICIDAL = "sporicidal"

    @property
    def display_name(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True, slots=True)
class CleaningEntry:
    """One cleaning log record as performed (verification is a separate signature).

    Times are UTC; contact times are in minutes.
    """

    room_id: str
    started_at: datetime
    ended_at: datetime
    cleaning_type: CleaningType
    agent: str
    agent_lot: str
    agent_prepared_on: date
    agent_expires_on: date
    required_contact_min: float
    achieved_contact_min: float
    performed_by: str

    def content(self) -> dict[str, object]:
        """The fields as a mapping, for :func:`~necstgen_desk.records.hashing.record_hash`."""
        return asdict(self)


def _aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def _fmt(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def cleaning_problems(
    entry: CleaningEntry, now: datetime, *, future_tolerance: timedelta = FUTURE_TOLERANCE
) -> list[str]:
    """Every reason ``entry`` cannot be recorded at ``now``; empty when it can."""
    if not _aware(now):
        raise ValueError("now has no time zone; use UTC")
    problems: list[str] = []
    for label, text in (
        ("room", entry.room_id),
        ("cleaning agent", entry.agent),
        ("agent lot", entry.agent_lot),
        ("performed by", entry.performed_by),
    ):
        if not text.strip():
            problems.append(f"{label} is blank")

    times_ok = True
    for label, value in (("start", entry.started_at), ("end", entry.ended_at)):
        if not _aware(value):
            problems.append(f"the {label} time has no time zone")
            times_ok = False
    if times_ok:
        if entry.ended_at < entry.started_at:
            problems.append(
                f"the cleaning ends ({_fmt(entry.ended_at)}) before it starts "
                f"({_fmt(entry.started_at)})"
            )
        for label, value in (("start", entry.started_at), ("end", entry.ended_at)):
            if value > now + future_tolerance:
                problems.append(f"the {label} time {_fmt(value)} is in the future")

    if entry.agent_expires_on < entry.agent_prepared_on:
        problems.append(
            f"the agent's expiry ({entry.agent_expires_on}) is before its preparation "
            f"({entry.agent_prepared_on})"
        )
    if times_ok:
        start_day = entry.started_at.astimezone(UTC).date()
        if entry.agent_expires_on < start_day:
            problems.append(
                f"agent lot {entry.agent_lot or '(blank)'} expired on {entry.agent_expires_on}, "
                f"before the cleaning on {start_day}; an expired agent cannot be recorded"
            )
        if entry.agent_prepared_on > start_day:
            problems.append(
                f"the agent was prepared on {entry.agent_prepared_on}, after the cleaning "
                f"started on {start_day}"
            )

    required, achieved = entry.required_contact_min, entry.achieved_contact_min
    numbers_ok = True
    if not math.isfinite(required) or required <= 0:
        problems.append("the required contact time must be a number of minutes above zero")
        numbers_ok = False
    if not math.isfinite(achieved) or achieved < 0:
        problems.append("the achieved contact time must be a number of minutes, zero or more")
        numbers_ok = False
    if numbers_ok:
        if achieved < required:
            problems.append(
                f"the achieved contact time ({achieved:g} min) is shorter than the required "
                f"{required:g} min"
            )
        if times_ok and entry.ended_at >= entry.started_at:
            duration = (entry.ended_at - entry.started_at) / timedelta(minutes=1)
            if achieved > duration:
                problems.append(
                    f"the achieved contact time ({achieved:g} min) is longer than the "
                    f"cleaning itself ({duration:g} min)"
                )
    return problems


def validate_cleaning(
    entry: CleaningEntry, now: datetime, *, future_tolerance: timedelta = FUTURE_TOLERANCE
) -> None:
    """Raise :class:`RuleViolation` listing every problem of ``entry``."""
    problems = cleaning_problems(entry, now, future_tolerance=future_tolerance)
    if problems:
        raise RuleViolation(f"Cleaning record for room {entry.room_id} refused", problems)


def check_verifier(entry: CleaningEntry, verifier_username: str) -> None:
    """A cleaning is verified by a second person, never by the one who performed it."""
    if not verifier_username.strip():
        raise RuleViolation("Cleaning verification refused", "the verifier is not known")
    if same_user(verifier_username, entry.performed_by):
        raise RuleViolation(
            "Cleaning verification refused",
            f"{verifier_username} performed this cleaning; a second person must verify it",
        )


def sporicidal_due_at(
    last_sporicidal_at: datetime, rotation: timedelta = DEFAULT_SPORICIDAL_ROTATION
) -> datetime:
    if rotation <= timedelta(0):
        raise ValueError("the sporicidal rotation must be longer than zero")
    return last_sporicidal_at + rotation


def sporicidal_overdue(
    last_sporicidal_at: datetime | None,
    now: datetime,
    rotation: timedelta = DEFAULT_SPORICIDAL_ROTATION,
) -> bool:
    """Whether the room's sporicidal clean is overdue (never done counts as overdue)."""
    if last_sporicidal_at is None:
        return True
    return now > sporicidal_due_at(last_sporicidal_at, rotation)


def sporicidal_days_overdue(
    last_sporicidal_at: datetime | None,
    now: datetime,
    rotation: timedelta = DEFAULT_SPORICIDAL_ROTATION,
) -> int | None:
    """Days overdue, a started day counting as one (0 when not overdue);
    ``None`` when no sporicidal clean was ever recorded for the room."""
    if last_sporicidal_at is None:
        return None
    late = now - sporicidal_due_at(last_sporicidal_at, rotation)
    if late <= timedelta(0):
        return 0
    return math.ceil(late / timedelta(days=1))
