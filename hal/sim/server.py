"""The simulated PLCs: one real Modbus TCP server per PLC, serving the plant.

Each PLC is a pymodbus ``ModbusTcpServer`` with one ``SimDevice`` in the
non-shared layout (coils and discrete inputs addressed by bit). Every table
is one contiguous block from address 0 to the PLC's last point, so a poller
may bridge gaps in one read as it would on a real PLC; beyond the last point
the server answers ILLEGAL ADDRESS, and so it does for a table with no points.

The register image is not pushed on a timer: the device's ``action`` hook,
which pymodbus awaits on every request, encodes the plant's current values
into the block just before the server answers. That keeps what a client
reads and what :meth:`Simulator.expected_value` reports the same, and makes
fault injection (exception codes, slow answers) a matter of the same hook.

Register values go through :func:`hal.codec.encode_value` with each PLC's
word and byte order, so the simulator and the poller share one definition
of a register's meaning.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice

from hal.codec import DecodeError, decode_registers, encode_value
from hal.points import DataType, PlcDef, PointDef, Quantity, Table, Value
from hal.sim.plant import Plant, PlantError, PlantSpec
from hal.sim.scenario import (
    MODBUS_EXCEPTION_CODES,
    Action,
    Scenario,
    ScenarioError,
    ScenarioTargets,
    Step,
    check_targets,
)

__all__ = ["ExceptionRule", "Simulator", "SimulatorError"]

log = logging.getLogger(__name__)

_FC_TABLE: dict[int, Table] = {
    1: Table.COIL,
    5: Table.COIL,
    15: Table.COIL,
    2: Table.DISCRETE_INPUT,
    3: Table.HOLDING,
    6: Table.HOLDING,
    16: Table.HOLDING,
    22: Table.HOLDING,
    23: Table.HOLDING,
    4: Table.INPUT,
}
_READ_FC: dict[Table, int] = {
    Table.COIL: 1,
    Table.DISCRETE_INPUT: 2,
    Table.HOLDING: 3,
    Table.INPUT: 4,
}
_INT_RANGES: dict[DataType, tuple[int, int]] = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
}
_TICK_S = 0.1  # real seconds between physics steps at speed 1
_MIN_TICK_S = 0.01  # ... and at most 100 steps a real second when faster
_MAX_TICK_GAP_S = 5.0  # a stalled loop does not make the plant jump further
_CLOSE_TIMEOUT_S = 2.0


class SimulatorError(Exception):
    """The simulator cannot do what was asked (unknown id, port in use, bad value)."""


@dataclass(frozen=True, slots=True)
class ExceptionRule:
    """Answer requests touching ``table``/``address`` (None: any) with ``code``."""

    code: ExcCodes
    table: Table | None = None
    address: int | None = None

    def matches(self, table: Table, first: int, count: int) -> bool:
        if self.table is not None and self.table is not table:
            return False
        return self.address is None or first <= self.address < first + count


@dataclass(slots=True)
class _PlcState:
    """One simulated PLC: its definition, its listener and its injected faults."""

    plc: PlcDef
    host: str
    port: int
    devices: list[SimDevice]  # the PLC, and a catch-all for other unit ids
    points: dict[Table, tuple[PointDef, ...]]  # per table, sorted by address
    starts: dict[Table, list[int]]  # the points' addresses, for bisection
    sizes: dict[Table, int]  # registers, or bits for bit tables
    server: ModbusTcpServer | None = None
    delay_s: float = 0.0
    rules: list[ExceptionRule] = field(default_factory=list)
    bit_counts: dict[tuple[int, int], int] = field(default_factory=dict)
    inflight: set[asyncio.Task[Any]] = field(default_factory=set)


class Simulator:
    """The site's PLCs served over Modbus TCP from a running :class:`Plant`.

    ``speed`` is simulated seconds per real second (0 pauses the physics, so
    a test can step it with :meth:`advance`). With ``free_ports`` (or a PLC
    whose port is 0) each PLC listens on a free loopback port; read the
    actual ones from :attr:`endpoints` after :meth:`start`.
    """

    def __init__(
        self,
        spec: PlantSpec,
        plcs: Sequence[PlcDef],
        *,
        speed: float = 1.0,
        seed: int = 0,
        traffic_per_hour: float = 6.0,
        free_ports: bool = False,
        host: str | None = None,
        scenario: Scenario | None = None,
        tick_s: float | None = None,
    ) -> None:
        self.plant = Plant(spec, seed=seed, traffic_per_hour=traffic_per_hour)
        self.speed = speed
        if tick_s is not None and not (math.isfinite(tick_s) and tick_s > 0):
            raise SimulatorError(f"tick_s must be a positive number of seconds, not {tick_s!r}")
        self._tick_s = tick_s
        self._free_ports = free_ports
        self._host = host
        self._plcs: dict[str, _PlcState] = {}
        self._getters: dict[str, Callable[[], Value]] = {}
        self._point_plc: dict[str, str] = {}
        self._points: dict[str, PointDef] = {}
        self._overrides: dict[str, Value] = {}
        self._physics: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._started = False

        problems: list[str] = []
        for plc in plcs:
            if plc.id in self._plcs:
                problems.append(f"PLC {plc.id!r} is defined twice")
                continue
            for point in plc.points:
                if point.id in self._points:
                    problems.append(f"point {point.id!r} is defined twice")
                    continue
                try:
                    getter = self._getter(plc, point)
                    getter()
                except (PlantError, SimulatorError) as exc:
                    problems.append(f"point {point.id!r} on {plc.id}: {exc}")
                    continue
                self._getters[point.id] = getter
                self._points[point.id] = point
                self._point_plc[point.id] = plc.id
            self._plcs[plc.id] = self._build_state(plc)
        if problems:
            raise SimulatorError("cannot simulate these PLCs: " + "; ".join(problems))

        self._scenario_steps: tuple[Step, ...] = ()
        self._next_step = 0
        if scenario is not None:
            targets = self.targets
            scenario_problems = [p for s in scenario.steps for p in check_targets(s, targets)]
            if scenario_problems:
                raise ScenarioError(scenario.source, scenario_problems)
            self._scenario_steps = scenario.steps

    # ------------------------------------------------------------ set-up

    @property
    def targets(self) -> ScenarioTargets:
        """The ids a scenario may name for this simulator."""
        return ScenarioTargets(
            doors=frozenset(self.plant.door_ids),
            rooms=frozenset(self.plant.room_ids),
            airlocks=frozenset(self.plant.airlock_ids),
            plcs=frozenset(self._plcs),
            points=frozenset(self._points),
        )

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if not (math.isfinite(value) and value >= 0):
            raise SimulatorError(f"speed must be a number ≥ 0, not {value!r}")
        self._speed = value

    @property
    def endpoints(self) -> dict[str, tuple[str, int]]:
        """Where each PLC listens (the actual port once started)."""
        return {plc_id: (s.host, s.port) for plc_id, s in self._plcs.items()}

    @property
    def running(self) -> bool:
        return self._started

    def _getter(self, plc: PlcDef, point: PointDef) -> Callable[[], Value]:
        plant, target = self.plant, point.target
        match point.quantity:
            case Quantity.DIFFERENTIAL_PRESSURE:
                reference = point.reference
                return lambda: plant.differential(target, reference)
            case Quantity.TEMPERATURE:
                return lambda: plant.temperature(target)
            case Quantity.HUMIDITY:
                return lambda: plant.humidity(target)
            case Quantity.PARTICLES_0_5:
                return lambda: plant.particles_0_5(target)
            case Quantity.PARTICLES_5:
                return lambda: plant.particles_5(target)
            case Quantity.DOOR_CLOSED:
                return lambda: plant.door_closed(target)
            case Quantity.DOOR_LOCKED:
                return lambda: plant.door_locked(target)
            case Quantity.INTERLOCK_FAULT:
                return lambda: int(plant.fault_code(target))
            case Quantity.INTERLOCK_RESET:
                plant.fault_code(target)  # the airlock must exist
                return lambda: False
            case Quantity.HEARTBEAT:
                controller = target if target in plant.controller_ids else plc.id
                return lambda: plant.heartbeat(controller)
        raise SimulatorError(f"quantity {point.quantity!r} is not simulated")

    def _build_state(self, plc: PlcDef) -> _PlcState:
        points = {
            t: tuple(sorted((p for p in plc.points if p.table is t), key=lambda p: p.address))
            for t in Table
        }
        starts = {t: [p.address for p in points[t]] for t in Table}
        sizes = {t: max((p.end for p in points[t]), default=0) for t in Table}

        def bits(size: int) -> list[SimData]:
            padded = max(16, -(-size // 16) * 16)
            return [SimData(address=0, values=[False] * padded, datatype=SimType.BITS)]

        def registers(size: int) -> list[SimData]:
            return [SimData(address=0, values=[0] * max(1, size), datatype=SimType.REGISTERS)]

        plc_id = plc.id

        async def action(
            function_code: int,
            start_address: int,
            address: int,
            count: int,
            current_registers: list[int],
            set_values: list[int] | list[bool] | None,
        ) -> ExcCodes | None:
            return await self._on_request(
                plc_id, function_code, address, count, current_registers, set_values
            )

        device = SimDevice(
            id=plc.device_id,
            simdata=(
                bits(sizes[Table.COIL]),
                bits(sizes[Table.DISCRETE_INPUT]),
                registers(sizes[Table.HOLDING]),
                registers(sizes[Table.INPUT]),
            ),
            action=action,
        )
        devices = [device]
        if plc.device_id != 0:
            # Any other unit id gets "gateway target failed to respond", as
            # from a Modbus gateway, instead of a server-side traceback.
            devices.append(
                SimDevice(
                    id=0,
                    simdata=(bits(0), bits(0), registers(0), registers(0)),
                    action=_no_such_device,
                )
            )
        host = self._host or ("127.0.0.1" if self._free_ports else plc.host)
        port = 0 if self._free_ports else plc.port
        return _PlcState(
            plc=plc,
            host=host,
            port=port,
            devices=devices,
            points=points,
            starts=starts,
            sizes=sizes,
        )

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen on every PLC's endpoint and start the physics."""
        if self._started:
            raise SimulatorError("the simulator is already running")
        self._started = True
        try:
            for state in self._plcs.values():
                await self._listen(state)
        except BaseException:
            await self.stop()
            raise
        self._physics = asyncio.create_task(self._run_physics(), name="simulator physics")

    async def stop(self) -> None:
        """Stop the physics and close every listener and connection."""
        task, self._physics = self._physics, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for state in self._plcs.values():
            await self._close(state)
        self._started = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _listen(self, state: _PlcState) -> None:
        def trace_pdu(sending: bool, pdu: Any) -> Any:
            # The action hook sees bit requests only as whole registers; note
            # the exact bit count here so exception rules match precisely.
            if not sending and pdu.function_code in (1, 2):
                state.bit_counts[(pdu.function_code, pdu.address)] = pdu.count
            return pdu

        server = ModbusTcpServer(
            state.devices, address=(state.host, state.port), trace_pdu=trace_pdu
        )
        try:
            await server.serve_forever(background=True)
        except RuntimeError:
            await _shutdown(server)
            raise SimulatorError(
                f"PLC {state.plc.id} cannot listen on {state.host}:{state.port} "
                "(is the port in use, or the address not on this machine?)"
            ) from None
        listener = server.transport
        if state.port == 0 and isinstance(listener, asyncio.Server) and listener.sockets:
            state.port = int(listener.sockets[0].getsockname()[1])
        state.server = server
        log.info("PLC %s listening on %s:%d", state.plc.id, state.host, state.port)

    async def _close(self, state: _PlcState) -> None:
        server, state.server = state.server, None
        pending = list(state.inflight)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=_CLOSE_TIMEOUT_S)
        state.inflight.clear()
        state.bit_counts.clear()
        if server is None:
            return
        listener = server.transport
        await _shutdown(server)
        if isinstance(listener, asyncio.Server):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listener.wait_closed(), _CLOSE_TIMEOUT_S)
        log.info("PLC %s closed", state.plc.id)

    async def _run_physics(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.tick_s)
            now = loop.time()
            real_dt = min(now - last, _MAX_TICK_GAP_S)
            last = now
            if self._speed > 0:
                await self.advance(real_dt * self._speed)

    async def advance(self, seconds: float) -> None:
        """Move simulated time forward, running the scenario steps that fall due."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise SimulatorError(f"cannot advance by {seconds!r} seconds")
        async with self._lock:
            end = self.plant.time + seconds
            steps = self._scenario_steps
            while self._next_step < len(steps) and steps[self._next_step].at <= end:
                step = steps[self._next_step]
                self._next_step += 1
                self.plant.step(max(0.0, step.at - self.plant.time))
                await self._apply(step)
            self.plant.step(max(0.0, end - self.plant.time))

    @property
    def tick_s(self) -> float:
        """Real seconds between physics steps: ``tick_s`` if given, else
        :data:`_TICK_S` at speed 1 and shorter when faster (a time-lapse steps the
        plant about as finely in its own time; at least :data:`_MIN_TICK_S`)."""
        if self._tick_s is not None:
            return self._tick_s
        return max(_MIN_TICK_S, _TICK_S / max(1.0, self._speed))

    @property
    def scenario_done(self) -> bool:
        return self._next_step >= len(self._scenario_steps)

    async def _apply(self, step: Step) -> None:
        log.info("scenario: %s", step.describe())
        try:
            await self.apply_step(step)
        except (SimulatorError, PlantError) as exc:
            log.error("scenario step %d (%s) failed: %s", step.index, step.action, exc)

    async def apply_step(self, step: Step) -> None:
        """Carry out one scenario step now."""
        match step.action:
            case Action.OPEN_DOOR:
                assert step.door is not None
                if not self.open_door(step.door, forced=step.forced):
                    log.info("scenario: the interlock kept %s shut", step.door)
            case Action.CLOSE_DOOR:
                assert step.door is not None
                self.close_door(step.door)
            case Action.SET_ACTIVITY:
                assert step.room is not None and step.level is not None
                self.set_activity(step.room, step.level)
            case Action.PLC_DOWN:
                assert step.plc is not None
                await self.plc_down(step.plc)
            case Action.PLC_UP:
                assert step.plc is not None
                await self.plc_up(step.plc)
            case Action.FREEZE_HEARTBEAT | Action.UNFREEZE_HEARTBEAT:
                assert step.plc is not None
                self.freeze_heartbeat(step.plc, step.action is Action.FREEZE_HEARTBEAT)
            case Action.EXCEPTION_RESPONSE:
                assert step.plc is not None
                self.exception_response(step.plc, step.code, step.table, step.address)
            case Action.CLEAR_EXCEPTIONS:
                assert step.plc is not None
                self.exception_response(step.plc, None)
            case Action.SENSOR_VALUE:
                assert step.point is not None
                self.sensor_value(step.point, step.value)
            case Action.RELEASE_SENSOR:
                assert step.point is not None
                self.sensor_value(step.point, None)
            case Action.SLOW_RESPONSES:
                assert step.plc is not None and step.delay is not None
                self.slow_responses(step.plc, step.delay)
            case Action.LATCH_FAULT:
                assert step.airlock is not None and step.code is not None
                self.latch_fault(step.airlock, step.code)
            case Action.RESET_FAULT:
                assert step.airlock is not None
                self.request_reset(step.airlock)

    # ------------------------------------------------------------ fault injection

    def _state(self, plc_id: str) -> _PlcState:
        try:
            return self._plcs[plc_id]
        except KeyError:
            raise SimulatorError(f"unknown PLC {plc_id!r}") from None

    def _point(self, point_id: str) -> PointDef:
        try:
            return self._points[point_id]
        except KeyError:
            raise SimulatorError(f"unknown point {point_id!r}") from None

    def is_up(self, plc_id: str) -> bool:
        return self._state(plc_id).server is not None

    async def plc_down(self, plc_id: str) -> None:
        """The PLC drops off the network: listener closed, connections dropped."""
        state = self._state(plc_id)
        await self._close(state)

    async def plc_up(self, plc_id: str) -> None:
        """The PLC is back, listening on the same port as before."""
        state = self._state(plc_id)
        if state.server is None and self._started:
            await self._listen(state)

    def freeze_heartbeat(self, plc_id: str, frozen: bool = True) -> None:
        """The PLC keeps answering but its heartbeat stops (a frozen controller)."""
        state = self._state(plc_id)
        controllers = set(self.plant.controller_ids)
        targets = {plc_id} & controllers
        for point in state.plc.points:
            if point.quantity is Quantity.HEARTBEAT:
                targets.add(point.target if point.target in controllers else plc_id)
        for target in sorted(targets & controllers):
            self.plant.freeze_heartbeat(target, frozen)

    def exception_response(
        self,
        plc_id: str,
        code: int | None,
        table: Table | str | None = None,
        address: int | None = None,
    ) -> None:
        """Answer requests (all, or those touching ``table``/``address``) with ``code``.

        ``code=None`` removes the rule for that table/address, or every rule
        of the PLC when neither is given.
        """
        state = self._state(plc_id)
        try:
            which = Table(table) if table is not None else None
        except ValueError:
            raise SimulatorError(f"unknown table {table!r}") from None
        if address is not None and not 0 <= address <= 65535:
            raise SimulatorError(f"address {address} is outside 0..65535")
        if code is None:
            if which is None and address is None:
                state.rules.clear()
            else:
                state.rules[:] = [
                    r for r in state.rules if (r.table, r.address) != (which, address)
                ]
            return
        if code not in MODBUS_EXCEPTION_CODES:
            choices = ", ".join(str(c) for c in sorted(MODBUS_EXCEPTION_CODES))
            raise SimulatorError(f"{code} is not a Modbus exception code ({choices})")
        state.rules[:] = [r for r in state.rules if (r.table, r.address) != (which, address)]
        state.rules.append(ExceptionRule(ExcCodes(code), which, address))

    def slow_responses(self, plc_id: str, delay_s: float) -> None:
        """Delay every answer of the PLC by ``delay_s`` real seconds (0: prompt)."""
        if not (math.isfinite(delay_s) and delay_s >= 0):
            raise SimulatorError(f"delay must be a number of seconds ≥ 0, not {delay_s!r}")
        self._state(plc_id).delay_s = delay_s

    def sensor_value(self, point_id: str, value: Value | None) -> None:
        """Force the raw value a point serves (9999, NaN, inf…); None releases it."""
        point = self._point(point_id)
        if value is None:
            self._overrides.pop(point_id, None)
            return
        if point.table.is_bit:
            if not isinstance(value, bool | int) or value not in (0, 1):
                raise SimulatorError(f"point {point_id!r} is a bit; give true/false, not {value!r}")
            self._overrides[point_id] = bool(value)
            return
        plc = self._state(self._point_plc[point_id]).plc
        try:
            encode_value(point, value, plc.word_order, plc.byte_order)
        except (ValueError, TypeError) as exc:
            raise SimulatorError(f"point {point_id!r} cannot serve {value!r}: {exc}") from None
        self._overrides[point_id] = value

    # ------------------------------------------------------------ plant passthroughs

    def open_door(self, door_id: str, *, forced: bool = False) -> bool:
        """Open a door; False when the interlock refuses (see :meth:`Plant.open_door`)."""
        return self.plant.open_door(door_id, forced=forced)

    def close_door(self, door_id: str) -> None:
        self.plant.close_door(door_id)

    def set_activity(self, room_id: str, level: float) -> None:
        self.plant.set_activity(room_id, level)

    def set_occupancy(self, room_id: str, people: int) -> None:
        self.plant.set_occupancy(room_id, people)

    def latch_fault(self, airlock_id: str, code: int) -> None:
        self.plant.latch_fault(airlock_id, code)

    def request_reset(self, airlock_id: str) -> bool:
        return self.plant.request_reset(airlock_id)

    # ------------------------------------------------------------ read-back

    def source_value(self, point_id: str) -> Value:
        """The engineering value the point serves now (an override wins)."""
        self._point(point_id)
        if point_id in self._overrides:
            return self._overrides[point_id]
        return self._getters[point_id]()

    def expected_registers(self, point_id: str) -> list[int]:
        """The registers a register-table point serves now, as a client reads them."""
        point = self._point(point_id)
        if point.table.is_bit:
            raise SimulatorError(f"point {point_id!r} is a bit, not registers")
        plc = self._state(self._point_plc[point_id]).plc
        return self._encode(plc, point)

    def expected_value(self, point_id: str) -> Value:
        """What a client decoding this point reads now (float32-rounded).

        A served NaN or infinity, which the codec refuses to decode, comes
        back as that float.
        """
        point = self._point(point_id)
        value = self.source_value(point_id)
        if point.table.is_bit:
            return bool(value)
        plc = self._state(self._point_plc[point_id]).plc
        registers = self._encode(plc, point)
        try:
            return decode_registers(point, registers, plc.word_order, plc.byte_order)
        except DecodeError:
            return value

    # ------------------------------------------------------------ serving

    def _encode(self, plc: PlcDef, point: PointDef) -> list[int]:
        value = self.source_value(point.id)
        try:
            return encode_value(point, value, plc.word_order, plc.byte_order)
        except (ValueError, TypeError):
            # A real PLC saturates rather than wrapping a reading it cannot hold.
            return encode_value(point, _saturate(point, value), plc.word_order, plc.byte_order)

    def _fill_registers(
        self, state: _PlcState, table: Table, first: int, count: int, registers: list[int]
    ) -> None:
        """Encode the points in ``first .. first + count - 1`` into the register block.

        Only the requested range: encoding a whole 500-point PLC on every
        request made the simulator, not the network, the bottleneck of any
        client issuing small requests (benchmarks/poll.py).
        """
        end = min(first + count, len(registers))
        registers[first:end] = [0] * max(0, end - first)
        points = state.points[table]
        # A point is at most two registers wide: one starting just before
        # ``first`` may reach into the range.
        index = bisect.bisect_left(state.starts[table], first - 1)
        for point in points[index:]:
            if point.address >= end:
                break
            if point.end <= first:
                continue
            encoded = self._encode(state.plc, point)
            if point.bit is not None:
                registers[point.address] |= encoded[0]
            else:
                registers[point.address : point.end] = encoded

    def _bit_image(self, state: _PlcState, table: Table) -> list[int]:
        """Bits packed 16 to a register, bit address 0 in bit 0 (pymodbus' layout)."""
        words = [0] * -(-max(state.sizes[table], 1) // 16)
        for point in state.points[table]:
            if bool(self.source_value(point.id)):
                words[point.address // 16] |= 1 << (point.address % 16)
        return words

    async def _on_request(
        self,
        plc_id: str,
        function_code: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        state = self._plcs[plc_id]
        table = _FC_TABLE.get(function_code)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        if state.delay_s > 0:
            task = asyncio.current_task()
            if task is not None:
                state.inflight.add(task)
            try:
                await asyncio.sleep(state.delay_s)
            finally:
                if task is not None:
                    state.inflight.discard(task)

        if set_values is not None:
            span = len(set_values)
        elif table.is_bit:
            # pymodbus passes the register count for bit requests; the exact
            # bit count was noted when the request arrived.
            span = state.bit_counts.pop((function_code, address), count * 16 - address % 16)
        else:
            span = count
        for rule in state.rules:
            if rule.matches(table, address, span):
                return rule.code
        if not state.points[table]:
            return ExcCodes.ILLEGAL_ADDRESS

        if set_values is not None:
            if table is not Table.COIL:
                return ExcCodes.ILLEGAL_ADDRESS  # measurements and fault codes are read-only
            self._write_coils(state, address, [bool(v) for v in set_values])
            return None
        if function_code != _READ_FC[table]:
            return None  # the echo after a coil write: keep what was written
        if table is Table.COIL:
            for point in state.points[table]:  # reset coils read back False
                current_registers[point.address // 16] &= ~(1 << (point.address % 16))
        elif table is Table.DISCRETE_INPUT:
            words = self._bit_image(state, table)
            current_registers[: len(words)] = words
        else:
            self._fill_registers(state, table, address, count, current_registers)
        return None

    def _write_coils(self, state: _PlcState, address: int, values: list[bool]) -> None:
        for point in state.points[Table.COIL]:
            offset = point.address - address
            requested = 0 <= offset < len(values) and values[offset]
            if requested and point.quantity is Quantity.INTERLOCK_RESET:
                accepted = self.plant.request_reset(point.target)
                log.info("reset of %s %s", point.target, "accepted" if accepted else "refused")


async def _no_such_device(
    function_code: int,
    start_address: int,
    address: int,
    count: int,
    current_registers: list[int],
    set_values: list[int] | list[bool] | None,
) -> ExcCodes:
    return ExcCodes.GATEWAY_NO_RESPONSE


async def _shutdown(server: Any) -> None:
    """Close a pymodbus server (its ``shutdown`` carries no annotations)."""
    await server.shutdown()


def _saturate(point: PointDef, value: Value) -> Value:
    """Clamp a value to what the point's data type can hold."""
    limits = _INT_RANGES.get(point.data_type)
    if limits is None or isinstance(value, bool):
        return value
    low, high = (bound * point.scale + point.offset for bound in limits)
    low, high = min(low, high), max(low, high)
    if math.isnan(value):
        return low
    return min(max(value, low), high)
