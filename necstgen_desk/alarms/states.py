"""The ISA-18.2 alarm state machine, pure: ``transition(state, event, ...) -> state``.

Precedence: Out of service hides everything, then Suppressed by design, then
Shelved; under them the alarm is Normal, Unacknowledged, Acknowledged or
Returned-unacknowledged. Leaving one of the hiding states re-evaluates the
alarm against its condition *now* (``active``): an alarm whose condition is
present comes back Unacknowledged, so nothing hidden is lost; one whose
condition is gone comes back Normal.

Process and system events (condition changes, shelf expiry, suppression) are
always accepted: when they change nothing the state is returned as it was.
A person's action that makes no sense in the state (acknowledging a Normal
alarm, unshelving one that is not shelved) raises :class:`TransitionRefused`
with a sentence that says why.
"""

from __future__ import annotations

from necstgen_desk.alarms.model import AlarmEvent, AlarmState

__all__ = ["TransitionRefused", "allowed", "transition"]

_S = AlarmState
_E = AlarmEvent
_ANNUNCIATED = (_S.NORMAL, _S.UNACKNOWLEDGED, _S.ACKNOWLEDGED, _S.RETURNED_UNACKNOWLEDGED)


class TransitionRefused(ValueError):
    """A person's action does not apply to the alarm in its present state."""

    def __init__(self, state: AlarmState, event: AlarmEvent, reason: str) -> None:
        self.state = state
        self.event = event
        self.reason = reason
        super().__init__(reason)


def _reenter(active: bool, suppressed: bool = False) -> AlarmState:
    """Where an alarm lands when a hiding state ends."""
    if suppressed:
        return _S.SUPPRESSED
    return _S.UNACKNOWLEDGED if active else _S.NORMAL


def transition(
    state: AlarmState, event: AlarmEvent, *, active: bool = False, suppressed: bool = False
) -> AlarmState:
    """The state after ``event``.

    ``active`` is whether the alarm's condition is present after the event
    (for the condition events it is implied); ``suppressed`` whether its room
    is suppressed by design now (used when an alarm returns to service).
    """
    match event:
        case _E.CONDITION_ACTIVE:
            if state in (_S.NORMAL, _S.RETURNED_UNACKNOWLEDGED):
                return _S.UNACKNOWLEDGED
            return state
        case _E.CONDITION_CLEARED:
            if state is _S.UNACKNOWLEDGED:
                return _S.RETURNED_UNACKNOWLEDGED
            if state is _S.ACKNOWLEDGED:
                return _S.NORMAL
            return state
        case _E.ACKNOWLEDGE:
            if state is _S.UNACKNOWLEDGED:
                return _S.ACKNOWLEDGED
            if state is _S.RETURNED_UNACKNOWLEDGED:
                return _S.NORMAL
            raise TransitionRefused(state, event, _no_ack(state))
        case _E.SHELVE:
            if state in _ANNUNCIATED:
                return _S.SHELVED
            raise TransitionRefused(
                state, event, f"an alarm that is {state.display_name.lower()} cannot be shelved"
            )
        case _E.UNSHELVE:
            if state is _S.SHELVED:
                return _reenter(active)
            raise TransitionRefused(state, event, "the alarm is not shelved")
        case _E.SHELF_EXPIRED:
            return _reenter(active) if state is _S.SHELVED else state
        case _E.SUPPRESS:
            if state in (*_ANNUNCIATED, _S.SHELVED):
                return _S.SUPPRESSED
            return state
        case _E.UNSUPPRESS:
            return _reenter(active) if state is _S.SUPPRESSED else state
        case _E.REMOVE_FROM_SERVICE:
            if state is _S.OUT_OF_SERVICE:
                raise TransitionRefused(state, event, "the alarm is already out of service")
            return _S.OUT_OF_SERVICE
        case _E.RETURN_TO_SERVICE:
            if state is not _S.OUT_OF_SERVICE:
                raise TransitionRefused(state, event, "the alarm is not out of service")
            return _reenter(active, suppressed)


def _no_ack(state: AlarmState) -> str:
    if state is _S.NORMAL:
        return "the alarm is normal: there is nothing to acknowledge"
    if state is _S.ACKNOWLEDGED:
        return "the alarm is already acknowledged"
    return f"an alarm that is {state.display_name.lower()} is not acknowledged"


def allowed(state: AlarmState, event: AlarmEvent) -> bool:
    """Whether a person's ``event`` applies to an alarm in ``state`` (process events: always)."""
    try:
        transition(state, event)
    except TransitionRefused:
        return False
    return True
