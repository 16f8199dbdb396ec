"""The site as frozen dataclasses, built once by the loader and never changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from hal.points import PlcDef, PointDef, Quantity


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    CNC = "CNC"  # controlled, not classified


class Priority(StrEnum):
    """Alarm priority (ISA-18.2): how fast and how surely an operator must respond."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for high, 1 for medium, 2 for low: sorts the most urgent first."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


class InterlockKind(StrEnum):
    INTERLOCKED = "interlocked"  # the PLC refuses the second door (into Grade B)
    WARNING = "warning"  # visual and audible warning only (into C/D)


Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Limits:
    """Alert and action limits; ``None`` means no limit on that side.

    Invariant (checked by the loader): action_low <= alert_low < alert_high <= action_high.
    """

    action_low: float | None = None
    alert_low: float | None = None
    alert_high: float | None = None
    action_high: float | None = None

    @property
    def empty(self) -> bool:
        return all(
            v is None for v in (self.action_low, self.alert_low, self.alert_high, self.action_high)
        )


@dataclass(frozen=True, slots=True)
class AlarmSettings:
    """How a point's limit alarms behave (site file keys of the point).

    ``alert_priority``/``action_priority`` of ``None`` take the engine's
    default for the quantity. Delays are in seconds, the deadband in the
    point's unit. ``door_holdoff_s`` (differential pressure only) holds the
    alarms off while a door of the differential is open and for that long
    after it closes; it must carry a ``holdoff_justification`` (Annex 1: an
    alarm delay must be justified). ``holdoff_doors`` names doors beyond those
    joining the differential's two spaces. ``critical`` differentials are
    recorded continuously and a gap in their record is an alarm.
    """

    alert_priority: Priority | None = None
    action_priority: Priority | None = None
    on_delay_s: float = 0.0
    off_delay_s: float = 0.0
    deadband: float = 0.0
    door_holdoff_s: float = 0.0
    holdoff_justification: str = ""
    holdoff_doors: tuple[str, ...] = ()
    critical: bool = False


@dataclass(frozen=True, slots=True)
class AlarmPolicy:
    """Site-wide alarm settings (the site file's ``[alarms]`` table)."""

    cleanup_minutes: float = 20.0  # Annex 1: back to at-rest levels within 15-20 min
    door_held_open_s: float = 60.0
    flood_start: int = 10  # more than this many new alarms in the window starts a flood
    flood_window_min: float = 10.0
    flood_end: int = 5  # fewer than this many ends it
    shelve_max_hours: float = 8.0
    gap_s: float = 30.0  # no good value of a critical differential this long is a gap


@dataclass(frozen=True, slots=True)
class RecordsPolicy:
    """Site-wide GMP-records settings (the site file's ``[records]`` table).

    ``db_url`` of ``None`` means ``--db``, ``$NECSTGEN_DB_URL`` or the SQLite
    file in the user data folder, in that order.
    """

    db_url: str | None = None
    idle_lock_minutes: float = 10.0  # the screen locks after this long without input
    clean_hold_hours: float = 72.0  # a Released room expires back to To be cleaned
    sporicidal_rotation_days: float = 7.0  # a sporicidal clean is due this often per room
    qualification_months: int = 12  # Annex 1: gowning requalification at least yearly


@dataclass(frozen=True, slots=True)
class HistorianPolicy:
    """Site-wide historian settings (the site file's ``[historian]`` table).

    How long each tier is kept, in days; ``None`` (``"forever"`` in the file)
    keeps it for good. Raw samples of critical differentials are kept whatever
    ``raw_days`` says: only the audited archive step removes them. A point
    with no change is recorded at least every ``forced_s`` seconds (a critical
    differential at least every ``[alarms] gap_s / 2``).
    """

    raw_days: float | None = 90.0
    minute_days: float | None = 2 * 365.0
    quarter_hour_days: float | None = 10 * 365.0
    forced_s: float = 60.0


@dataclass(frozen=True, slots=True)
class Space:
    id: str
    name: str
    grade: Grade
    setpoint_pa: float
    polygon: tuple[Point, ...]

    @property
    def centroid(self) -> Point:
        xs = [p[0] for p in self.polygon]
        ys = [p[1] for p in self.polygon]
        return (sum(xs) / len(xs), sum(ys) / len(ys))


@dataclass(frozen=True, slots=True)
class Door:
    id: str
    between: tuple[str, str]  # space ids; the site's ambient id stands for outside
    at: Point  # where the symbol is drawn on the plan
    airlock: str | None = None  # the airlock the door belongs to


@dataclass(frozen=True, slots=True)
class Airlock:
    id: str  # the airlock's space id
    outer_door: str
    inner_door: str
    interlock: InterlockKind


@dataclass(frozen=True, slots=True)
class PointConfig:
    """A HAL point plus what the core needs to judge it."""

    hal: PointDef
    plc: str
    limits: Limits = field(default_factory=Limits)
    # Particle points: limits while the room is at rest (``limits`` is in operation).
    limits_at_rest: Limits | None = None
    alarm: AlarmSettings = field(default_factory=AlarmSettings)
    # Historian: record a value when it moves more than this from the last
    # recorded one (the point's unit); None takes the quantity's default.
    hist_deadband: float | None = None

    @property
    def id(self) -> str:
        return self.hal.id


@dataclass(frozen=True)
class Site:
    name: str
    ambient: str
    spaces: tuple[Space, ...]
    doors: tuple[Door, ...]
    airlocks: tuple[Airlock, ...]
    plcs: tuple[PlcDef, ...]
    points: tuple[PointConfig, ...]
    alarms: AlarmPolicy = field(default_factory=AlarmPolicy)
    records: RecordsPolicy = field(default_factory=RecordsPolicy)
    historian: HistorianPolicy = field(default_factory=HistorianPolicy)

    @cached_property
    def space_by_id(self) -> dict[str, Space]:
        return {s.id: s for s in self.spaces}

    @cached_property
    def door_by_id(self) -> dict[str, Door]:
        return {d.id: d for d in self.doors}

    @cached_property
    def airlock_by_id(self) -> dict[str, Airlock]:
        return {a.id: a for a in self.airlocks}

    @cached_property
    def plc_by_id(self) -> dict[str, PlcDef]:
        return {p.id: p for p in self.plcs}

    @cached_property
    def point_by_id(self) -> dict[str, PointConfig]:
        return {p.id: p for p in self.points}

    def points_of(self, target: str) -> tuple[PointConfig, ...]:
        """Points whose target is this space, door or airlock."""
        return tuple(p for p in self.points if p.hal.target == target)

    def point_for(self, target: str, quantity: Quantity) -> PointConfig | None:
        for p in self.points:
            if p.hal.target == target and p.hal.quantity is quantity:
                return p
        return None
