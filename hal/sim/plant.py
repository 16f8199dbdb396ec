"""The facility's physics: pressures, particles, climate, doors, interlocks, heartbeats.

Pure and deterministic: no I/O, no clock, no asyncio. Time moves only when
:meth:`Plant.step` is called, and every random draw comes from one
``random.Random(seed)``, so the same seed and the same calls give the same
plant. The Modbus server (:mod:`hal.sim.server`) reads it; tests drive it
directly.

Models, deliberately simple but shaped like the real thing:

- **Pressure** (Pa relative to the ambient corridor): each room relaxes to
  its setpoint with its HVAC time constant (a few seconds; the plant's
  ``hvac_tau_s`` unless the room has its own). An open door pulls the two
  sides towards their volume-weighted mean much faster, so the differential
  across it collapses, and recovers once the door closes. A corridor whose
  supply and extract run under pressure control has a much shorter time
  constant: the air an airlock vents into it is taken out again within a
  second or so, so one airlock's open doors barely move the differentials of
  the others that open onto it. The ambient is an infinite reservoir held at
  0 Pa. A small Ornstein–Uhlenbeck noise stands for turbulence and sensor
  noise.
- **Particles** (counts per m³, ≥0.5 µm and ≥5 µm): a well-mixed room whose
  concentration relaxes towards ``at_rest + (in_operation - at_rest) *
  activity`` with the clean-up time constant (240 s by default: the 100:1
  recovery Annex 1 asks for takes ~18 min). Activity is what the operator or
  scenario sets, plus 0.3 per person present.
- **Temperature and humidity**: slow mean-reverting drift (10 min) around a
  per-room mean inside ~20–22 °C and ~40–50 %RH; activity warms a little.
- **Doors and airlocks**: an interlocked airlock refuses to open a door while
  the other is open (unless forced, which latches fault 2). Faults latch as
  :class:`FaultCode` and stay latched until a reset arrives while no cause
  is active. A door reports *locked* when it is closed, belongs to an
  interlocked airlock and the airlock's other door is open (and no emergency
  release is active): that is the moment the PLC holds it shut.
- **Traffic**: with ``traffic_per_hour > 0`` people pass through each airlock
  (outer door, wait, inner door, or the reverse) and through plain doors now
  and then, each door open 5–15 s, so the floor plan is alive.
- **Heartbeats**: one 16-bit counter per controller, +1 per simulated second.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "HELD_OPEN_LIMIT_S",
    "AirlockSpec",
    "DoorSpec",
    "FaultCode",
    "Plant",
    "PlantError",
    "PlantSpec",
    "RoomSpec",
]

HELD_OPEN_LIMIT_S = 60.0
"""A door open longer than this (simulated seconds) latches ``HELD_OPEN``."""

_MAX_SUBSTEP_DOORS_OPEN_S = 0.1  # door coupling is fast: integrate finely
_MAX_SUBSTEP_QUIET_S = 1.0  # everything else is solved exactly per substep
_PRESSURE_NOISE_PA = 0.25
_PRESSURE_NOISE_TAU_S = 2.0
_PARTICLE_NOISE = 0.04  # relative sampling noise of the counter
_CLIMATE_TAU_S = 600.0
_TEMPERATURE_SD_C = 0.25
_HUMIDITY_SD_PCT = 1.2
_TEMPERATURE_BAND = (20.0, 22.5)
_HUMIDITY_BAND = (40.0, 50.0)
_HEATING_PER_ACTIVITY_C = 0.4
_ACTIVITY_PER_PERSON = 0.3
_HEARTBEAT_MODULO = 65536


class PlantError(ValueError):
    """A call named something the plant does not have, or gave a bad value."""


class FaultCode(IntEnum):
    """Latched interlock fault codes, as the door PLC reports them."""

    NONE = 0
    BOTH_DOORS_OPEN = 1
    FORCED_OPEN = 2
    HELD_OPEN = 3
    EMERGENCY_RELEASE = 4
    CONTROLLER_FAULT = 5


# When several causes appear at once, the most specific one is latched.
_LATCH_PRIORITY = (
    FaultCode.CONTROLLER_FAULT,
    FaultCode.EMERGENCY_RELEASE,
    FaultCode.FORCED_OPEN,
    FaultCode.BOTH_DOORS_OPEN,
    FaultCode.HELD_OPEN,
)


@dataclass(frozen=True, slots=True)
class RoomSpec:
    """A room (space) of the plant; particle levels are counts per m³.

    ``hvac_tau_s`` is how fast the room's HVAC pulls its pressure back to the
    setpoint; ``None`` takes the plant's ``hvac_tau_s``. A pressure-controlled
    corridor gets a short one: it is held far more stiffly than a room.
    """

    id: str
    grade: str
    setpoint_pa: float
    particles_0_5_at_rest: float
    particles_5_at_rest: float
    particles_0_5_in_operation: float
    particles_5_in_operation: float
    volume_m3: float = 100.0
    temperature_c: float = 21.0
    humidity_pct: float = 45.0
    hvac_tau_s: float | None = None


@dataclass(frozen=True, slots=True)
class DoorSpec:
    """A door between two rooms (either may be the ambient id): (outer, inner)."""

    id: str
    sides: tuple[str, str]
    airlock: str | None = None


@dataclass(frozen=True, slots=True)
class AirlockSpec:
    id: str
    outer_door: str
    inner_door: str
    interlocked: bool = True  # False: the PLC only warns, it lets both doors open


@dataclass(frozen=True, slots=True)
class PlantSpec:
    """Everything the physics needs; validated on construction."""

    rooms: tuple[RoomSpec, ...]
    doors: tuple[DoorSpec, ...] = ()
    airlocks: tuple[AirlockSpec, ...] = ()
    ambient: str = "AMBIENT"
    controllers: tuple[str, ...] = ()  # ids with a heartbeat (the PLCs)
    hvac_tau_s: float = 3.0
    door_tau_s: float = 0.3
    clean_up_tau_s: float = 240.0

    def __post_init__(self) -> None:
        problems: list[str] = []
        room_ids = [r.id for r in self.rooms]
        door_ids = [d.id for d in self.doors]
        for kind, ids in (
            ("room", room_ids),
            ("door", door_ids),
            ("airlock", [a.id for a in self.airlocks]),
            ("controller", list(self.controllers)),
        ):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                problems.append(f"duplicate {kind} ids: {', '.join(duplicates)}")
        if self.ambient in room_ids:
            problems.append(f"the ambient id {self.ambient!r} is also a room")
        known_sides = {*room_ids, self.ambient}
        for door in self.doors:
            for side in door.sides:
                if side not in known_sides:
                    problems.append(f"door {door.id!r} leads to unknown room {side!r}")
            if door.sides[0] == door.sides[1]:
                problems.append(f"door {door.id!r} joins {door.sides[0]!r} to itself")
        for airlock in self.airlocks:
            if airlock.id not in room_ids:
                problems.append(f"airlock {airlock.id!r} is not one of the rooms")
            for door_id in (airlock.outer_door, airlock.inner_door):
                if door_id not in door_ids:
                    problems.append(f"airlock {airlock.id!r} names unknown door {door_id!r}")
            if airlock.outer_door == airlock.inner_door:
                problems.append(f"airlock {airlock.id!r} has the same door twice")
        for name in ("hvac_tau_s", "door_tau_s", "clean_up_tau_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                problems.append(f"{name} must be a positive number, not {value!r}")
        for room in self.rooms:
            tau = room.hvac_tau_s
            if tau is not None and not (math.isfinite(tau) and tau > 0):
                problems.append(
                    f"room {room.id!r}: hvac_tau_s must be a positive number, not {tau!r}"
                )
        if problems:
            raise PlantError("invalid plant spec: " + "; ".join(problems))


# ---------------------------------------------------------------- state


@dataclass(slots=True)
class _Room:
    spec: RoomSpec
    pressure: float  # deterministic part, Pa
    pressure_noise: float
    p05: float
    p5: float
    p05_reading: float
    p5_reading: float
    temperature: float
    humidity: float
    temperature_mean: float
    humidity_mean: float
    activity: float = 0.0
    occupancy: int = 0

    @property
    def effective_activity(self) -> float:
        return min(1.0, self.activity + _ACTIVITY_PER_PERSON * self.occupancy)


@dataclass(slots=True)
class _Door:
    spec: DoorSpec
    open: bool = False
    forced: bool = False
    opened_at: float = 0.0


@dataclass(slots=True)
class _Airlock:
    spec: AirlockSpec
    fault: FaultCode = FaultCode.NONE
    emergency_release: bool = False
    controller_fault: bool = False


@dataclass(slots=True)
class _Controller:
    heartbeat: int = 0
    frozen: bool = False


@dataclass(slots=True)
class _Passage:
    """One person walking through a door group: timed door moves."""

    doors: tuple[str, ...]  # the doors in the order they are passed
    room: str | None  # where the person waits between doors (the airlock)
    open_for: tuple[float, ...]
    wait_s: float
    index: int = 0  # which door is next
    door_open: bool = False  # the person holds doors[index] open
    inside: bool = False  # the person waits in ``room``
    due: float = 0.0


@dataclass(slots=True)
class _TrafficLane:
    """Where people pass now and then: an airlock's door pair, or a plain door."""

    doors: tuple[str, ...]  # (outer, inner) for an airlock, (door,) for a plain door
    room: str | None
    next_at: float
    passage: _Passage | None = None


class Plant:
    """The simulated facility; advance it with :meth:`step`."""

    def __init__(self, spec: PlantSpec, *, seed: int = 0, traffic_per_hour: float = 0.0) -> None:
        if not (math.isfinite(traffic_per_hour) and traffic_per_hour >= 0):
            raise PlantError(f"traffic_per_hour must be 0 or more, not {traffic_per_hour!r}")
        self.spec = spec
        self.time = 0.0
        self._rng = random.Random(seed)
        self._traffic_per_hour = traffic_per_hour
        self._rooms: dict[str, _Room] = {}
        for room in spec.rooms:
            t_mean = room.temperature_c + self._rng.uniform(-0.5, 0.5)
            rh_mean = room.humidity_pct + self._rng.uniform(-2.5, 2.5)
            self._rooms[room.id] = _Room(
                spec=room,
                pressure=room.setpoint_pa,
                pressure_noise=0.0,
                p05=room.particles_0_5_at_rest,
                p5=room.particles_5_at_rest,
                p05_reading=room.particles_0_5_at_rest,
                p5_reading=room.particles_5_at_rest,
                temperature=t_mean,
                humidity=rh_mean,
                temperature_mean=t_mean,
                humidity_mean=rh_mean,
            )
        self._doors = {d.id: _Door(d) for d in spec.doors}
        self._airlocks = {a.id: _Airlock(a) for a in spec.airlocks}
        self._controllers = {c: _Controller() for c in spec.controllers}
        self._lanes: list[_TrafficLane] = []
        in_airlock: set[str] = set()
        for airlock in spec.airlocks:
            in_airlock.update((airlock.outer_door, airlock.inner_door))
            self._lanes.append(
                _TrafficLane(
                    doors=(airlock.outer_door, airlock.inner_door),
                    room=airlock.id,
                    next_at=self._next_arrival(0.0),
                )
            )
        for door in spec.doors:
            if door.id not in in_airlock:
                self._lanes.append(
                    _TrafficLane(doors=(door.id,), room=None, next_at=self._next_arrival(0.0))
                )

    # ------------------------------------------------------------ lookups

    def _room(self, room_id: str) -> _Room:
        try:
            return self._rooms[room_id]
        except KeyError:
            raise PlantError(f"unknown room {room_id!r}") from None

    def _door(self, door_id: str) -> _Door:
        try:
            return self._doors[door_id]
        except KeyError:
            raise PlantError(f"unknown door {door_id!r}") from None

    def _airlock(self, airlock_id: str) -> _Airlock:
        try:
            return self._airlocks[airlock_id]
        except KeyError:
            raise PlantError(f"unknown airlock {airlock_id!r}") from None

    def _controller(self, controller_id: str) -> _Controller:
        try:
            return self._controllers[controller_id]
        except KeyError:
            raise PlantError(f"unknown controller {controller_id!r}") from None

    def _other_door(self, door: _Door) -> _Door | None:
        if door.spec.airlock is None:
            return None
        airlock = self._airlocks.get(door.spec.airlock)
        if airlock is None:
            return None
        spec = airlock.spec
        other = spec.inner_door if door.spec.id == spec.outer_door else spec.outer_door
        return self._doors[other]

    # ------------------------------------------------------------ readings

    def pressure(self, room_id: str) -> float:
        """Measured pressure (Pa) relative to ambient; the ambient itself reads 0."""
        if room_id == self.spec.ambient:
            return 0.0
        room = self._room(room_id)
        return room.pressure + room.pressure_noise

    def differential(self, room_id: str, reference: str | None = None) -> float:
        """p(room) − p(reference) in Pa; the reference defaults to the ambient."""
        return self.pressure(room_id) - self.pressure(reference or self.spec.ambient)

    def particles_0_5(self, room_id: str) -> float:
        return self._room(room_id).p05_reading

    def particles_5(self, room_id: str) -> float:
        return self._room(room_id).p5_reading

    def temperature(self, room_id: str) -> float:
        return self._room(room_id).temperature

    def humidity(self, room_id: str) -> float:
        return self._room(room_id).humidity

    def activity(self, room_id: str) -> float:
        """The set activity level (0 at rest .. 1 full operation), people not counted."""
        return self._room(room_id).activity

    def occupancy(self, room_id: str) -> int:
        return self._room(room_id).occupancy

    def door_open(self, door_id: str) -> bool:
        return self._door(door_id).open

    def door_closed(self, door_id: str) -> bool:
        return not self._door(door_id).open

    def door_locked(self, door_id: str) -> bool:
        """Held shut by the interlock: closed while the airlock's other door is open."""
        door = self._door(door_id)
        if door.open or door.spec.airlock is None:
            return False
        airlock = self._airlocks.get(door.spec.airlock)
        if airlock is None or not airlock.spec.interlocked or airlock.emergency_release:
            return False
        other = self._other_door(door)
        return other is not None and other.open

    def door_open_for(self, door_id: str) -> float:
        """Seconds the door has been open (0 when closed)."""
        door = self._door(door_id)
        return self.time - door.opened_at if door.open else 0.0

    def fault_code(self, airlock_id: str) -> FaultCode:
        return self._airlock(airlock_id).fault

    def active_causes(self, airlock_id: str) -> frozenset[FaultCode]:
        """The fault conditions present right now (a reset needs this empty)."""
        airlock = self._airlock(airlock_id)
        outer = self._doors[airlock.spec.outer_door]
        inner = self._doors[airlock.spec.inner_door]
        causes: set[FaultCode] = set()
        if outer.open and inner.open:
            causes.add(FaultCode.BOTH_DOORS_OPEN)
        if (outer.open and outer.forced) or (inner.open and inner.forced):
            causes.add(FaultCode.FORCED_OPEN)
        if any(d.open and self.time - d.opened_at > HELD_OPEN_LIMIT_S for d in (outer, inner)):
            causes.add(FaultCode.HELD_OPEN)
        if airlock.emergency_release:
            causes.add(FaultCode.EMERGENCY_RELEASE)
        if airlock.controller_fault:
            causes.add(FaultCode.CONTROLLER_FAULT)
        return frozenset(causes)

    def heartbeat(self, controller_id: str) -> int:
        return self._controller(controller_id).heartbeat

    def heartbeat_frozen(self, controller_id: str) -> bool:
        return self._controller(controller_id).frozen

    @property
    def room_ids(self) -> tuple[str, ...]:
        return tuple(self._rooms)

    @property
    def door_ids(self) -> tuple[str, ...]:
        return tuple(self._doors)

    @property
    def airlock_ids(self) -> tuple[str, ...]:
        return tuple(self._airlocks)

    @property
    def controller_ids(self) -> tuple[str, ...]:
        return tuple(self._controllers)

    # ------------------------------------------------------------ commands

    def open_door(self, door_id: str, *, forced: bool = False) -> bool:
        """Open a door; return False when the interlock refuses.

        ``forced`` opens it anyway (someone forces a held door) and latches
        ``FORCED_OPEN`` if the interlock was holding it. An operator's or a
        test's command cancels any passage the traffic model had going there.
        """
        door = self._door(door_id)
        self._cancel_traffic(door_id)
        return self._open(door, forced=forced)

    def close_door(self, door_id: str) -> None:
        door = self._door(door_id)
        self._cancel_traffic(door_id)
        self._close(door)

    def set_activity(self, room_id: str, level: float) -> None:
        """Work in the room: 0 at rest, 1 full operation (drives particles)."""
        if not (math.isfinite(level) and 0.0 <= level <= 1.0):
            raise PlantError(f"activity level must be between 0 and 1, not {level!r}")
        self._room(room_id).activity = level

    def set_occupancy(self, room_id: str, people: int) -> None:
        """People present in the room; each adds to its activity."""
        if people < 0:
            raise PlantError(f"occupancy cannot be negative ({people})")
        self._room(room_id).occupancy = people

    def request_reset(self, airlock_id: str) -> bool:
        """A reset request (the PLC's reset coil); refused while a cause persists."""
        airlock = self._airlock(airlock_id)
        if airlock.fault is FaultCode.NONE:
            return True
        if self.active_causes(airlock_id):
            return False
        airlock.fault = FaultCode.NONE
        return True

    def latch_fault(self, airlock_id: str, code: int) -> None:
        """Inject a latched fault (1..5) regardless of the doors; a reset clears it."""
        airlock = self._airlock(airlock_id)
        try:
            fault = FaultCode(code)
        except ValueError:
            raise PlantError(f"fault code must be 1..5, not {code!r}") from None
        if fault is FaultCode.NONE:
            raise PlantError("fault code 0 means no fault; use request_reset to clear one")
        airlock.fault = fault

    def set_emergency_release(self, airlock_id: str, active: bool) -> None:
        """Emergency release unlocks the airlock's doors and latches code 4 while active."""
        self._airlock(airlock_id).emergency_release = active
        self._update_faults()

    def set_controller_fault(self, airlock_id: str, active: bool) -> None:
        """A persistent controller fault (code 5) on the airlock's interlock."""
        self._airlock(airlock_id).controller_fault = active
        self._update_faults()

    def freeze_heartbeat(self, controller_id: str, frozen: bool = True) -> None:
        """A frozen controller: its heartbeat stops while everything else runs."""
        self._controller(controller_id).frozen = frozen

    # ------------------------------------------------------------ time

    def step(self, dt: float) -> None:
        """Advance the plant by ``dt`` simulated seconds."""
        if not (math.isfinite(dt) and dt >= 0):
            raise PlantError(f"dt must be a finite number of seconds ≥ 0, not {dt!r}")
        end = self.time + dt
        while True:
            self._run_traffic()
            remaining = end - self.time
            if remaining <= 1e-9:
                break
            any_open = any(d.open for d in self._doors.values())
            h = min(remaining, _MAX_SUBSTEP_DOORS_OPEN_S if any_open else _MAX_SUBSTEP_QUIET_S)
            next_event = self._next_traffic_time()
            if next_event is not None and next_event - self.time < h:
                h = max(next_event - self.time, 1e-6)
            self._advance(h)

    def _advance(self, h: float) -> None:
        rng = self._rng
        spec = self.spec
        # Doors first: exact pairwise relaxation towards the weighted mean is
        # stable for any number of open doors; then the HVAC pulls each room
        # back towards its setpoint with its own time constant, solved exactly
        # for the substep.
        pull = 1.0 - math.exp(-h / spec.door_tau_s)
        for door in self._doors.values():
            if not door.open:
                continue
            a_id, b_id = door.spec.sides
            a = self._rooms.get(a_id)
            b = self._rooms.get(b_id)
            if a is not None and b is not None:
                va, vb = a.spec.volume_m3, b.spec.volume_m3
                mean = (a.pressure * va + b.pressure * vb) / (va + vb)
                a.pressure += (mean - a.pressure) * pull
                b.pressure += (mean - b.pressure) * pull
            elif a is not None:
                a.pressure -= a.pressure * pull
            elif b is not None:
                b.pressure -= b.pressure * pull

        noise_decay = math.exp(-h / _PRESSURE_NOISE_TAU_S)
        noise_sd = _PRESSURE_NOISE_PA * math.sqrt(1.0 - noise_decay**2)
        clean_up = math.exp(-h / spec.clean_up_tau_s)
        climate = math.exp(-h / _CLIMATE_TAU_S)
        climate_sd = math.sqrt(1.0 - climate**2)
        for room in self._rooms.values():
            rs = room.spec
            hvac = math.exp(-h / (spec.hvac_tau_s if rs.hvac_tau_s is None else rs.hvac_tau_s))
            room.pressure = rs.setpoint_pa + (room.pressure - rs.setpoint_pa) * hvac
            room.pressure_noise = room.pressure_noise * noise_decay + rng.gauss(0.0, noise_sd)

            activity = room.effective_activity
            target05 = (
                rs.particles_0_5_at_rest
                + (rs.particles_0_5_in_operation - rs.particles_0_5_at_rest) * activity
            )
            target5 = (
                rs.particles_5_at_rest
                + (rs.particles_5_in_operation - rs.particles_5_at_rest) * activity
            )
            room.p05 = target05 + (room.p05 - target05) * clean_up
            room.p5 = target5 + (room.p5 - target5) * clean_up
            room.p05_reading = max(0.0, room.p05 * (1.0 + rng.gauss(0.0, _PARTICLE_NOISE)))
            room.p5_reading = max(0.0, room.p5 * (1.0 + rng.gauss(0.0, _PARTICLE_NOISE)))

            t_target = room.temperature_mean + _HEATING_PER_ACTIVITY_C * activity
            room.temperature = _clamp(
                t_target
                + (room.temperature - t_target) * climate
                + rng.gauss(0.0, _TEMPERATURE_SD_C * climate_sd),
                _TEMPERATURE_BAND,
            )
            room.humidity = _clamp(
                room.humidity_mean
                + (room.humidity - room.humidity_mean) * climate
                + rng.gauss(0.0, _HUMIDITY_SD_PCT * climate_sd),
                _HUMIDITY_BAND,
            )

        before = math.floor(self.time + 1e-9)
        self.time += h
        whole = math.floor(self.time + 1e-9) - before
        if whole:
            for controller in self._controllers.values():
                if not controller.frozen:
                    controller.heartbeat = (controller.heartbeat + whole) % _HEARTBEAT_MODULO
        self._update_faults()

    # ------------------------------------------------------------ doors and faults

    def _open(self, door: _Door, *, forced: bool) -> bool:
        if door.open:
            return True
        holding = self.door_locked(door.spec.id)
        if holding and not forced:
            return False
        door.open = True
        door.forced = holding
        door.opened_at = self.time
        self._update_faults()
        return True

    def _close(self, door: _Door) -> None:
        door.open = False
        door.forced = False
        self._update_faults()

    def _update_faults(self) -> None:
        for airlock_id, airlock in self._airlocks.items():
            if airlock.fault is not FaultCode.NONE:
                continue
            causes = self.active_causes(airlock_id)
            for code in _LATCH_PRIORITY:
                if code in causes:
                    airlock.fault = code
                    break

    # ------------------------------------------------------------ traffic

    def _next_arrival(self, now: float) -> float:
        if self._traffic_per_hour <= 0:
            return math.inf
        return now + self._rng.expovariate(self._traffic_per_hour / 3600.0)

    def _next_traffic_time(self) -> float | None:
        times = [
            lane.passage.due if lane.passage is not None else lane.next_at for lane in self._lanes
        ]
        finite = [t for t in times if math.isfinite(t)]
        return min(finite) if finite else None

    def _cancel_traffic(self, door_id: str) -> None:
        """Someone else takes over these doors: the walking person steps aside."""
        for lane in self._lanes:
            passage = lane.passage
            if door_id not in lane.doors or passage is None:
                continue
            if passage.door_open:
                self._close(self._doors[passage.doors[passage.index]])
            room = self._rooms.get(passage.room) if passage.room else None
            if passage.inside and room is not None:
                room.occupancy = max(0, room.occupancy - 1)
            lane.passage = None
            lane.next_at = self._next_arrival(self.time)

    def _run_traffic(self) -> None:
        for lane in self._lanes:
            # A few moves may fall due at the same instant; bound the loop anyway.
            for _ in range(8):
                if lane.passage is None:
                    if lane.next_at > self.time:
                        break
                    if any(self._doors[d].open for d in lane.doors):
                        lane.next_at = self.time + 5.0  # busy: come back later
                        break
                    doors = lane.doors if self._rng.random() < 0.5 else lane.doors[::-1]
                    lane.passage = _Passage(
                        doors=doors,
                        room=lane.room,
                        open_for=tuple(self._rng.uniform(5.0, 15.0) for _ in doors),
                        wait_s=self._rng.uniform(8.0, 25.0),
                        due=self.time,
                    )
                    continue
                passage = lane.passage
                if passage.due > self.time:
                    break
                door = self._doors[passage.doors[passage.index]]
                if not passage.door_open:
                    if not self._open(door, forced=False):
                        passage.due = self.time + 1.0  # interlock holds: wait
                        break
                    passage.door_open = True
                    passage.due = self.time + passage.open_for[passage.index]
                    continue
                self._close(door)
                passage.door_open = False
                room = self._rooms.get(passage.room) if passage.room else None
                passage.index += 1
                if room is not None:
                    if passage.inside:
                        room.occupancy = max(0, room.occupancy - 1)
                    passage.inside = passage.index < len(passage.doors)
                    if passage.inside:
                        room.occupancy += 1
                if passage.index >= len(passage.doors):
                    lane.passage = None
                    lane.next_at = self._next_arrival(self.time)
                    break
                passage.due = self.time + passage.wait_s


def _clamp(value: float, band: tuple[float, float]) -> float:
    return min(max(value, band[0]), band[1])
