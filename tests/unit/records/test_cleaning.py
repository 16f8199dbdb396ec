"""Cleaning log validation as a table of one-field mutations, plus sporicidal rotation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from necstgen_desk.records.cleaning import (
    CleaningEntry,
    CleaningType,
    check_verifier,
    cleaning_problems,
    sporicidal_days_overdue,
    sporicidal_overdue,
    validate_cleaning,
)
from necstgen_desk.records.errors import RuleViolation
from necstgen_desk.records.hashing import record_hash

NOW = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
GOOD = CleaningEntry(
    room_id="B-01",
    started_at=NOW - timedelta(hours=1),
    ended_at=NOW - timedelta(minutes=10),
    cleaning_type=CleaningType.SPORICIDAL,
    agent="Spor-Klenz RTU",
    agent_lot="L-2291",
    agent_prepared_on=date(2026, 11, 20),
    agent_expires_on=date(2026, 12, 20),
    required_contact_min=10,
    achieved_contact_min=12,
    performed_by="op.one",
)


def test_a_good_entry_passes() -> None:
    validate_cleaning(GOOD, NOW)
    assert cleaning_problems(GOOD, NOW) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"room_id": " "}, "room is blank"),
        ({"agent": ""}, "cleaning agent is blank"),
        ({"agent_lot": ""}, "agent lot is blank"),
        ({"performed_by": ""}, "performed by is blank"),
        (
            {"ended_at": NOW - timedelta(hours=2)},
            "the cleaning ends (2026-11-26 14:00 UTC) before it starts (2026-11-26 15:00 UTC)",
        ),
        (
            {"ended_at": NOW + timedelta(minutes=6)},
            "the end time 2026-11-26 16:06 UTC is in the future",
        ),
        (
            {"agent_expires_on": date(2026, 11, 25)},
            "agent lot L-2291 expired on 2026-11-25, before the cleaning on 2026-11-26; "
            "an expired agent cannot be recorded",
        ),
        (
            {"agent_prepared_on": date(2026, 11, 27)},
            "the agent was prepared on 2026-11-27, after the cleaning started on 2026-11-26",
        ),
        (
            {"agent_prepared_on": date(2026, 11, 20), "agent_expires_on": date(2026, 11, 19)},
            "the agent's expiry (2026-11-19) is before its preparation (2026-11-20)",
        ),
        (
            {"achieved_contact_min": 9.5},
            "the achieved contact time (9.5 min) is shorter than the required 10 min",
        ),
        (
            {"achieved_contact_min": 60},
            "the achieved contact time (60 min) is longer than the cleaning itself (50 min)",
        ),
        (
            {"required_contact_min": 0, "achieved_contact_min": 0},
            "the required contact time must be a number of minutes above zero",
        ),
        (
            {"achieved_contact_min": float("nan")},
            "the achieved contact time must be a number of minutes, zero or more",
        ),
        ({"started_at": datetime(2026, 11, 26, 15, 0)}, "the start time has no time zone"),
    ],
)
def test_refusals(changes: dict[str, object], problem: str) -> None:
    entry = replace(GOOD, **changes)  # type: ignore[arg-type]
    assert problem in cleaning_problems(entry, NOW)
    with pytest.raises(RuleViolation) as caught:
        validate_cleaning(entry, NOW)
    assert problem in caught.value.reasons
    assert caught.value.rule == "Cleaning record for room " + entry.room_id + " refused"


@pytest.mark.parametrize(
    "changes",
    [
        {"agent_expires_on": date(2026, 11, 26)},  # expires on the day: still usable
        {"agent_prepared_on": date(2026, 11, 26)},
        {"ended_at": NOW + timedelta(minutes=5)},  # within the clock tolerance
        {"achieved_contact_min": 10},
        {"started_at": (NOW - timedelta(hours=1)).astimezone()},  # any zone, same instant
    ],
)
def test_boundaries_accepted(changes: dict[str, object]) -> None:
    validate_cleaning(replace(GOOD, **changes), NOW)  # type: ignore[arg-type]


def test_every_problem_at_once() -> None:
    bad = replace(
        GOOD,
        agent="",
        agent_expires_on=date(2026, 1, 1),
        achieved_contact_min=1,
        performed_by=" ",
    )
    assert len(cleaning_problems(bad, NOW)) == 5  # blank x2, expired, expiry < prepared, short


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="time zone"):
        validate_cleaning(GOOD, NOW.replace(tzinfo=None))


def test_content_hashes() -> None:
    content = GOOD.content()
    assert content["cleaning_type"] is CleaningType.SPORICIDAL
    assert record_hash("cleaning", content) != record_hash(
        "cleaning", replace(GOOD, agent_lot="L-2292").content()
    )


@pytest.mark.parametrize(
    ("verifier", "refused"),
    [("op.two", False), ("op.one", True), ("OP.ONE ", True), ("", True)],
)
def test_verifier_is_a_second_person(verifier: str, refused: bool) -> None:
    if refused:
        with pytest.raises(RuleViolation, match="Cleaning verification refused"):
            check_verifier(GOOD, verifier)
    else:
        check_verifier(GOOD, verifier)


def test_verifier_message() -> None:
    with pytest.raises(RuleViolation) as caught:
        check_verifier(GOOD, "op.one")
    assert caught.value.reasons == (
        "op.one performed this cleaning; a second person must verify it",
    )


@pytest.mark.parametrize(
    ("since", "rotation", "overdue", "days"),
    [
        (None, timedelta(days=7), True, None),
        (timedelta(days=1), timedelta(days=7), False, 0),
        (timedelta(days=7), timedelta(days=7), False, 0),
        (timedelta(days=7, hours=3), timedelta(days=7), True, 1),
        (timedelta(days=9), timedelta(days=7), True, 2),
        (timedelta(days=4), timedelta(days=3), True, 1),
        (timedelta(days=4), timedelta(days=14), False, 0),
    ],
)
def test_sporicidal_rotation(
    since: timedelta | None, rotation: timedelta, overdue: bool, days: int | None
) -> None:
    last = None if since is None else NOW - since
    assert sporicidal_overdue(last, NOW, rotation) is overdue
    assert sporicidal_days_overdue(last, NOW, rotation) == days


def test_rotation_must_be_positive() -> None:
    with pytest.raises(ValueError, match="longer than zero"):
        sporicidal_overdue(NOW, NOW, timedelta(0))


def test_cleaning_type_names() -> None:
    assert [t.display_name for t in CleaningType] == ["Routine", "Changeover", "Sporicidal"]
