"""Alarm types: states, events, kinds, definitions, the runtime view and change events.

ISA-18.2 / IEC 62682 vocabulary (DESIGN.md §3). Definitions are frozen and
derived once from the site (:mod:`necstgen_desk.alarms.definitions`); the
engine keeps one mutable runtime record per definition and hands out frozen
:class:`Alarm` views and :class:`AlarmChange` events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from types import MappingProxyType

from hal.points import Value
from necstgen_desk.site.model import Priority

__all__ = [
    "LISTED_STATES",
    "Alarm",
    "AlarmChange",
    "AlarmCounts",
    "AlarmDefinition",
    "AlarmEvent",
    "AlarmKind",
    "AlarmLevel",
    "AlarmSnapshot",
    "AlarmState",
    "DoorStatus",
    "FloodStatus",
    "InterlockFault",
    "InterlockStatus",
    "Occupancy",
    "Priority",
]


class InterlockFault(IntEnum):
    """The fault codes a door-interlock PLC latches (DESIGN.md §2)."""

    NONE = 0
    BOTH_DOORS_OPEN = 1
    FORCED_OPEN = 2
    HELD_OPEN = 3
    EMERGENCY_RELEASE = 4
    CONTROLLER_FAULT = 5

    @property
    def display_name(self) -> str:
        return _FAULT_NAMES[self]


_FAULT_NAMES: Mapping[InterlockFault, str] = MappingProxyType(
    {
        InterlockFault.NONE: "no fault",
        InterlockFault.BOTH_DOORS_OPEN: "both doors open",
        InterlockFault.FORCED_OPEN: "door forced open while locked",
        InterlockFault.HELD_OPEN: "door held open too long",
        InterlockFault.EMERGENCY_RELEASE: "emergency release",
        InterlockFault.CONTROLLER_FAULT: "controller fault",
    }
)


class AlarmState(StrEnum):
    """The ISA-18.2 alarm states (the latched state E is not used)."""

    NORMAL = "normal"  # A: condition clear, nothing to acknowledge
    UNACKNOWLEDGED = "unacknowledged"  # B: active, not yet acknowledged
    ACKNOWLEDGED = "acknowledged"  # C: active, acknowledged
    RETURNED_UNACKNOWLEDGED = "returned_unacknowledged"  # D: cleared before it was acknowledged
    SHELVED = "shelved"  # F: hidden by an authorised person, for a limited time
    SUPPRESSED = "suppressed"  # G: suppressed by design (room in Maintenance / Out of service)
    OUT_OF_SERVICE = "out_of_service"  # H: removed from service (maintenance of the instrument)

    @property
    def display_name(self) -> str:
        return _STATE_NAMES[self]

    @property
    def needs_acknowledgement(self) -> bool:
        return self in (AlarmState.UNACKNOWLEDGED, AlarmState.RETURNED_UNACKNOWLEDGED)


_STATE_NAMES: Mapping[AlarmState, str] = MappingProxyType(
    {
        AlarmState.NORMAL: "Normal",
        AlarmState.UNACKNOWLEDGED: "Unacknowledged",
        AlarmState.ACKNOWLEDGED: "Acknowledged",
        AlarmState.RETURNED_UNACKNOWLEDGED: "Returned, unacknowledged",
        AlarmState.SHELVED: "Shelved",
        AlarmState.SUPPRESSED: "Suppressed by design",
        AlarmState.OUT_OF_SERVICE: "Out of service",
    }
)

#: States shown in the alarm list (the operator has something to see or do).
LISTED_STATES = frozenset(
    {AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED, AlarmState.RETURNED_UNACKNOWLEDGED}
)


class AlarmEvent(StrEnum):
    """What can happen to an alarm: process events, system events, operator actions."""

    CONDITION_ACTIVE = "condition_active"
    CONDITION_CLEARED = "condition_cleared"
    ACKNOWLEDGE = "acknowledge"
    SHELVE = "shelve"
    UNSHELVE = "unshelve"
    SHELF_EXPIRED = "shelf_expired"
    SUPPRESS = "suppress"
    UNSUPPRESS = "unsuppress"
    REMOVE_FROM_SERVICE = "remove_from_service"
    RETURN_TO_SERVICE = "return_to_service"

    @property
    def by_person(self) -> bool:
        """Whether a person takes this action (the rest are the process or the system)."""
        return self in _PERSON_EVENTS


_PERSON_EVENTS = frozenset(
    {
        AlarmEvent.ACKNOWLEDGE,
        AlarmEvent.SHELVE,
        AlarmEvent.UNSHELVE,
        AlarmEvent.REMOVE_FROM_SERVICE,
        AlarmEvent.RETURN_TO_SERVICE,
    }
)


class AlarmKind(StrEnum):
    LIMIT = "limit"  # a measurement outside its alert or action limits
    CLEANUP = "cleanup"  # at-rest limits not met at the end of the clean-up period
    BOTH_DOORS_OPEN = "both_doors_open"
    DOOR_HELD_OPEN = "door_held_open"
    INTERLOCK_FAULT = "interlock_fault"  # a fault code latched by the door PLC
    LINK_LOST = "link_lost"
    HEARTBEAT_FROZEN = "heartbeat_frozen"
    POINT_BAD = "point_bad"
    RECORD_GAP = "record_gap"  # no good value of a critical differential for gap_s
    AUDIT_CHAIN = "audit_chain"  # the audit trail's hash chain is broken
    HISTORIAN_OVERFLOW = "historian_overflow"  # samples dropped: the historian fell behind

    @property
    def is_system(self) -> bool:
        """Alarms about the monitoring itself rather than the rooms."""
        return self in _SYSTEM_KINDS


_SYSTEM_KINDS = frozenset(
    {
        AlarmKind.LINK_LOST,
        AlarmKind.HEARTBEAT_FROZEN,
        AlarmKind.POINT_BAD,
        AlarmKind.RECORD_GAP,
        AlarmKind.AUDIT_CHAIN,
        AlarmKind.HISTORIAN_OVERFLOW,
    }
)


class AlarmLevel(StrEnum):
    """Annex 1 levels: an alert warns early, an action limit is a deviation."""

    ALERT = "alert"
    ACTION = "action"


@dataclass(frozen=True, slots=True)
class AlarmDefinition:
    """One alarm as configured: what it watches and how it behaves.

    ``source`` is the point, door, airlock, PLC or subsystem the alarm is
    about; ``room`` the space whose status suppresses it (``None``: never
    suppressed by a room). ``fault_code`` is set for interlock-fault alarms
    (``None`` there means "a code the site does not know").
    """

    id: str
    kind: AlarmKind
    source: str
    title: str
    priority: Priority
    room: str | None = None
    level: AlarmLevel | None = None
    on_delay_s: float = 0.0
    off_delay_s: float = 0.0
    deadband: float = 0.0
    door_holdoff_s: float = 0.0
    holdoff_justification: str = ""
    holdoff_doors: tuple[str, ...] = ()
    fault_code: int | None = None
    unit: str = ""

    @property
    def is_interlock_fault(self) -> bool:
        return self.kind is AlarmKind.INTERLOCK_FAULT

    @property
    def is_action_level(self) -> bool:
        return self.level is AlarmLevel.ACTION


@dataclass(frozen=True, slots=True)
class Alarm:
    """An alarm as it stands now (a snapshot; the engine never hands out its own records)."""

    definition: AlarmDefinition
    state: AlarmState
    active: bool  # the (debounced) condition
    message: str
    value: Value | None = None
    raised_at: datetime | None = None  # when the condition last became active
    cleared_at: datetime | None = None
    changed_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    shelved_by: str | None = None
    shelved_until: datetime | None = None
    shelve_reason: str = ""
    seq: int = 0  # the sequence number of its last change

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def priority(self) -> Priority:
        return self.definition.priority

    @property
    def kind(self) -> AlarmKind:
        return self.definition.kind

    @property
    def room(self) -> str | None:
        return self.definition.room


@dataclass(frozen=True, slots=True)
class AlarmChange:
    """One change of one alarm, in the order the engine made them (``seq``).

    ``by`` is the user of a person's action (``None`` for the process and
    the system); ``comment`` their comment or reason.
    """

    seq: int
    definition: AlarmDefinition
    event: AlarmEvent
    old_state: AlarmState
    new_state: AlarmState
    active: bool
    at: datetime
    message: str
    value: Value | None = None
    by: str | None = None
    comment: str = ""
    shelved_until: datetime | None = None

    @property
    def alarm_id(self) -> str:
        return self.definition.id

    @property
    def annunciates(self) -> bool:
        """Whether this change puts a new alarm in front of the operator."""
        return (
            self.new_state is AlarmState.UNACKNOWLEDGED
            and self.old_state is not AlarmState.UNACKNOWLEDGED
        )


@dataclass(frozen=True, slots=True)
class AlarmCounts:
    """The banner's numbers: listed alarms per priority and the hidden ones."""

    high: int = 0
    medium: int = 0
    low: int = 0
    unacknowledged: int = 0
    shelved: int = 0
    suppressed: int = 0  # suppressed by design with the condition active
    out_of_service: int = 0

    @property
    def listed(self) -> int:
        return self.high + self.medium + self.low


@dataclass(frozen=True, slots=True)
class FloodStatus:
    """Alarm flood (ISA-18.2: more than 10 new alarms in 10 minutes)."""

    active: bool
    since: datetime | None  # start of the current flood
    new_in_window: int  # new alarms in the sliding window
    total_s: float  # time spent in flood, the current one included

    @property
    def banner(self) -> str:
        if not self.active:
            return ""
        return f"Alarm flood: {self.new_in_window} new alarms in the last window"


class Occupancy(StrEnum):
    """Which particle limits a room is judged by (Annex 1: in operation vs at rest)."""

    IN_OPERATION = "in_operation"
    CLEAN_UP = "clean_up"  # left operation: in-operation limits until it has recovered
    AT_REST = "at_rest"


@dataclass(frozen=True, slots=True)
class DoorStatus:
    door_id: str
    open: bool | None  # None: no good value yet


@dataclass(frozen=True, slots=True)
class InterlockStatus:
    """One airlock for the interlock view and the reset decision.

    ``fault`` is ``None`` while no good value of the fault code has arrived;
    ``fault_code`` is the raw code (it may be one the site does not know).
    ``cause_present`` says, in a sentence, why a reset would be refused now.
    """

    airlock_id: str
    doors: tuple[DoorStatus, ...]
    fault_code: int | None
    alarms: tuple[Alarm, ...]  # its interlock-fault alarms that are not normal
    cause_present: str | None

    @property
    def fault(self) -> InterlockFault | None:
        if self.fault_code is None:
            return None
        try:
            return InterlockFault(self.fault_code)
        except ValueError:
            return None

    @property
    def latched(self) -> bool:
        return self.fault_code is not None and self.fault_code != InterlockFault.NONE

    @property
    def acknowledged(self) -> bool:
        """A latched fault whose alarms all have been acknowledged."""
        return self.latched and not any(a.state.needs_acknowledgement for a in self.alarms)

    @property
    def fault_text(self) -> str:
        if self.fault_code is None:
            return "fault code not known"
        fault = self.fault
        if fault is None:
            return f"unknown fault code {self.fault_code}"
        return fault.display_name


@dataclass(frozen=True, slots=True)
class AlarmSnapshot:
    """An alarm's state as the journal last recorded it, for the restore after a restart."""

    alarm_id: str
    kind: AlarmKind
    source: str
    priority: Priority
    room: str | None
    state: AlarmState
    active: bool
    seq: int
    at: datetime
    message: str
    raised_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    shelved_by: str | None = None
    shelved_until: datetime | None = None
    shelve_reason: str = ""
