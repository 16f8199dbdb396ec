"""The room lifecycle as an explicit state machine (DESIGN.md §3, issue 3).

In operation (product, batch) → To be cleaned → Cleaning → Cleaned → Released
→ In operation; plus Maintenance and Out of service, entered from any state
and left to To be cleaned. :func:`decide` is pure: the service gathers the
facts into a :class:`TransitionContext`, asks, and writes the new status with
its audit entry only when allowed. Annex 1 (2022) ch. 4 (cleaning and
disinfection of cleanrooms) and ch. 8 (a cleaned area is released before use)
drive the cleaning and release rules; Part 11 §11.10(f) asks for enforced
sequencing of steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol

from necstgen_desk.records.errors import PermissionDenied, RuleViolation
from necstgen_desk.records.roles import (
    ROLE_PERMISSIONS,
    Permission,
    Role,
    roles_allowed,
    same_user,
)

#: How long a Released room stays released before it must be cleaned again.
DEFAULT_CLEAN_HOLD = timedelta(hours=72)


class RoomStatus(StrEnum):
    IN_OPERATION = "in_operation"
    TO_BE_CLEANED = "to_be_cleaned"
    CLEANING = "cleaning"
    CLEANED = "cleaned"
    RELEASED = "released"
    MAINTENANCE = "maintenance"
    OUT_OF_SERVICE = "out_of_service"

    @property
    def display_name(self) -> str:
        return _STATUS_NAMES[self]


_STATUS_NAMES: Mapping[RoomStatus, str] = {
    RoomStatus.IN_OPERATION: "In operation",
    RoomStatus.TO_BE_CLEANED: "To be cleaned",
    RoomStatus.CLEANING: "Cleaning",
    RoomStatus.CLEANED: "Cleaned",
    RoomStatus.RELEASED: "Released",
    RoomStatus.MAINTENANCE: "Maintenance",
    RoomStatus.OUT_OF_SERVICE: "Out of service",
}


class RoomAction(StrEnum):
    START_OPERATION = "start_operation"  # needs product and batch
    END_OPERATION = "end_operation"
    START_CLEANING = "start_cleaning"
    FINISH_CLEANING = "finish_cleaning"
    RELEASE = "release"
    START_MAINTENANCE = "start_maintenance"
    END_MAINTENANCE = "end_maintenance"
    TAKE_OUT_OF_SERVICE = "take_out_of_service"
    RETURN_TO_SERVICE = "return_to_service"
    HOLD_TIME_EXPIRED = "hold_time_expired"  # the system only

    @property
    def display_name(self) -> str:
        return _ACTION_NAMES[self]


_ACTION_NAMES: Mapping[RoomAction, str] = {
    RoomAction.START_OPERATION: "Start operation",
    RoomAction.END_OPERATION: "End operation",
    RoomAction.START_CLEANING: "Start cleaning",
    RoomAction.FINISH_CLEANING: "Finish cleaning",
    RoomAction.RELEASE: "Release",
    RoomAction.START_MAINTENANCE: "Start maintenance",
    RoomAction.END_MAINTENANCE: "End maintenance",
    RoomAction.TAKE_OUT_OF_SERVICE: "Take out of service",
    RoomAction.RETURN_TO_SERVICE: "Return to service",
    RoomAction.HOLD_TIME_EXPIRED: "Clean hold time expired",
}


@dataclass(frozen=True, slots=True)
class Transition:
    """One action: the states it starts from, where it leads, who may do it.

    ``permission`` is ``None`` for an action only the system takes.
    """

    action: RoomAction
    sources: frozenset[RoomStatus]
    target: RoomStatus
    permission: Permission | None

    @property
    def system_only(self) -> bool:
        return self.permission is None


_S = RoomStatus
_ALL = frozenset(RoomStatus)


def _t(
    action: RoomAction,
    sources: frozenset[RoomStatus],
    target: RoomStatus,
    permission: Permission | None,
) -> tuple[RoomAction, Transition]:
    return action, Transition(action, sources, target, permission)


#: The whole machine as data, for the services and for a UI listing allowed actions.
TRANSITIONS: Mapping[RoomAction, Transition] = MappingProxyType(
    dict(
        [
            _t(
                RoomAction.START_OPERATION,
                frozenset({_S.RELEASED}),
                _S.IN_OPERATION,
                Permission.CHANGE_ROOM_STATUS,
            ),
            _t(
                RoomAction.END_OPERATION,
                frozenset({_S.IN_OPERATION}),
                _S.TO_BE_CLEANED,
                Permission.CHANGE_ROOM_STATUS,
            ),
            _t(
                RoomAction.START_CLEANING,
                frozenset({_S.TO_BE_CLEANED}),
                _S.CLEANING,
                Permission.CHANGE_ROOM_STATUS,
            ),
            _t(
                RoomAction.FINISH_CLEANING,
                frozenset({_S.CLEANING}),
                _S.CLEANED,
                Permission.CHANGE_ROOM_STATUS,
            ),
            _t(
                RoomAction.RELEASE,
                frozenset({_S.CLEANED}),
                _S.RELEASED,
                Permission.RELEASE_ROOM,
            ),
            _t(
                RoomAction.START_MAINTENANCE,
                _ALL - {_S.MAINTENANCE},
                _S.MAINTENANCE,
                Permission.SET_MAINTENANCE,
            ),
            _t(
                RoomAction.END_MAINTENANCE,
                frozenset({_S.MAINTENANCE}),
                _S.TO_BE_CLEANED,
                Permission.SET_MAINTENANCE,
            ),
            _t(
                RoomAction.TAKE_OUT_OF_SERVICE,
                _ALL - {_S.OUT_OF_SERVICE},
                _S.OUT_OF_SERVICE,
                Permission.SET_MAINTENANCE,
            ),
            _t(
                RoomAction.RETURN_TO_SERVICE,
                frozenset({_S.OUT_OF_SERVICE}),
                _S.TO_BE_CLEANED,
                Permission.SET_MAINTENANCE,
            ),
            _t(
                RoomAction.HOLD_TIME_EXPIRED,
                frozenset({_S.RELEASED}),
                _S.TO_BE_CLEANED,
                None,
            ),
        ]
    )
)


class ReleaseBlockers(Protocol):
    """What stops a release: active action-level alarms and interlock faults.

    The alarm engine implements this; each string names one blocker in plain
    words, e.g. "action-level alarm: B-01 particles ≥0.5 µm".
    """

    def blockers(self, room_id: str) -> list[str]: ...


class NoBlockers:
    """The stand-in until the alarm engine exists: nothing blocks a release."""

    def blockers(self, room_id: str) -> list[str]:
        del room_id
        return []


@dataclass(frozen=True, slots=True)
class TransitionContext:
    """The facts :func:`decide` needs, gathered by the service.

    ``cleaning_performed_by`` / ``cleaning_verified_by`` are the people on the
    cleaning records of the current cleaning; ``cleaned_marked_by`` is who took
    the room to Cleaned. ``verified_cleaning_logged`` says a verified cleaning
    record exists since cleaning started. ``hold_expired`` comes from
    :func:`hold_expired`.
    """

    actor: str = ""
    product: str = ""
    batch: str = ""
    cleaning_performed_by: tuple[str, ...] = ()
    cleaning_verified_by: tuple[str, ...] = ()
    cleaned_marked_by: str | None = None
    verified_cleaning_logged: bool = False
    release_blockers: tuple[str, ...] = ()
    hold_expired: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer of :func:`decide`: the new status, or the reasons for refusing.

    ``denied_permission`` is set when the refusal is about the role (so the
    service raises :class:`PermissionDenied` rather than :class:`RuleViolation`).
    """

    action: RoomAction
    current: RoomStatus
    new_status: RoomStatus | None
    reasons: tuple[str, ...] = ()
    denied_permission: Permission | None = None

    @property
    def allowed(self) -> bool:
        return self.new_status is not None

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def decide(
    current: RoomStatus,
    action: RoomAction,
    role: Role | None,
    context: TransitionContext,
) -> Decision:
    """Whether ``role`` (``None`` = the system) may take ``action`` on a room in
    ``current``, given ``context``; pure, never raises for a refusal."""
    transition = TRANSITIONS[action]
    doing = action.display_name.lower()

    def refuse(*reasons: str, permission: Permission | None = None) -> Decision:
        return Decision(action, current, None, tuple(reasons), permission)

    if transition.permission is None:
        if role is not None:
            return refuse(f"{doing} is applied by the system only, not by a person")
    elif role is None:
        return refuse(f"{doing} is done by a person; the system does not do it")
    elif transition.permission not in ROLE_PERMISSIONS[role]:
        allowed = ", ".join(r.display_name for r in roles_allowed(transition.permission))
        return refuse(
            f"the role {role.display_name} may not {doing} (allowed: {allowed})",
            permission=transition.permission,
        )

    if current not in transition.sources:
        sources = ", ".join(s.display_name for s in RoomStatus if s in transition.sources)
        return refuse(
            f"cannot {doing} while the room is {current.display_name}; only from: {sources}"
        )

    problems = _conditions(action, context)
    if problems:
        return refuse(*problems)
    return Decision(action, current, transition.target)


def _conditions(action: RoomAction, ctx: TransitionContext) -> list[str]:
    problems: list[str] = []
    if action is RoomAction.START_OPERATION:
        if not ctx.product.strip():
            problems.append("operation needs the product")
        if not ctx.batch.strip():
            problems.append("operation needs the batch")
        if ctx.hold_expired:
            problems.append("the clean hold time has expired; the room must be cleaned again")
    elif action is RoomAction.FINISH_CLEANING:
        if not ctx.verified_cleaning_logged:
            problems.append("no verified cleaning record has been logged since cleaning started")
    elif action is RoomAction.RELEASE:
        problems.extend(_release_problems(ctx))
    elif action is RoomAction.HOLD_TIME_EXPIRED and not ctx.hold_expired:
        problems.append("the clean hold time has not expired yet")
    return problems


def _release_problems(ctx: TransitionContext) -> list[str]:
    """Release is QA's, by a second person, with nothing blocking (DESIGN.md §3)."""
    problems: list[str] = []
    if not ctx.actor.strip():
        problems.append("the releasing user is not known")
    if not ctx.cleaning_performed_by:
        problems.append("who performed the cleaning is not known")
    if any(same_user(ctx.actor, name) for name in ctx.cleaning_performed_by):
        problems.append(
            f"{ctx.actor} performed the cleaning; a second person must release the room"
        )
    if any(same_user(ctx.actor, name) for name in ctx.cleaning_verified_by):
        problems.append(f"{ctx.actor} verified the cleaning; a second person must release the room")
    if same_user(ctx.actor, ctx.cleaned_marked_by):
        problems.append(
            f"{ctx.actor} marked the room cleaned; a second person must release the room"
        )
    problems.extend(f"release blocked: {blocker}" for blocker in ctx.release_blockers)
    return problems


def transition(
    current: RoomStatus,
    action: RoomAction,
    role: Role | None,
    context: TransitionContext,
) -> RoomStatus:
    """The new status, or raise :class:`PermissionDenied` / :class:`RuleViolation`."""
    decision = decide(current, action, role, context)
    if decision.new_status is not None:
        return decision.new_status
    if decision.denied_permission is not None and role is not None:
        raise PermissionDenied(
            context.actor or "unknown user",
            role.display_name,
            decision.denied_permission.description,
            [r.display_name for r in roles_allowed(decision.denied_permission)],
        )
    raise RuleViolation(f"{action.display_name} refused", decision.reasons)


def allowed_actions(current: RoomStatus, role: Role | None) -> list[RoomAction]:
    """The actions ``role`` may take from ``current`` by state and role alone
    (the context rules may still refuse); ``None`` = the system."""
    actions = []
    for action, t in TRANSITIONS.items():
        if current not in t.sources:
            continue
        if t.permission is None:
            if role is None:
                actions.append(action)
        elif role is not None and t.permission in ROLE_PERMISSIONS[role]:
            actions.append(action)
    return actions


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} {value.isoformat()} has no time zone; use UTC")


def hold_expires_at(released_at: datetime, hold: timedelta = DEFAULT_CLEAN_HOLD) -> datetime:
    _require_aware("released_at", released_at)
    if hold <= timedelta(0):
        raise ValueError("the clean hold time must be longer than zero")
    return released_at + hold


def hold_expired(
    released_at: datetime, now: datetime, hold: timedelta = DEFAULT_CLEAN_HOLD
) -> bool:
    """Whether a room released at ``released_at`` has passed its clean hold time at ``now``."""
    _require_aware("now", now)
    return now >= hold_expires_at(released_at, hold)


def alarms_suppressed(status: RoomStatus) -> bool:
    """Alarms of a room in Maintenance or Out of service are suppressed by design
    (ISA-18.2); the alarm engine still counts them visibly."""
    return status in (RoomStatus.MAINTENANCE, RoomStatus.OUT_OF_SERVICE)
