"""Gowning qualification expiry, the Grade A/B entry rule and gowning log validation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from necstgen_desk.records.errors import RuleViolation
from necstgen_desk.records.gowning import (
    GowningEntry,
    QualificationStatus,
    add_months,
    check_entry,
    gowning_problems,
    qualification_status,
    qualification_valid_until,
    validate_gowning,
)

Q = QualificationStatus
TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("qualified_on", "months", "status"),
    [
        (None, 12, Q.MISSING),
        (date(2026, 11, 27), 12, Q.MISSING),  # dated in the future: not a valid record
        (TODAY, 12, Q.QUALIFIED),
        (date(2025, 11, 26), 12, Q.QUALIFIED),  # exactly 12 months: last valid day
        (date(2025, 11, 25), 12, Q.EXPIRED),
        (date(2024, 1, 1), 12, Q.EXPIRED),
        (date(2026, 5, 26), 6, Q.QUALIFIED),
        (date(2026, 5, 25), 6, Q.EXPIRED),
        (date(2025, 5, 25), 24, Q.QUALIFIED),
    ],
)
def test_qualification_status(qualified_on: date | None, months: int, status: Q) -> None:
    assert qualification_status(qualified_on, TODAY, months) is status


@pytest.mark.parametrize(
    ("day", "months", "result"),
    [
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 11, 26), 14, date(2027, 1, 26)),
    ],
)
def test_add_months(day: date, months: int, result: date) -> None:
    assert add_months(day, months) == result


def test_validity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least one month"):
        qualification_valid_until(TODAY, 0)


ENTRY_TABLE = [
    (grade, status, grade in ("A", "B") and status is not Q.QUALIFIED)
    for grade in ("A", "B", "C", "D", "CNC")
    for status in Q
]


@pytest.mark.parametrize(("grade", "status", "refused"), ENTRY_TABLE)
def test_entry_rule(grade: str, status: Q, refused: bool) -> None:
    if refused:
        with pytest.raises(RuleViolation) as caught:
            check_entry(grade, status)
        assert caught.value.reasons == (
            f"entry to a Grade {grade} room needs a valid gowning qualification; "
            f"this person's is {status.value}",
        )
    else:
        check_entry(grade, status)


def test_grade_is_normalised_and_unknown_grades_refused() -> None:
    with pytest.raises(RuleViolation):
        check_entry(" b ", Q.EXPIRED)
    with pytest.raises(RuleViolation, match="grade 'E' is not one of A, B, C, D, CNC"):
        check_entry("E", Q.QUALIFIED)


NOW = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
GOOD = GowningEntry(
    person="op.one",
    room_id="B-01",
    grade="B",
    time_in=NOW - timedelta(hours=2),
    time_out=NOW - timedelta(minutes=5),
    garment_lot="GL-0815",
    qualification=Q.QUALIFIED,
)


def test_good_entries_pass() -> None:
    validate_gowning(GOOD, NOW)
    validate_gowning(replace(GOOD, time_out=None), NOW)  # still inside
    validate_gowning(replace(GOOD, time_out=GOOD.time_in), NOW)
    validate_gowning(replace(GOOD, grade="C", qualification=Q.EXPIRED), NOW)  # recorded only


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"person": ""}, "person is blank"),
        ({"room_id": " "}, "room is blank"),
        ({"garment_lot": ""}, "garment lot is blank"),
        (
            {"time_out": NOW - timedelta(hours=3)},
            "time out (2026-11-26 13:00 UTC) is before time in (2026-11-26 14:00 UTC)",
        ),
        ({"time_in": NOW + timedelta(minutes=10)}, "time in 2026-11-26 16:10 UTC is in the future"),
        ({"time_in": datetime(2026, 11, 26, 14, 0)}, "time in has no time zone"),
        (
            {"qualification": Q.MISSING},
            "entry to a Grade B room needs a valid gowning qualification; this person's is missing",
        ),
    ],
)
def test_gowning_refusals(changes: dict[str, object], problem: str) -> None:
    entry = replace(GOOD, **changes)  # type: ignore[arg-type]
    assert problem in gowning_problems(entry, NOW)
    with pytest.raises(RuleViolation, match="Gowning record for"):
        validate_gowning(entry, NOW)


def test_content_keeps_the_status() -> None:
    assert GOOD.content()["qualification"] is Q.QUALIFIED
