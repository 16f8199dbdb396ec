"""The room lifecycle as a table: every state × action × role, against the expected triples."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from necstgen_desk.records.errors import PermissionDenied, RuleViolation
from necstgen_desk.records.lifecycle import (
    DEFAULT_CLEAN_HOLD,
    TRANSITIONS,
    NoBlockers,
    ReleaseBlockers,
    RoomAction,
    RoomStatus,
    TransitionContext,
    alarms_suppressed,
    allowed_actions,
    decide,
    hold_expired,
    transition,
)
from necstgen_desk.records.roles import Permission, Role

# Every allowed (state, action, role) and where it leads; anything else is refused.
# "system" is role None.
EXPECTED = """
released        start_operation      operator shift_lead qa              -> in_operation
in_operation    end_operation        operator shift_lead qa              -> to_be_cleaned
to_be_cleaned   start_cleaning       operator shift_lead qa              -> cleaning
cleaning        finish_cleaning      operator shift_lead qa              -> cleaned
cleaned         release              qa                                  -> released
in_operation    start_maintenance    shift_lead maintenance qa           -> maintenance
to_be_cleaned   start_maintenance    shift_lead maintenance qa           -> maintenance
cleaning        start_maintenance    shift_lead maintenance qa           -> maintenance
cleaned         start_maintenance    shift_lead maintenance qa           -> maintenance
released        start_maintenance    shift_lead maintenance qa           -> maintenance
out_of_service  start_maintenance    shift_lead maintenance qa           -> maintenance
maintenance     end_maintenance      shift_lead maintenance qa           -> to_be_cleaned
in_operation    take_out_of_service  shift_lead maintenance qa           -> out_of_service
to_be_cleaned   take_out_of_service  shift_lead maintenance qa           -> out_of_service
cleaning        take_out_of_service  shift_lead maintenance qa           -> out_of_service
cleaned         take_out_of_service  shift_lead maintenance qa           -> out_of_service
released        take_out_of_service  shift_lead maintenance qa           -> out_of_service
maintenance     take_out_of_service  shift_lead maintenance qa           -> out_of_service
out_of_service  return_to_service    shift_lead maintenance qa           -> to_be_cleaned
released        hold_time_expired    system                              -> to_be_cleaned
"""

ROLES: list[Role | None] = [*Role, None]


def parse_expected() -> dict[tuple[RoomStatus, RoomAction, Role | None], RoomStatus]:
    table: dict[tuple[RoomStatus, RoomAction, Role | None], RoomStatus] = {}
    for line in EXPECTED.strip().splitlines():
        left, target = line.split("->")
        state, action, *roles = left.split()
        for name in roles:
            role = None if name == "system" else Role(name)
            key = (RoomStatus(state), RoomAction(action), role)
            assert key not in table, key
            table[key] = RoomStatus(target.strip())
    return table


EXPECTED_TABLE = parse_expected()


def happy_context(action: RoomAction) -> TransitionContext:
    """A context in which every rule beyond state and role is met."""
    return TransitionContext(
        actor="qa.second",
        product="AAV-9 vector",
        batch="B-2026-114",
        cleaning_performed_by=("op.one",),
        cleaning_verified_by=("op.two",),
        cleaned_marked_by="lead.three",
        verified_cleaning_logged=True,
        release_blockers=(),
        hold_expired=action is RoomAction.HOLD_TIME_EXPIRED,
    )


def role_id(role: Role | None) -> str:
    return "system" if role is None else role.value


PRODUCT = list(itertools.product(RoomStatus, RoomAction, ROLES))


def test_the_product_covers_every_case() -> None:
    assert len(PRODUCT) == 7 * 10 * 6
    assert set(EXPECTED_TABLE) <= set(PRODUCT)


@pytest.mark.parametrize(
    ("state", "action", "role"),
    PRODUCT,
    ids=[f"{s.value}-{a.value}-{role_id(r)}" for s, a, r in PRODUCT],
)
def test_lifecycle_table(state: RoomStatus, action: RoomAction, role: Role | None) -> None:
    decision = decide(state, action, role, happy_context(action))
    expected = EXPECTED_TABLE.get((state, action, role))
    assert decision.new_status == expected
    assert decision.allowed is (expected is not None)
    if expected is None:
        assert decision.reasons and all(r.strip() for r in decision.reasons)
        assert decision.reason
    else:
        assert decision.reasons == ()


@pytest.mark.parametrize("state", list(RoomStatus))
@pytest.mark.parametrize("role", ROLES, ids=role_id)
def test_allowed_actions_match_the_table(state: RoomStatus, role: Role | None) -> None:
    expected = [a for a in RoomAction if (state, a, role) in EXPECTED_TABLE]
    assert allowed_actions(state, role) == expected


def test_transitions_are_data() -> None:
    assert set(TRANSITIONS) == set(RoomAction)
    release = TRANSITIONS[RoomAction.RELEASE]
    assert release.permission is Permission.RELEASE_ROOM
    assert TRANSITIONS[RoomAction.HOLD_TIME_EXPIRED].system_only


def test_display_names() -> None:
    assert [s.display_name for s in RoomStatus] == [
        "In operation",
        "To be cleaned",
        "Cleaning",
        "Cleaned",
        "Released",
        "Maintenance",
        "Out of service",
    ]
    assert all(a.display_name for a in RoomAction)


def test_a_wrong_state_says_which_states_are_allowed() -> None:
    decision = decide(
        RoomStatus.TO_BE_CLEANED, RoomAction.RELEASE, Role.QA, happy_context(RoomAction.RELEASE)
    )
    assert decision.reason == "cannot release while the room is To be cleaned; only from: Cleaned"


def test_a_wrong_role_is_a_permission_refusal() -> None:
    ctx = happy_context(RoomAction.RELEASE)
    decision = decide(RoomStatus.CLEANED, RoomAction.RELEASE, Role.OPERATOR, ctx)
    assert decision.denied_permission is Permission.RELEASE_ROOM
    assert decision.reason == "the role Operator may not release (allowed: QA)"
    with pytest.raises(PermissionDenied, match="only QA may") as caught:
        transition(RoomStatus.CLEANED, RoomAction.RELEASE, Role.OPERATOR, ctx)
    assert caught.value.username == "qa.second"


def test_people_and_system_keep_to_their_actions() -> None:
    ctx = happy_context(RoomAction.HOLD_TIME_EXPIRED)
    by_qa = decide(RoomStatus.RELEASED, RoomAction.HOLD_TIME_EXPIRED, Role.QA, ctx)
    assert "system only" in by_qa.reason and by_qa.denied_permission is None
    by_system = decide(RoomStatus.CLEANED, RoomAction.RELEASE, None, ctx)
    assert "done by a person" in by_system.reason


# ---------------------------------------------------------------- release


def release(ctx: TransitionContext) -> tuple[str, ...]:
    return decide(RoomStatus.CLEANED, RoomAction.RELEASE, Role.QA, ctx).reasons


BASE = happy_context(RoomAction.RELEASE)


@pytest.mark.parametrize(
    ("ctx", "reason"),
    [
        (
            replace(BASE, actor="Op.One"),
            "Op.One performed the cleaning; a second person must release the room",
        ),
        (
            replace(BASE, actor="op.two"),
            "op.two verified the cleaning; a second person must release the room",
        ),
        (
            replace(BASE, cleaned_marked_by="qa.second"),
            "qa.second marked the room cleaned; a second person must release the room",
        ),
        (replace(BASE, cleaning_performed_by=()), "who performed the cleaning is not known"),
        (replace(BASE, actor=" "), "the releasing user is not known"),
    ],
)
def test_release_needs_a_second_person(ctx: TransitionContext, reason: str) -> None:
    assert release(ctx) == (reason,)


def test_release_lists_every_blocker() -> None:
    blockers = ("action-level alarm: B-01 particles ≥0.5 µm", "interlock fault: airlock AL-2")
    ctx = replace(BASE, release_blockers=blockers, cleaned_marked_by="qa.second")
    assert release(ctx) == (
        "qa.second marked the room cleaned; a second person must release the room",
        "release blocked: action-level alarm: B-01 particles ≥0.5 µm",
        "release blocked: interlock fault: airlock AL-2",
    )
    with pytest.raises(RuleViolation) as caught:
        transition(RoomStatus.CLEANED, RoomAction.RELEASE, Role.QA, ctx)
    assert caught.value.rule == "Release refused"
    assert len(caught.value.reasons) == 3
    assert "interlock fault: airlock AL-2" in str(caught.value)


def test_release_by_a_second_qa_person() -> None:
    assert transition(RoomStatus.CLEANED, RoomAction.RELEASE, Role.QA, BASE) is RoomStatus.RELEASED


def test_no_blockers_is_a_release_blockers() -> None:
    source: ReleaseBlockers = NoBlockers()
    assert source.blockers("B-01") == []


# ---------------------------------------------------------------- other conditions


def test_operation_needs_product_and_batch() -> None:
    ctx = replace(happy_context(RoomAction.START_OPERATION), product=" ", batch="")
    decision = decide(RoomStatus.RELEASED, RoomAction.START_OPERATION, Role.OPERATOR, ctx)
    assert decision.reasons == ("operation needs the product", "operation needs the batch")


def test_no_operation_after_the_clean_hold_expired() -> None:
    ctx = replace(happy_context(RoomAction.START_OPERATION), hold_expired=True)
    decision = decide(RoomStatus.RELEASED, RoomAction.START_OPERATION, Role.OPERATOR, ctx)
    assert decision.reasons == ("the clean hold time has expired; the room must be cleaned again",)


def test_finish_cleaning_needs_a_verified_record() -> None:
    ctx = replace(happy_context(RoomAction.FINISH_CLEANING), verified_cleaning_logged=False)
    decision = decide(RoomStatus.CLEANING, RoomAction.FINISH_CLEANING, Role.OPERATOR, ctx)
    assert decision.reasons == (
        "no verified cleaning record has been logged since cleaning started",
    )


def test_the_system_expires_only_an_expired_hold() -> None:
    ctx = happy_context(RoomAction.START_OPERATION)  # hold not expired
    decision = decide(RoomStatus.RELEASED, RoomAction.HOLD_TIME_EXPIRED, None, ctx)
    assert decision.reasons == ("the clean hold time has not expired yet",)


# ---------------------------------------------------------------- hold time, suppression

RELEASED_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("elapsed", "hold", "expired"),
    [
        (timedelta(0), DEFAULT_CLEAN_HOLD, False),
        (timedelta(hours=72) - timedelta(microseconds=1), DEFAULT_CLEAN_HOLD, False),
        (timedelta(hours=72), DEFAULT_CLEAN_HOLD, True),
        (timedelta(days=30), DEFAULT_CLEAN_HOLD, True),
        (timedelta(hours=25), timedelta(hours=24), True),
        (timedelta(hours=23), timedelta(hours=24), False),
    ],
)
def test_hold_expiry(elapsed: timedelta, hold: timedelta, expired: bool) -> None:
    assert hold_expired(RELEASED_AT, RELEASED_AT + elapsed, hold) is expired


def test_hold_expiry_refuses_naive_times_and_empty_holds() -> None:
    with pytest.raises(ValueError, match="time zone"):
        hold_expired(RELEASED_AT.replace(tzinfo=None), RELEASED_AT)
    with pytest.raises(ValueError, match="time zone"):
        hold_expired(RELEASED_AT, RELEASED_AT.replace(tzinfo=None))
    with pytest.raises(ValueError, match="longer than zero"):
        hold_expired(RELEASED_AT, RELEASED_AT, timedelta(0))


@pytest.mark.parametrize("status", list(RoomStatus))
def test_alarms_suppressed_only_in_maintenance_and_out_of_service(status: RoomStatus) -> None:
    assert alarms_suppressed(status) is (
        status in (RoomStatus.MAINTENANCE, RoomStatus.OUT_OF_SERVICE)
    )
