"""The alarm engine: samples, PLC links and room statuses in; alarm changes out.

Qt-free and clock-injected. The point store feeds it every batch of samples
(:meth:`AlarmEngine.feed`) and every link change (:meth:`set_link`); the room
status service tells it each room's status (:meth:`set_room_status`); a timer
calls :meth:`tick` a few times a second for what depends on time alone
(on/off delays, shelf expiry, the clean-up countdown, record gaps, floods).

Speed: a sample costs one dict lookup for its point and, for a limit point,
two comparisons per alarm level; nothing is allocated unless a condition
changes. Changes are collected and handed to listeners once per call.

Condition rules (ADR 0005):

- A limit alarm is active while the value is beyond its limit; it clears
  once the value is back inside by the deadband. It turns active only after
  the condition has held for ``on_delay_s`` and clears only after the clear
  condition has held for ``off_delay_s``.
- A value that is not GOOD does not move a limit alarm (it keeps its state
  and a pending delay is dropped); BAD raises the point's own alarm, and a
  lost link or a frozen heartbeat has its PLC alarm.
- A differential with a door hold-off does not turn active while one of its
  doors is open, nor for ``door_holdoff_s`` after the last one closed.
- Particle points use the in-operation limits while their room is In
  operation and during the clean-up countdown after it; at the end of the
  countdown the room's particle values are compared with the at-rest action
  limits: met, the room is at rest and the at-rest limits apply; not met, the
  room's clean-up alarm is raised, and the room stays on its in-operation
  limits until the values meet the at-rest ones (which clears it).

The engine is thread-safe (one lock per call): the service acknowledging an
alarm from its worker thread meets the event loop feeding samples.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from time import time as _wall_clock

from hal.points import LinkState, LinkStatus, Quality, Quantity, Sample, Value
from necstgen_desk.alarms.definitions import (
    AUDIT_SOURCE,
    FAULT_CODES,
    PARTICLE_QUANTITIES,
    SiteAlarms,
    alarm_id,
    fault_alarm_id,
    limit_alarm_id,
    point_title,
    site_alarms,
)
from necstgen_desk.alarms.model import (
    LISTED_STATES,
    Alarm,
    AlarmChange,
    AlarmCounts,
    AlarmDefinition,
    AlarmEvent,
    AlarmKind,
    AlarmLevel,
    AlarmSnapshot,
    AlarmState,
    DoorStatus,
    FloodStatus,
    InterlockStatus,
    Occupancy,
    Priority,
)
from necstgen_desk.alarms.states import transition
from necstgen_desk.live import PointStore
from necstgen_desk.records.lifecycle import RoomStatus, alarms_suppressed
from necstgen_desk.site.model import Limits, PointConfig, Site

__all__ = ["AlarmEngine", "AlarmError", "AlarmNotFound", "ChangeListener", "FloodListener"]

log = logging.getLogger(__name__)

ChangeListener = Callable[[list[AlarmChange]], None]
FloodListener = Callable[[FloodStatus], None]
Clock = Callable[[], float]

_GOOD = Quality.GOOD
_BAD = Quality.BAD
_INF = math.inf


class AlarmError(Exception):
    """An alarm operation was refused; the message says why."""


class AlarmNotFound(AlarmError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown alarm"


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _ts(at: datetime) -> float:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone; use UTC")
    return at.timestamp()


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}"


# ---------------------------------------------------------------- runtime records


@dataclass(frozen=True, slots=True)
class _Undo:
    """What a person's action changed, to put back if it cannot be saved."""

    state: AlarmState
    acked_by: str | None
    acked_at: float | None
    shelved_by: str | None
    shelved_until: float | None
    shelve_reason: str

    @classmethod
    def of(cls, rt: _Rt) -> _Undo:
        return cls(
            rt.state, rt.acked_by, rt.acked_at, rt.shelved_by, rt.shelved_until, rt.shelve_reason
        )


class _Rt:
    """One alarm's live state (the engine's own; never handed out)."""

    __slots__ = (
        "acked_at",
        "acked_by",
        "active",
        "changed_at",
        "cleared_at",
        "d",
        "detail",
        "due",
        "level",
        "raised_at",
        "raw",
        "room",
        "seq",
        "shelve_reason",
        "shelved_by",
        "shelved_until",
        "state",
        "undo",
        "value",
    )

    def __init__(self, definition: AlarmDefinition, room: _Room | None) -> None:
        self.d = definition
        self.room = room
        self.state = AlarmState.NORMAL
        self.active = False  # the debounced condition
        self.raw = False  # the condition as last seen, before the delays
        self.due: float | None = None  # when a pending on/off delay ends
        self.value: Value | None = None
        self.detail = ""
        self.level: _Level | None = None
        self.raised_at: float | None = None
        self.cleared_at: float | None = None
        self.changed_at: float | None = None
        self.acked_by: str | None = None
        self.acked_at: float | None = None
        self.shelved_by: str | None = None
        self.shelved_until: float | None = None
        self.shelve_reason = ""
        self.seq = 0
        self.undo: _Undo | None = None


class _Level:
    """The thresholds of one limit alarm (both sides; ±inf where there is no limit)."""

    __slots__ = (
        "deadband",
        "hi",
        "hi_clear",
        "lo",
        "lo_clear",
        "op",
        "rest",
        "rt",
    )

    def __init__(self, rt: _Rt, op: tuple[float, float], rest: tuple[float, float]) -> None:
        self.rt = rt
        self.op = op
        self.rest = rest
        self.deadband = rt.d.deadband
        self.lo = self.hi = self.lo_clear = self.hi_clear = 0.0
        self.use(op)

    def use(self, bounds: tuple[float, float]) -> None:
        self.lo, self.hi = bounds
        self.lo_clear = self.lo + self.deadband
        self.hi_clear = self.hi - self.deadband


def _bounds(limits: Limits | None, level: AlarmLevel) -> tuple[float, float]:
    if limits is None:
        return (-_INF, _INF)
    if level is AlarmLevel.ACTION:
        low, high = limits.action_low, limits.action_high
    else:
        low, high = limits.alert_low, limits.alert_high
    return (-_INF if low is None else low, _INF if high is None else high)


class _Room:
    __slots__ = (
        "alarms",
        "at_rest",
        "awaiting_rest",
        "cleanup",
        "cleanup_due",
        "id",
        "particles",
        "status",
        "suppressed",
    )

    def __init__(self, room_id: str) -> None:
        self.id = room_id
        self.status: RoomStatus | None = None
        self.suppressed = False
        self.at_rest = True  # until told otherwise a room is at rest
        self.awaiting_rest = False  # clean-up ended with the at-rest limits not met
        self.cleanup_due: float | None = None
        self.cleanup: _Rt | None = None
        self.alarms: list[_Rt] = []
        self.particles: list[_LimitPoint] = []

    def use_rest_limits(self, at_rest: bool) -> None:
        if self.at_rest == at_rest:
            return
        self.at_rest = at_rest
        for point in self.particles:
            for level in point.levels:
                level.use(level.rest if at_rest else level.op)

    @property
    def occupancy(self) -> Occupancy:
        if self.status is RoomStatus.IN_OPERATION:
            return Occupancy.IN_OPERATION
        return Occupancy.AT_REST if self.at_rest else Occupancy.CLEAN_UP


class _Holdoff:
    """Whether a differential's alarms are held off by its doors."""

    __slots__ = ("open", "seconds", "until")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.open = 0  # doors of the differential open now
        self.until = -_INF  # held off until then after the last door closed

    def door_moved(self, opened: bool, now: float) -> None:
        if opened:
            self.open += 1
        else:
            self.open = max(0, self.open - 1)
            if self.open == 0:
                self.until = now + self.seconds

    def held(self, now: float) -> bool:
        return self.open > 0 or now < self.until


# ---------------------------------------------------------------- point watchers


class _Point:
    """A polled point: its BAD alarm. Subclasses judge the value."""

    __slots__ = ("bad", "engine")

    def __init__(self, engine: AlarmEngine, bad: _Rt) -> None:
        self.engine = engine
        self.bad = bad

    def on_sample(self, sample: Sample, now: float) -> None:
        quality = sample.quality
        if quality is _GOOD:
            if self.bad.raw:
                self.engine._set(self.bad, False, now, None)
        elif quality is _BAD and not self.bad.raw:
            self.engine._set(self.bad, True, now, None, sample.reason)


class _LimitPoint(_Point):
    __slots__ = (
        "gap",
        "holdoff",
        "last_good",
        "last_value",
        "levels",
        "name",
        "rest_action",
        "room",
    )

    def __init__(self, engine: AlarmEngine, bad: _Rt, name: str) -> None:
        super().__init__(engine, bad)
        self.name = name
        self.levels: list[_Level] = []
        self.holdoff: _Holdoff | None = None
        self.gap: _Rt | None = None
        self.last_good: float | None = None
        self.last_value: float | None = None
        self.room: _Room | None = None  # particle points: the room whose occupancy applies
        self.rest_action = _INF  # particle points: the at-rest action limit (high)

    def on_sample(self, sample: Sample, now: float) -> None:
        engine = self.engine
        if sample.quality is not _GOOD:
            if sample.quality is _BAD and not self.bad.raw:
                engine._set(self.bad, True, now, None, sample.reason)
            for level in self.levels:  # hold the state; forget a pending change
                rt = level.rt
                if rt.due is not None:
                    engine._set(rt, rt.active, now, rt.value)
            return
        if self.bad.raw:
            engine._set(self.bad, False, now, None)
        value = sample.value
        if not isinstance(value, int | float):
            return
        gap = self.gap
        if gap is not None:
            self.last_good = now
            if gap.raw:
                engine._set(gap, False, now, None)
        room = self.room
        if room is not None:
            self.last_value = value
            if room.awaiting_rest:
                engine._check_rest(room, now)
        holdoff = self.holdoff
        held = holdoff is not None and (holdoff.open > 0 or now < holdoff.until)
        for level in self.levels:
            rt = level.rt
            if rt.raw:
                if (level.lo_clear <= value <= level.hi_clear) or (held and not rt.active):
                    engine._set(rt, False, now, value)
            elif (value > level.hi or value < level.lo) and not held:
                engine._set(rt, True, now, value)


class _DoorPoint(_Point):
    __slots__ = ("airlock", "closed", "door_id", "held_open", "holdoffs", "opened_at")

    def __init__(self, engine: AlarmEngine, bad: _Rt, door_id: str) -> None:
        super().__init__(engine, bad)
        self.door_id = door_id
        self.closed: bool | None = None
        self.opened_at: float | None = None
        self.held_open: _Rt | None = None
        self.holdoffs: list[_Holdoff] = []
        self.airlock: _Airlock | None = None

    def on_sample(self, sample: Sample, now: float) -> None:
        if sample.quality is not _GOOD:
            _Point.on_sample(self, sample, now)
            return
        if self.bad.raw:
            self.engine._set(self.bad, False, now, None)
        closed = bool(sample.value)
        if closed is self.closed:
            return
        was_open = self.closed is False
        self.closed = closed
        self.opened_at = None if closed else now
        if was_open or not closed:  # a real move (a first "closed" is not one)
            for holdoff in self.holdoffs:
                holdoff.door_moved(not closed, now)
        if self.held_open is not None and self.held_open.raw is closed:
            self.engine._set(self.held_open, not closed, now, None)
        if self.airlock is not None:
            self.airlock.doors_changed(now)


class _FaultPoint(_Point):
    __slots__ = ("by_code", "code", "unknown")

    def __init__(self, engine: AlarmEngine, bad: _Rt) -> None:
        super().__init__(engine, bad)
        self.code: int | None = None
        self.by_code: dict[int, _Rt] = {}
        self.unknown: _Rt | None = None

    def on_sample(self, sample: Sample, now: float) -> None:
        if sample.quality is not _GOOD:
            _Point.on_sample(self, sample, now)
            return
        if self.bad.raw:
            self.engine._set(self.bad, False, now, None)
        value = sample.value
        if not isinstance(value, int | float) or isinstance(value, bool):
            return
        code = int(value)
        if code == self.code:
            return
        self.code = code
        engine = self.engine
        for known, rt in self.by_code.items():
            if rt.raw != (code == known):
                engine._set(rt, code == known, now, code)
        unknown = self.unknown
        if unknown is not None:
            is_unknown = code != 0 and code not in self.by_code
            if unknown.raw != is_unknown:
                engine._set(unknown, is_unknown, now, code, f"code {code}")


class _HeartbeatPoint(_Point):
    __slots__ = ("changed_at", "frozen", "last", "timeout")

    def __init__(self, engine: AlarmEngine, bad: _Rt, frozen: _Rt, timeout: float) -> None:
        super().__init__(engine, bad)
        self.frozen = frozen
        self.timeout = timeout
        self.last: Value | None = None
        self.changed_at = 0.0

    def on_sample(self, sample: Sample, now: float) -> None:
        quality = sample.quality
        _Point.on_sample(self, sample, now)
        # A frozen PLC still answers: the poller marks its values STALE, the value stays.
        if quality is not _GOOD and quality is not Quality.STALE:
            return
        value = sample.value
        if value is None:
            return
        if value != self.last or self.last is None:
            self.last = value
            self.changed_at = now
            if self.frozen.raw:
                self.engine._set(self.frozen, False, now, value)
        elif now - self.changed_at > self.timeout and not self.frozen.raw:
            self.engine._set(
                self.frozen, True, now, value, f"at {value} for {now - self.changed_at:.0f} s"
            )


class _Airlock:
    __slots__ = ("both", "doors", "engine", "fault", "id", "reset")

    def __init__(self, engine: AlarmEngine, airlock_id: str) -> None:
        self.engine = engine
        self.id = airlock_id
        self.doors: tuple[_DoorPoint, ...] = ()
        self.both: _Rt | None = None
        self.fault: _FaultPoint | None = None
        self.reset: tuple[str, int] | None = None  # (PLC, coil address)

    def doors_changed(self, now: float) -> None:
        both = self.both
        if both is None:
            return
        all_open = len(self.doors) == 2 and all(d.closed is False for d in self.doors)
        if both.raw != all_open:
            self.engine._set(both, all_open, now, None)


# ---------------------------------------------------------------- the engine


class AlarmEngine:
    """Every alarm of a site, judged live. See the module docstring for the rules."""

    def __init__(
        self,
        site: Site,
        *,
        clock: Clock = _wall_clock,
        alarms: SiteAlarms | None = None,
        time_lapse: float = 1.0,
    ) -> None:
        """``clock`` is the facility's (epoch seconds). ``time_lapse`` is how many of
        its seconds pass in a real second (a sped-up demo, ADR 0006): a PLC's
        heartbeat is watched in real time like its link, so its timeout, given in
        real seconds, is that many times longer on the facility's clock."""
        self.site = site
        self.policy = site.alarms
        self._clock = clock
        self._time_lapse = time_lapse
        self._lock = threading.RLock()
        self.alarms = alarms if alarms is not None else site_alarms(site)
        self._rooms = {s.id: _Room(s.id) for s in site.spaces}
        self._rts: dict[str, _Rt] = {}
        for definition in self.alarms.definitions:
            self._add(definition)
        self._watch: dict[str, _Point] = {}
        self._airlocks: dict[str, _Airlock] = {}
        self._links: dict[str, _Rt] = {}
        self._gaps: list[_LimitPoint] = []
        self._build(site)

        self._pending: dict[_Rt, None] = {}
        self._shelved: dict[str, _Rt] = {}
        # Alarms by state; the NORMAL bucket stays empty (normal alarms are many and unlisted).
        self._buckets: dict[AlarmState, dict[str, _Rt]] = {s: {} for s in AlarmState}
        self._seq = 0
        self._outbox: list[AlarmChange] = []
        self._listeners: list[ChangeListener] = []
        self._flood_listeners: list[FloodListener] = []
        self._flood_times: deque[float] = deque()
        self._flood_since: float | None = None
        self._flood_total = 0.0
        self._flood_window = self.policy.flood_window_min * 60.0
        self._flood_changed = False
        self._started: float | None = None
        self._last_now = 0.0

    # ------------------------------------------------------------ wiring

    def _add(self, definition: AlarmDefinition) -> _Rt:
        room = self._rooms.get(definition.room) if definition.room is not None else None
        rt = _Rt(definition, room)
        self._rts[definition.id] = rt
        if room is not None:
            room.alarms.append(rt)
            if definition.kind is AlarmKind.CLEANUP:
                room.cleanup = rt
        return rt

    def _build(self, site: Site) -> None:
        rts = self._rts
        holdoffs: dict[str, list[_Holdoff]] = {}
        for point in site.points:
            bad = rts.get(alarm_id(point.id, AlarmKind.POINT_BAD))
            if bad is None:
                continue  # not polled
            watch = self._watcher(site, point, bad, holdoffs)
            self._watch[point.id] = watch
        for plc in site.plcs:
            self._links[plc.id] = rts[alarm_id(plc.id, AlarmKind.LINK_LOST)]
        for airlock in site.airlocks:
            entry = _Airlock(self, airlock.id)
            doors = [self._door_watch(site, d) for d in (airlock.outer_door, airlock.inner_door)]
            entry.doors = tuple(d for d in doors if d is not None)
            for door in entry.doors:
                door.airlock = entry
            entry.both = rts.get(alarm_id(airlock.id, AlarmKind.BOTH_DOORS_OPEN))
            fault = site.point_for(airlock.id, Quantity.INTERLOCK_FAULT)
            fault_watch = self._watch.get(fault.id) if fault is not None else None
            if isinstance(fault_watch, _FaultPoint):
                entry.fault = fault_watch
            reset = site.point_for(airlock.id, Quantity.INTERLOCK_RESET)
            if reset is not None:
                entry.reset = (reset.plc, reset.hal.address)
            self._airlocks[airlock.id] = entry
        for door_id, found in holdoffs.items():
            held_by = self._door_watch(site, door_id)
            if held_by is not None:
                held_by.holdoffs.extend(found)

    def _door_watch(self, site: Site, door_id: str) -> _DoorPoint | None:
        point = site.point_for(door_id, Quantity.DOOR_CLOSED)
        watch = self._watch.get(point.id) if point is not None else None
        return watch if isinstance(watch, _DoorPoint) else None

    def _watcher(
        self, site: Site, point: PointConfig, bad: _Rt, holdoffs: dict[str, list[_Holdoff]]
    ) -> _Point:
        rts = self._rts
        q = point.hal.quantity
        if q is Quantity.DOOR_CLOSED:
            door = _DoorPoint(self, bad, point.hal.target)
            door.held_open = rts.get(alarm_id(point.hal.target, AlarmKind.DOOR_HELD_OPEN))
            return door
        if q is Quantity.INTERLOCK_FAULT:
            fault = _FaultPoint(self, bad)
            for code in FAULT_CODES:
                found = rts.get(fault_alarm_id(point.hal.target, code))
                if found is not None:
                    fault.by_code[int(code)] = found
            fault.unknown = rts.get(fault_alarm_id(point.hal.target, None))
            return fault
        if q is Quantity.HEARTBEAT:
            frozen = rts.get(alarm_id(point.plc, AlarmKind.HEARTBEAT_FROZEN))
            if frozen is not None:
                timeout = site.plc_by_id[point.plc].heartbeat_timeout_s * self._time_lapse
                return _HeartbeatPoint(self, bad, frozen, timeout)
            return _Point(self, bad)
        levels = [
            rts[lid]
            for level in (AlarmLevel.ALERT, AlarmLevel.ACTION)
            if (lid := limit_alarm_id(point.id, level)) in rts
        ]
        gap = rts.get(alarm_id(point.id, AlarmKind.RECORD_GAP))
        if not levels and gap is None:
            return _Point(self, bad)
        watch = _LimitPoint(self, bad, point_title(site, point))
        particle = q in PARTICLE_QUANTITIES
        for rt in levels:
            level = rt.d.level
            assert level is not None
            op = _bounds(point.limits, level)
            rest = _bounds(point.limits_at_rest, level) if particle else op
            entry = _Level(rt, op, rest)
            rt.level = entry
            watch.levels.append(entry)
        if particle and point.hal.target in self._rooms:
            room = self._rooms[point.hal.target]
            watch.room = room
            watch.rest_action = _bounds(point.limits_at_rest, AlarmLevel.ACTION)[1]
            room.particles.append(watch)
            for entry in watch.levels:
                entry.use(entry.rest if room.at_rest else entry.op)
        if levels and levels[0].d.holdoff_doors and levels[0].d.door_holdoff_s > 0:
            watch.holdoff = _Holdoff(levels[0].d.door_holdoff_s)
            for door_id in levels[0].d.holdoff_doors:
                holdoffs.setdefault(door_id, []).append(watch.holdoff)
        if gap is not None:
            watch.gap = gap
            self._gaps.append(watch)
        return watch

    # ------------------------------------------------------------ listeners

    def on_change(self, listener: ChangeListener) -> Callable[[], None]:
        """Call ``listener`` with each batch of changes, in order; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def on_flood(self, listener: FloodListener) -> Callable[[], None]:
        """Call ``listener`` when a flood starts or ends."""
        self._flood_listeners.append(listener)
        return lambda: self._flood_listeners.remove(listener)

    def now(self) -> float:
        """The engine's clock: the facility's time in epoch seconds."""
        return self._clock()

    def attach(self, store: PointStore) -> Callable[[], None]:
        """Subscribe to a point store's samples and links; returns the unsubscribe."""
        for link in store.links:
            self.set_link(link)
        off_samples = store.on_samples(self.feed)
        off_links = store.on_link(self.set_link)

        def detach() -> None:
            off_samples()
            off_links()

        return detach

    def _deliver(self) -> None:
        """Hand the collected changes to the listeners (called at the end of each call)."""
        if self._outbox:
            changes, self._outbox = self._outbox, []
            for listener in list(self._listeners):
                try:
                    listener(changes)
                except Exception:
                    log.exception("an alarm listener failed")
        if self._flood_changed:
            self._flood_changed = False
            status = self._flood_status(self._last_now)
            for flood_listener in list(self._flood_listeners):
                try:
                    flood_listener(status)
                except Exception:
                    log.exception("an alarm flood listener failed")

    # ------------------------------------------------------------ inputs

    def feed(self, samples: Iterable[Sample], now: float | None = None) -> None:
        """Judge a batch of samples (any order, any mix of PLCs)."""
        t = self._clock() if now is None else now
        with self._lock:
            self._last_now = t
            get = self._watch.get
            for sample in samples:
                watch = get(sample.point_id)
                if watch is not None:
                    watch.on_sample(sample, t)
            if self._outbox or self._flood_changed:
                self._deliver()

    def set_link(self, status: LinkStatus, now: float | None = None) -> None:
        t = self._clock() if now is None else now
        with self._lock:
            self._last_now = t
            rt = self._links.get(status.plc_id)
            if rt is not None:
                if status.state is LinkState.DOWN and not rt.raw:
                    self._set(rt, True, t, None, status.reason)
                elif status.state is LinkState.UP and rt.raw:
                    self._set(rt, False, t, None)
            self._deliver()

    def set_room_status(
        self, room_id: str, status: RoomStatus, since: datetime, now: float | None = None
    ) -> None:
        """A room's status from ``since`` on.

        Leaving In operation starts the clean-up countdown at ``since``. The
        first status the engine hears of a room that is not In operation
        counts as at rest (no countdown): tell it In operation first when the
        room only just left it.
        """
        t = self._clock() if now is None else now
        since_ts = _ts(since)
        with self._lock:
            self._last_now = t
            room = self._rooms.get(room_id)
            if room is None:
                raise AlarmNotFound(f"unknown room {room_id!r}")
            previous, room.status = room.status, status
            if status is RoomStatus.IN_OPERATION:
                room.cleanup_due = None
                room.awaiting_rest = False
                room.use_rest_limits(False)
                if room.cleanup is not None and room.cleanup.raw:
                    self._set(room.cleanup, False, t, None)
            elif previous is RoomStatus.IN_OPERATION:
                room.cleanup_due = since_ts + self.policy.cleanup_minutes * 60.0
                room.use_rest_limits(False)
                if room.cleanup_due <= t:
                    self._end_cleanup(room, t)
            suppressed = alarms_suppressed(status)
            if suppressed != room.suppressed:
                room.suppressed = suppressed
                event = AlarmEvent.SUPPRESS if suppressed else AlarmEvent.UNSUPPRESS
                for rt in room.alarms:
                    self._event(rt, event, t)
            self._deliver()

    def tick(self, now: float | None = None) -> None:
        """Everything that time alone changes: delays, shelves, clean-up, gaps, flood."""
        t = self._clock() if now is None else now
        with self._lock:
            self._last_now = t
            if self._started is None:
                self._started = t
            if self._pending:
                for rt in [r for r in self._pending if r.due is not None and r.due <= t]:
                    self._apply_condition(rt, t)
            if self._shelved:
                for rt in [
                    r
                    for r in self._shelved.values()
                    if r.shelved_until is not None and r.shelved_until <= t
                ]:
                    self._event(rt, AlarmEvent.SHELF_EXPIRED, t, comment="shelf time expired")
            for room in self._rooms.values():
                if room.cleanup_due is not None and room.cleanup_due <= t:
                    self._end_cleanup(room, t)
            gap_s = self.policy.gap_s
            for point in self._gaps:
                gap = point.gap
                assert gap is not None
                if point.last_good is None:
                    point.last_good = self._started
                if not gap.raw and t - point.last_good > gap_s:
                    self._set(gap, True, t, None, f"no good value for {t - point.last_good:.0f} s")
            self._flood_update(t)
            self._deliver()

    async def run(self, period_s: float = 0.25) -> None:
        """Call :meth:`tick` every ``period_s`` until cancelled (the app runs this as a task)."""
        while True:
            self.tick()
            await asyncio.sleep(period_s)

    def raise_system(self, kind: AlarmKind, source: str, message: str) -> Alarm:
        """Raise a system alarm (e.g. the audit chain found broken); ``message`` says why."""
        return self._system(kind, source, True, message)

    def clear_system(self, kind: AlarmKind, source: str, message: str = "") -> Alarm:
        return self._system(kind, source, False, message)

    def _system(self, kind: AlarmKind, source: str, raw: bool, message: str) -> Alarm:
        if not kind.is_system:
            raise AlarmError(f"{kind.value} is not a system alarm")
        t = self._clock()
        with self._lock:
            self._last_now = t
            ident = alarm_id(source, kind)
            rt = self._rts.get(ident)
            if rt is None:
                title = f"{source}: {kind.value.replace('_', ' ')}"
                if kind is AlarmKind.AUDIT_CHAIN and source == AUDIT_SOURCE:
                    title = "audit trail hash chain broken"
                rt = self._add(AlarmDefinition(ident, kind, source, title, Priority.HIGH))
            if rt.raw != raw:
                self._set(rt, raw, t, None, message)
            view = self._view(rt)
            self._deliver()
            return view

    # ------------------------------------------------------------ conditions

    def _set(
        self, rt: _Rt, raw: bool, now: float, value: Value | None, detail: str | None = None
    ) -> None:
        """The condition as seen now; the delays decide when the alarm follows."""
        rt.raw = raw
        rt.value = value
        if detail is not None:
            rt.detail = detail
        if raw == rt.active:
            if rt.due is not None:
                rt.due = None
                self._pending.pop(rt, None)
            return
        d = rt.d
        delay = d.on_delay_s if raw else d.off_delay_s
        if delay > 0:
            if rt.due is None:
                rt.due = now + delay
                self._pending[rt] = None
            return
        self._apply_condition(rt, now)

    def _apply_condition(self, rt: _Rt, now: float) -> None:
        if rt.due is not None:
            rt.due = None
            self._pending.pop(rt, None)
        if rt.active == rt.raw:
            return
        rt.active = rt.raw
        if rt.active:
            rt.raised_at = now
            self._event(rt, AlarmEvent.CONDITION_ACTIVE, now)
        else:
            rt.cleared_at = now
            self._event(rt, AlarmEvent.CONDITION_CLEARED, now)

    def _end_cleanup(self, room: _Room, now: float) -> None:
        room.cleanup_due = None
        failing = self._not_at_rest(room)
        if not failing:
            room.awaiting_rest = False
            room.use_rest_limits(True)
            return
        room.awaiting_rest = True
        if room.cleanup is not None and not room.cleanup.raw:
            self._set(room.cleanup, True, now, None, "; ".join(failing))

    def _not_at_rest(self, room: _Room) -> list[str]:
        failing = []
        for point in room.particles:
            value = point.last_value
            if value is not None and value > point.rest_action:
                failing.append(
                    f"{point.name} {_fmt(value)} above the at-rest action limit "
                    f"{_fmt(point.rest_action)}"
                )
        return failing

    def _check_rest(self, room: _Room, now: float) -> None:
        if self._not_at_rest(room):
            return
        room.awaiting_rest = False
        room.use_rest_limits(True)
        if room.cleanup is not None and room.cleanup.raw:
            self._set(room.cleanup, False, now, None, "at-rest limits met")

    # ------------------------------------------------------------ state changes

    def _event(
        self,
        rt: _Rt,
        event: AlarmEvent,
        now: float,
        *,
        by: str | None = None,
        comment: str = "",
    ) -> AlarmChange | None:
        """Apply ``event`` (raises TransitionRefused for a person's impossible action)."""
        old = rt.state
        suppressed = rt.room.suppressed if rt.room is not None else False
        new = transition(old, event, active=rt.active, suppressed=suppressed)
        condition = event in (AlarmEvent.CONDITION_ACTIVE, AlarmEvent.CONDITION_CLEARED)
        if new is old and not condition and not event.by_person:
            return None
        if old is AlarmState.SHELVED and new is not AlarmState.SHELVED:
            rt.shelved_by = rt.shelved_until = None
            rt.shelve_reason = ""
            self._shelved.pop(rt.d.id, None)
        if new is not old:
            self._buckets[old].pop(rt.d.id, None)
            if new is not AlarmState.NORMAL:
                self._buckets[new][rt.d.id] = rt
        if new is AlarmState.UNACKNOWLEDGED and old is not AlarmState.UNACKNOWLEDGED:
            rt.acked_by = rt.acked_at = None
        rt.state = new
        rt.changed_at = now
        self._seq += 1
        rt.seq = self._seq
        change = AlarmChange(
            seq=self._seq,
            definition=rt.d,
            event=event,
            old_state=old,
            new_state=new,
            active=rt.active,
            at=_utc(now),
            message=self._message(rt),
            value=rt.value,
            by=by,
            comment=comment,
            shelved_until=_utc(rt.shelved_until) if rt.shelved_until is not None else None,
        )
        self._outbox.append(change)
        if change.annunciates:
            self._flood_times.append(now)
            self._flood_update(now)
        return change

    def _message(self, rt: _Rt) -> str:
        d = rt.d
        if d.kind is AlarmKind.LIMIT:
            value, level = rt.value, rt.level
            unit = f" {d.unit}" if d.unit else ""
            if isinstance(value, int | float) and level is not None:
                if rt.active or rt.raw:
                    if value > level.hi:
                        return f"{d.title}: {_fmt(value)}{unit} above {_fmt(level.hi)}{unit}"
                    if value < level.lo:
                        return f"{d.title}: {_fmt(value)}{unit} below {_fmt(level.lo)}{unit}"
                return f"{d.title}: back within limits ({_fmt(value)}{unit})"
            return f"{d.title}: {rt.detail}" if rt.detail else d.title
        if d.kind is AlarmKind.INTERLOCK_FAULT:
            return d.title if rt.active else f"{d.title} (no longer reported)"
        if rt.active and rt.detail:
            return f"{d.title}: {rt.detail}"
        if not rt.active and rt.state is not AlarmState.NORMAL:
            return f"{d.title} (cleared)"
        return d.title

    # ------------------------------------------------------------ people's actions

    def _rt(self, ident: str) -> _Rt:
        rt = self._rts.get(ident)
        if rt is None:
            raise AlarmNotFound(f"unknown alarm {ident!r}")
        return rt

    def _person(
        self, ident: str, event: AlarmEvent, by: str, comment: str, now: float | None
    ) -> AlarmChange:
        t = self._clock() if now is None else now
        with self._lock:
            self._last_now = t
            rt = self._rt(ident)
            undo = _Undo.of(rt)
            change = self._event(rt, event, t, by=by, comment=comment)
            assert change is not None
            if event is AlarmEvent.ACKNOWLEDGE:
                rt.acked_by, rt.acked_at = by, t
            rt.undo = undo
            self._deliver()
            return change

    def acknowledge(
        self, ident: str, *, by: str, comment: str = "", now: float | None = None
    ) -> AlarmChange:
        """Acknowledge one alarm (raises :class:`TransitionRefused` when nothing is due)."""
        return self._person(ident, AlarmEvent.ACKNOWLEDGE, by, comment, now)

    def unshelve(
        self, ident: str, *, by: str, comment: str = "", now: float | None = None
    ) -> AlarmChange:
        return self._person(ident, AlarmEvent.UNSHELVE, by, comment, now)

    def remove_from_service(
        self, ident: str, *, by: str, reason: str, now: float | None = None
    ) -> AlarmChange:
        return self._person(ident, AlarmEvent.REMOVE_FROM_SERVICE, by, reason, now)

    def return_to_service(
        self, ident: str, *, by: str, reason: str, now: float | None = None
    ) -> AlarmChange:
        return self._person(ident, AlarmEvent.RETURN_TO_SERVICE, by, reason, now)

    def shelve(
        self,
        ident: str,
        *,
        by: str,
        reason: str,
        until: datetime,
        now: float | None = None,
    ) -> AlarmChange:
        """Shelve an alarm until ``until`` (at most the site's ``shelve_max_hours`` ahead)."""
        t = self._clock() if now is None else now
        end = _ts(until)
        if not reason.strip():
            raise AlarmError("shelving an alarm needs a reason")
        limit_s = self.policy.shelve_max_hours * 3600.0
        if end <= t:
            raise AlarmError("the shelf end must lie in the future")
        if end - t > limit_s + 1e-6:
            raise AlarmError(
                f"an alarm may be shelved for at most {self.policy.shelve_max_hours:g} h"
            )
        with self._lock:
            self._last_now = t
            rt = self._rt(ident)
            undo = _Undo.of(rt)
            old = (rt.shelved_by, rt.shelved_until, rt.shelve_reason)
            rt.shelved_by, rt.shelved_until, rt.shelve_reason = by, end, reason.strip()
            try:
                change = self._event(rt, AlarmEvent.SHELVE, t, by=by, comment=reason.strip())
            except Exception:
                rt.shelved_by, rt.shelved_until, rt.shelve_reason = old
                raise
            assert change is not None
            self._shelved[ident] = rt
            rt.undo = undo
            self._deliver()
            return change

    def revert(self, change: AlarmChange, why: str) -> bool:
        """Undo a person's change that could not be saved (the service's last resort).

        Only the alarm's latest change can be undone; returns whether it was.
        """
        with self._lock:
            rt = self._rts.get(change.alarm_id)
            if rt is None or rt.seq != change.seq or rt.undo is None:
                return False
            undo = rt.undo
            state = undo.state
            self._buckets[rt.state].pop(rt.d.id, None)
            if state is not AlarmState.NORMAL:
                self._buckets[state][rt.d.id] = rt
            rt.state = state
            rt.acked_by, rt.acked_at = undo.acked_by, undo.acked_at
            rt.shelved_by, rt.shelved_until = undo.shelved_by, undo.shelved_until
            rt.shelve_reason = undo.shelve_reason
            if state is AlarmState.SHELVED:
                self._shelved[rt.d.id] = rt
            else:
                self._shelved.pop(rt.d.id, None)
            rt.undo = None
            self._seq += 1
            rt.seq = self._seq
            self._outbox.append(
                AlarmChange(
                    seq=self._seq,
                    definition=rt.d,
                    event=change.event,
                    old_state=change.new_state,
                    new_state=state,
                    active=rt.active,
                    at=_utc(self._clock()),
                    message=self._message(rt),
                    value=rt.value,
                    by=change.by,
                    comment=f"undone: {why}",
                )
            )
            self._deliver()
            return True

    def acknowledge_interlock(
        self, airlock_id: str, *, by: str, comment: str, now: float | None = None
    ) -> list[AlarmChange]:
        """Acknowledge every interlock-fault alarm of an airlock that awaits it."""
        with self._lock:
            status = self.interlock(airlock_id)
            due = [a.id for a in status.alarms if a.state.needs_acknowledgement]
            if not due:
                raise AlarmError(f"airlock {airlock_id} has no interlock fault to acknowledge")
            return [self.acknowledge(ident, by=by, comment=comment, now=now) for ident in due]

    # ------------------------------------------------------------ restore

    def restore(self, snapshots: Iterable[AlarmSnapshot], next_seq: int = 0) -> int:
        """Put back the alarms the journal last recorded as not normal (after a restart).

        Returns how many were restored. Unknown ids of system alarms are
        recreated; others (the site changed) are skipped with a warning. A
        restored active alarm stays active until the live values say otherwise,
        and an unacknowledged one then becomes returned-unacknowledged: nothing
        the operator has not seen is lost.
        """
        count = 0
        with self._lock:
            self._seq = max(self._seq, next_seq)
            for snap in snapshots:
                rt = self._rts.get(snap.alarm_id)
                if rt is None and snap.kind.is_system:
                    definition = AlarmDefinition(
                        snap.alarm_id, snap.kind, snap.source, snap.message, snap.priority
                    )
                    rt = self._add(definition)
                if rt is None:
                    log.warning("alarm %s in the journal is not in this site", snap.alarm_id)
                    continue
                if snap.state is AlarmState.NORMAL:
                    continue
                self._buckets[rt.state].pop(rt.d.id, None)
                rt.state = snap.state
                self._buckets[rt.state][rt.d.id] = rt
                rt.active = rt.raw = snap.active
                rt.seq = snap.seq
                rt.changed_at = _ts(snap.at)
                rt.raised_at = _ts(snap.raised_at) if snap.raised_at is not None else None
                rt.acked_by = snap.acknowledged_by
                rt.acked_at = (
                    _ts(snap.acknowledged_at) if snap.acknowledged_at is not None else None
                )
                if snap.state is AlarmState.SHELVED and snap.shelved_until is not None:
                    rt.shelved_by = snap.shelved_by
                    rt.shelved_until = _ts(snap.shelved_until)
                    rt.shelve_reason = snap.shelve_reason
                    self._shelved[rt.d.id] = rt
                if rt.d.kind is AlarmKind.CLEANUP and rt.room is not None and snap.active:
                    rt.room.awaiting_rest = True
                    rt.room.use_rest_limits(False)
                rt.detail = snap.message.partition(": ")[2]  # until live values say more
                self._seq = max(self._seq, snap.seq)
                count += 1
        return count

    # ------------------------------------------------------------ reading

    def _view(self, rt: _Rt) -> Alarm:
        return Alarm(
            definition=rt.d,
            state=rt.state,
            active=rt.active,
            message=self._message(rt),
            value=rt.value,
            raised_at=_utc(rt.raised_at) if rt.raised_at is not None else None,
            cleared_at=_utc(rt.cleared_at) if rt.cleared_at is not None else None,
            changed_at=_utc(rt.changed_at) if rt.changed_at is not None else None,
            acknowledged_by=rt.acked_by,
            acknowledged_at=_utc(rt.acked_at) if rt.acked_at is not None else None,
            shelved_by=rt.shelved_by,
            shelved_until=_utc(rt.shelved_until) if rt.shelved_until is not None else None,
            shelve_reason=rt.shelve_reason,
            seq=rt.seq,
        )

    @property
    def definitions(self) -> Mapping[str, AlarmDefinition]:
        return {ident: rt.d for ident, rt in self._rts.items()}

    def alarm(self, ident: str) -> Alarm:
        with self._lock:
            return self._view(self._rt(ident))

    def _sorted(self, rts: Iterable[_Rt]) -> list[Alarm]:
        views = [self._view(rt) for rt in rts]
        views.sort(key=lambda a: (a.priority.rank, -(a.changed_at or _EPOCH).timestamp(), a.id))
        return views

    def active_alarms(self) -> list[Alarm]:
        """The alarm list: unacknowledged, acknowledged and returned-unacknowledged,
        most urgent first, newest first within a priority."""
        with self._lock:
            return self._sorted(rt for s in LISTED_STATES for rt in self._buckets[s].values())

    def alarms_in(self, state: AlarmState) -> list[Alarm]:
        with self._lock:
            if state is AlarmState.NORMAL:
                return self._sorted(r for r in self._rts.values() if r.state is state)
            return self._sorted(self._buckets[state].values())

    def counts(self) -> AlarmCounts:
        with self._lock:
            per = dict.fromkeys(Priority, 0)
            for s in LISTED_STATES:
                for rt in self._buckets[s].values():
                    per[rt.d.priority] += 1
            unack = len(self._buckets[AlarmState.UNACKNOWLEDGED]) + len(
                self._buckets[AlarmState.RETURNED_UNACKNOWLEDGED]
            )
            suppressed = sum(1 for rt in self._buckets[AlarmState.SUPPRESSED].values() if rt.active)
            return AlarmCounts(
                high=per[Priority.HIGH],
                medium=per[Priority.MEDIUM],
                low=per[Priority.LOW],
                unacknowledged=unack,
                shelved=len(self._buckets[AlarmState.SHELVED]),
                suppressed=suppressed,
                out_of_service=len(self._buckets[AlarmState.OUT_OF_SERVICE]),
            )

    def room_alarms(self, room_id: str) -> list[Alarm]:
        """Every alarm of a room that is not normal or whose condition is active."""
        with self._lock:
            room = self._rooms.get(room_id)
            if room is None:
                raise AlarmNotFound(f"unknown room {room_id!r}")
            return self._sorted(
                rt for rt in room.alarms if rt.active or rt.state is not AlarmState.NORMAL
            )

    def active_conditions(self) -> list[Alarm]:
        """Every alarm whose condition is active, whatever its state (hidden ones too)."""
        with self._lock:
            return self._sorted(rt for rt in self._rts.values() if rt.active)

    # ------------------------------------------------------------ flood

    def _flood_update(self, now: float) -> None:
        times = self._flood_times
        horizon = now - self._flood_window
        while times and times[0] <= horizon:
            times.popleft()
        count = len(times)
        if self._flood_since is None:
            if count > self.policy.flood_start:
                self._flood_since = now
                self._flood_changed = True
                log.warning("alarm flood: %d new alarms in %g min", count, self._flood_window / 60)
        elif count < self.policy.flood_end:
            self._flood_total += now - self._flood_since
            self._flood_since = None
            self._flood_changed = True
            log.warning("alarm flood over")

    def _flood_status(self, now: float) -> FloodStatus:
        since = self._flood_since
        total = self._flood_total + (now - since if since is not None else 0.0)
        return FloodStatus(
            active=since is not None,
            since=_utc(since) if since is not None else None,
            new_in_window=len(self._flood_times),
            total_s=total,
        )

    def flood(self, now: float | None = None) -> FloodStatus:
        t = self._clock() if now is None else now
        with self._lock:
            return self._flood_status(t)

    # ------------------------------------------------------------ rooms and interlocks

    def occupancy(self, room_id: str) -> Occupancy:
        with self._lock:
            room = self._rooms.get(room_id)
            if room is None:
                raise AlarmNotFound(f"unknown room {room_id!r}")
            return room.occupancy

    def cleanup_remaining(self, now: float | None = None) -> dict[str, float]:
        """Seconds left of each running clean-up countdown, by room (for the plan)."""
        t = self._clock() if now is None else now
        with self._lock:
            return {
                r.id: max(0.0, r.cleanup_due - t)
                for r in self._rooms.values()
                if r.cleanup_due is not None
            }

    @property
    def airlock_ids(self) -> tuple[str, ...]:
        return tuple(self._airlocks)

    def interlock(self, airlock_id: str) -> InterlockStatus:
        with self._lock:
            entry = self._airlocks.get(airlock_id)
            if entry is None:
                raise AlarmNotFound(f"unknown airlock {airlock_id!r}")
            doors = tuple(
                DoorStatus(d.door_id, None if d.closed is None else not d.closed)
                for d in entry.doors
            )
            fault = entry.fault
            rts = [] if fault is None else [*fault.by_code.values()]
            if fault is not None and fault.unknown is not None:
                rts.append(fault.unknown)
            alarms = tuple(
                self._view(rt) for rt in rts if rt.active or rt.state is not AlarmState.NORMAL
            )
            return InterlockStatus(
                airlock_id=airlock_id,
                doors=doors,
                fault_code=fault.code if fault is not None else None,
                alarms=alarms,
                cause_present=self._cause(entry),
            )

    def interlocks(self) -> list[InterlockStatus]:
        return [self.interlock(a) for a in self._airlocks]

    def reset_coil(self, airlock_id: str) -> tuple[str, int] | None:
        """The (PLC id, coil address) of an airlock's reset, if it has one."""
        entry = self._airlocks.get(airlock_id)
        if entry is None:
            raise AlarmNotFound(f"unknown airlock {airlock_id!r}")
        return entry.reset

    @staticmethod
    def _cause(entry: _Airlock) -> str | None:
        """Why the PLC would keep the fault latched, as far as our points show it."""
        unknown = [d.door_id for d in entry.doors if d.closed is None]
        if unknown:
            return f"the state of door {', '.join(unknown)} is not known (no good value)"
        open_doors = [d.door_id for d in entry.doors if d.closed is False]
        if len(open_doors) == 2:
            return f"both doors are open ({', '.join(open_doors)})"
        if open_doors:
            return f"door {open_doors[0]} is open"
        return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
