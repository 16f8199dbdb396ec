"""The alarm state machine as a table: every state × every event × condition present or not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from necstgen_desk.alarms.model import AlarmEvent, AlarmState
from necstgen_desk.alarms.states import TransitionRefused, allowed, transition

S = AlarmState
E = AlarmEvent
NO = "refused"
Expected = AlarmState | str

# (state, event) -> (result with the condition clear, result with it active).
# For the condition events the second column is the one that applies
# (CONDITION_ACTIVE is always "active", CONDITION_CLEARED always "clear").
TABLE: dict[tuple[AlarmState, AlarmEvent], tuple[Expected, Expected]] = {
    # ---- Normal
    (S.NORMAL, E.CONDITION_ACTIVE): (S.UNACKNOWLEDGED, S.UNACKNOWLEDGED),
    (S.NORMAL, E.CONDITION_CLEARED): (S.NORMAL, S.NORMAL),
    (S.NORMAL, E.ACKNOWLEDGE): (NO, NO),
    (S.NORMAL, E.SHELVE): (S.SHELVED, S.SHELVED),
    (S.NORMAL, E.UNSHELVE): (NO, NO),
    (S.NORMAL, E.SHELF_EXPIRED): (S.NORMAL, S.NORMAL),
    (S.NORMAL, E.SUPPRESS): (S.SUPPRESSED, S.SUPPRESSED),
    (S.NORMAL, E.UNSUPPRESS): (S.NORMAL, S.NORMAL),
    (S.NORMAL, E.REMOVE_FROM_SERVICE): (S.OUT_OF_SERVICE, S.OUT_OF_SERVICE),
    (S.NORMAL, E.RETURN_TO_SERVICE): (NO, NO),
    # ---- Unacknowledged
    (S.UNACKNOWLEDGED, E.CONDITION_ACTIVE): (S.UNACKNOWLEDGED, S.UNACKNOWLEDGED),
    (S.UNACKNOWLEDGED, E.CONDITION_CLEARED): (
        S.RETURNED_UNACKNOWLEDGED,
        S.RETURNED_UNACKNOWLEDGED,
    ),
    (S.UNACKNOWLEDGED, E.ACKNOWLEDGE): (S.ACKNOWLEDGED, S.ACKNOWLEDGED),
    (S.UNACKNOWLEDGED, E.SHELVE): (S.SHELVED, S.SHELVED),
    (S.UNACKNOWLEDGED, E.UNSHELVE): (NO, NO),
    (S.UNACKNOWLEDGED, E.SHELF_EXPIRED): (S.UNACKNOWLEDGED, S.UNACKNOWLEDGED),
    (S.UNACKNOWLEDGED, E.SUPPRESS): (S.SUPPRESSED, S.SUPPRESSED),
    (S.UNACKNOWLEDGED, E.UNSUPPRESS): (S.UNACKNOWLEDGED, S.UNACKNOWLEDGED),
    (S.UNACKNOWLEDGED, E.REMOVE_FROM_SERVICE): (S.OUT_OF_SERVICE, S.OUT_OF_SERVICE),
    (S.UNACKNOWLEDGED, E.RETURN_TO_SERVICE): (NO, NO),
    # ---- Acknowledged
    (S.ACKNOWLEDGED, E.CONDITION_ACTIVE): (S.ACKNOWLEDGED, S.ACKNOWLEDGED),
    (S.ACKNOWLEDGED, E.CONDITION_CLEARED): (S.NORMAL, S.NORMAL),
    (S.ACKNOWLEDGED, E.ACKNOWLEDGE): (NO, NO),
    (S.ACKNOWLEDGED, E.SHELVE): (S.SHELVED, S.SHELVED),
    (S.ACKNOWLEDGED, E.UNSHELVE): (NO, NO),
    (S.ACKNOWLEDGED, E.SHELF_EXPIRED): (S.ACKNOWLEDGED, S.ACKNOWLEDGED),
    (S.ACKNOWLEDGED, E.SUPPRESS): (S.SUPPRESSED, S.SUPPRESSED),
    (S.ACKNOWLEDGED, E.UNSUPPRESS): (S.ACKNOWLEDGED, S.ACKNOWLEDGED),
    (S.ACKNOWLEDGED, E.REMOVE_FROM_SERVICE): (S.OUT_OF_SERVICE, S.OUT_OF_SERVICE),
    (S.ACKNOWLEDGED, E.RETURN_TO_SERVICE): (NO, NO),
    # ---- Returned, unacknowledged
    (S.RETURNED_UNACKNOWLEDGED, E.CONDITION_ACTIVE): (S.UNACKNOWLEDGED, S.UNACKNOWLEDGED),
    (S.RETURNED_UNACKNOWLEDGED, E.CONDITION_CLEARED): (
        S.RETURNED_UNACKNOWLEDGED,
        S.RETURNED_UNACKNOWLEDGED,
    ),
    (S.RETURNED_UNACKNOWLEDGED, E.ACKNOWLEDGE): (S.NORMAL, S.NORMAL),
    (S.RETURNED_UNACKNOWLEDGED, E.SHELVE): (S.SHELVED, S.SHELVED),
    (S.RETURNED_UNACKNOWLEDGED, E.UNSHELVE): (NO, NO),
    (S.RETURNED_UNACKNOWLEDGED, E.SHELF_EXPIRED): (
        S.RETURNED_UNACKNOWLEDGED,
        S.RETURNED_UNACKNOWLEDGED,
    ),
    (S.RETURNED_UNACKNOWLEDGED, E.SUPPRESS): (S.SUPPRESSED, S.SUPPRESSED),
    (S.RETURNED_UNACKNOWLEDGED, E.UNSUPPRESS): (
        S.RETURNED_UNACKNOWLEDGED,
        S.RETURNED_UNACKNOWLEDGED,
    ),
    (S.RETURNED_UNACKNOWLEDGED, E.REMOVE_FROM_SERVICE): (S.OUT_OF_SERVICE, S.OUT_OF_SERVICE),
    (S.RETURNED_UNACKNOWLEDGED, E.RETURN_TO_SERVICE): (NO, NO),
    # ---- Shelved: the condition is tracked, not shown; leaving re-evaluates it
    (S.SHELVED, E.CONDITION_ACTIVE): (S.SHELVED, S.SHELVED),
    (S.SHELVED, E.CONDITION_CLEARED): (S.SHELVED, S.SHELVED),
    (S.SHELVED, E.ACKNOWLEDGE): (NO, NO),
    (S.SHELVED, E.SHELVE): (NO, NO),
    (S.SHELVED, E.UNSHELVE): (S.NORMAL, S.UNACKNOWLEDGED),
    (S.SHELVED, E.SHELF_EXPIRED): (S.NORMAL, S.UNACKNOWLEDGED),
    (S.SHELVED, E.SUPPRESS): (S.SUPPRESSED, S.SUPPRESSED),
    (S.SHELVED, E.UNSUPPRESS): (S.SHELVED, S.SHELVED),
    (S.SHELVED, E.REMOVE_FROM_SERVICE): (S.OUT_OF_SERVICE, S.OUT_OF_SERVICE),
    (S.SHELVED, E.RETURN_TO_SERVICE): (NO, NO),
    # ---- Suppressed by design
    (S.SUPPRESSED, E.CONDITION_ACTIVE): (S.SUPPRESSED, S.SUPPRESSED),
    (S.SUPPRESSED, E.CONDITION_CLEARED): (S.SUPPRESSED, S.SUPPRESSED),
    (S.SUPPRESSED, E.ACKNOWLEDGE): (NO, NO),
    (S.SUPPRESSED, E.SHELVE): (NO, NO),
    (S.SUPPRESSED, E.UNSHELVE): (NO, NO),
    (S.SUPPRESSED, E.SHELF_EXPIRED): (S.SUPPRESSED, S.SUPPRESSED),
    (S.SUPPRESSED, E.SUPPRESS): (S.SUPPRESSED, S.SUPPRESSED),
    (S.SUPPRESSED, E.UNSUPPRESS): (S.NORMAL, S.UNACKNOWLEDGED),
    (S.SUPPRESSED, E.REMOVE_FROM_SERVICE): (S.OUT_OF_SERVICE, S.OUT_OF_SERVICE),
    (S.SUPPRESSED, E.RETURN_TO_SERVICE): (NO, NO),
    # ---- Out of service
    (S.OUT_OF_SERVICE, E.CONDITION_ACTIVE): (S.OUT_OF_SERVICE, S.OUT_OF_SERVICE),
    (S.OUT_OF_SERVICE, E.CONDITION_CLEARED): (S.OUT_OF_SERVICE, S.OUT_OF_SERVICE),
    (S.OUT_OF_SERVICE, E.ACKNOWLEDGE): (NO, NO),
    (S.OUT_OF_SERVICE, E.SHELVE): (NO, NO),
    (S.OUT_OF_SERVICE, E.UNSHELVE): (NO, NO),
    (S.OUT_OF_SERVICE, E.SHELF_EXPIRED): (S.OUT_OF_SERVICE, S.OUT_OF_SERVICE),
    (S.OUT_OF_SERVICE, E.SUPPRESS): (S.OUT_OF_SERVICE, S.OUT_OF_SERVICE),
    (S.OUT_OF_SERVICE, E.UNSUPPRESS): (S.OUT_OF_SERVICE, S.OUT_OF_SERVICE),
    (S.OUT_OF_SERVICE, E.REMOVE_FROM_SERVICE): (NO, NO),
    (S.OUT_OF_SERVICE, E.RETURN_TO_SERVICE): (S.NORMAL, S.UNACKNOWLEDGED),
}

CASES = [
    pytest.param(
        state, event, active, TABLE[(state, event)][active], id=f"{state}-{event}-{active}"
    )
    for state in AlarmState
    for event in AlarmEvent
    for active in (False, True)
]


def test_the_table_covers_every_state_and_event() -> None:
    assert set(TABLE) == {(s, e) for s in AlarmState for e in AlarmEvent}


@pytest.mark.parametrize(("state", "event", "active", "expected"), CASES)
def test_transition(state: AlarmState, event: AlarmEvent, active: bool, expected: Expected) -> None:
    if expected == NO:
        with pytest.raises(TransitionRefused) as info:
            transition(state, event, active=active)
        assert info.value.state is state and info.value.event is event
        assert info.value.reason  # a sentence the service shows
        assert event.by_person, "only a person's action may be refused"
        assert not allowed(state, event)
    else:
        assert transition(state, event, active=active) is expected


@pytest.mark.parametrize("active", [False, True])
def test_returning_to_service_in_a_suppressed_room_stays_suppressed(active: bool) -> None:
    assert (
        transition(S.OUT_OF_SERVICE, E.RETURN_TO_SERVICE, active=active, suppressed=True)
        is S.SUPPRESSED
    )


def test_refusals_say_why() -> None:
    with pytest.raises(TransitionRefused, match="nothing to acknowledge"):
        transition(S.NORMAL, E.ACKNOWLEDGE)
    with pytest.raises(TransitionRefused, match="already acknowledged"):
        transition(S.ACKNOWLEDGED, E.ACKNOWLEDGE)
    with pytest.raises(TransitionRefused, match="not shelved"):
        transition(S.NORMAL, E.UNSHELVE)


@given(st.lists(st.sampled_from(list(AlarmEvent)), max_size=60))
def test_a_shown_alarm_always_agrees_with_its_condition(events: list[AlarmEvent]) -> None:
    """Whatever happens, an alarm that is shown (not shelved, suppressed or out of
    service) is Unacknowledged or Acknowledged exactly while its condition is
    active: an active condition is never hidden as Normal, a cleared one never
    shown as standing."""
    state, active = S.NORMAL, False
    for event in events:
        if event is E.CONDITION_ACTIVE:
            active = True
        elif event is E.CONDITION_CLEARED:
            active = False
        try:
            state = transition(state, event, active=active)
        except TransitionRefused:
            continue
        if state in (S.NORMAL, S.UNACKNOWLEDGED, S.ACKNOWLEDGED, S.RETURNED_UNACKNOWLEDGED):
            assert (state in (S.UNACKNOWLEDGED, S.ACKNOWLEDGED)) == active, (event, state)
