"""The simulator over real Modbus TCP on loopback, read with pymodbus' own client."""

from __future__ import annotations

import asyncio
import math
import statistics
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from hal.codec import DecodeError, decode_bit_block, decode_block, decode_registers
from hal.planner import plan_plc
from hal.points import PlcDef, PointDef, Quantity, Table, Value, WordOrder
from hal.sim.plant import FaultCode, Plant
from hal.sim.scenario import ScenarioError, load_scenario, parse_scenario
from hal.sim.server import Simulator, SimulatorError
from necstgen_desk.simulation import (
    CORRIDOR_HVAC_TAU_S,
    build_simulator,
    corridors,
    plant_spec_from_site,
    scenario_targets,
)
from necstgen_desk.site.loader import DEFAULT_SITE_PATH, load_site
from necstgen_desk.site.model import InterlockKind, Site

DEMO = DEFAULT_SITE_PATH.parents[1] / "scenarios" / "demo-faults.toml"


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site(DEFAULT_SITE_PATH)


@pytest.fixture
async def sim(site: Site) -> AsyncIterator[Simulator]:
    """The default site, paused (speed 0) and without walking people: tests step it."""
    simulator = build_simulator(site, free_ports=True, speed=0.0, traffic_per_hour=0.0)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@asynccontextmanager
async def client(
    sim: Simulator, plc_id: str, *, answer_within_s: float = 1.0
) -> AsyncIterator[AsyncModbusTcpClient]:
    host, port = sim.endpoints[plc_id]
    modbus = AsyncModbusTcpClient(
        host, port=port, timeout=answer_within_s, retries=0, reconnect_delay=0
    )
    try:
        assert await modbus.connect(), f"cannot connect to {plc_id} at {host}:{port}"
        yield modbus
    finally:
        modbus.close()


async def wait_until(
    condition: Callable[[], Awaitable[bool]], within_s: float = 5.0, interval: float = 0.02
) -> None:
    """Poll an async condition until it holds; fail after ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while not await condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {within_s} s")
        await asyncio.sleep(interval)


async def refused(host: str, port: int) -> bool:
    """True when nothing listens there."""
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return True
    writer.close()
    await writer.wait_closed()
    return False


async def read_point(modbus: AsyncModbusTcpClient, plc: PlcDef, point: PointDef) -> Value:
    if point.table is Table.DISCRETE_INPUT:
        rr = await modbus.read_discrete_inputs(point.address, count=1, device_id=plc.device_id)
        assert not rr.isError(), rr
        return bool(rr.bits[0])
    if point.table is Table.COIL:
        rr = await modbus.read_coils(point.address, count=1, device_id=plc.device_id)
        assert not rr.isError(), rr
        return bool(rr.bits[0])
    read = (
        modbus.read_holding_registers
        if point.table is Table.HOLDING
        else modbus.read_input_registers
    )
    rr = await read(point.address, count=point.width, device_id=plc.device_id)
    assert not rr.isError(), rr
    return decode_registers(point, rr.registers, plc.word_order, plc.byte_order)


# ---------------------------------------------------------------- the register map


def test_plant_spec_follows_the_site(site: Site) -> None:
    spec = plant_spec_from_site(site)
    assert len(spec.rooms) == 21 and len(spec.doors) == 21 and len(spec.airlocks) == 9
    assert spec.controllers == ("ENV-1", "ENV-2", "ENV-3", "DOOR-1")
    interlocked = {a.id for a in spec.airlocks if a.interlocked}
    expected = {a.id for a in site.airlocks if a.interlock is InterlockKind.INTERLOCKED}
    assert interlocked == expected and "GOWN-C" not in interlocked
    rooms = {r.id: r for r in spec.rooms}
    # Counters sit at 20 % of the grade's action limits from the site file.
    assert rooms["B-01"].particles_0_5_at_rest == pytest.approx(704.0)
    assert rooms["B-01"].particles_0_5_in_operation == pytest.approx(70_400.0)
    assert rooms["C-COR"].volume_m3 > rooms["PAL-01"].volume_m3
    # The corridor is under pressure control, held more stiffly than the rooms.
    assert corridors(site) == {"C-COR"}
    assert rooms["C-COR"].hvac_tau_s == CORRIDOR_HVAC_TAU_S < spec.hvac_tau_s
    assert all(r.hvac_tau_s is None for r in spec.rooms if r.id != "C-COR")


def test_one_airlock_venting_into_the_corridor_leaves_the_others_clear(site: Site) -> None:
    """PAL-03 with both doors open (the alarm acceptance scenario) vents suite B-03
    into the corridor; every other differential to the corridor stays clear of its
    alert limits by more than its deadband, so not even an on-delay starts."""
    spec = plant_spec_from_site(site)
    plant = Plant(spec, seed=0)
    others = [
        p
        for p in site.points
        if p.hal.quantity is Quantity.DIFFERENTIAL_PRESSURE
        and p.hal.reference == "C-COR"
        and p.hal.target != "PAL-03"
    ]
    assert len(others) == 9  # seven airlocks, two C rooms
    plant.step(30.0)
    assert plant.open_door("PAL-03-OUT")
    plant.step(4.0)
    assert plant.open_door("PAL-03-IN", forced=True)
    corridor: list[float] = []
    for tick in range(400):  # 8 s both open, 4 s the outer door alone, 28 s after
        if tick == 80:
            plant.close_door("PAL-03-IN")
        if tick == 120:
            plant.close_door("PAL-03-OUT")
        plant.step(0.1)
        corridor.append(plant.pressure("C-COR"))
        for point in others:
            value = plant.differential(point.hal.target, "C-COR")
            low, high = point.limits.alert_low, point.limits.alert_high
            assert low is not None and high is not None
            margin = point.alarm.deadband
            assert low + margin < value < high - margin, (point.id, tick, value)
    # The corridor's pressure control holds it within a Pa of its setpoint.
    assert max(statistics.fmean(corridor[i : i + 20]) for i in range(0, 400, 20)) < 15.0 + 1.0


async def test_float32_dp_honours_each_plcs_word_order(sim: Simulator, site: Site) -> None:
    for plc_id, point_id, order in (
        ("ENV-1", "B-01.dp", WordOrder.BIG),
        ("ENV-2", "B-05.dp", WordOrder.LITTLE),
    ):
        plc = site.plc_by_id[plc_id]
        assert plc.word_order is order
        point = site.point_by_id[point_id].hal
        async with client(sim, plc_id) as modbus:
            rr = await modbus.read_input_registers(point.address, count=2, device_id=1)
        assert not rr.isError()
        high, low = struct.unpack(">HH", struct.pack(">f", float(sim.expected_value(point_id))))
        assert rr.registers == ([high, low] if order is WordOrder.BIG else [low, high])
        value = decode_registers(point, rr.registers, plc.word_order, plc.byte_order)
        assert value == pytest.approx(15.0, abs=1.5)  # +45 Pa suite over its +30 Pa airlock
        assert value == sim.expected_value(point_id)


async def test_every_point_reads_what_the_simulator_serves(sim: Simulator, site: Site) -> None:
    await sim.advance(3.0)
    for plc in site.plcs:
        async with client(sim, plc.id) as modbus:
            for point in plc.polled_points:
                assert await read_point(modbus, plc, point) == sim.expected_value(point.id), point


async def test_the_pollers_read_plan_is_served_in_full(sim: Simulator, site: Site) -> None:
    """Merged reads bridge the gaps between points, as on a real PLC."""
    await sim.advance(2.0)
    for plc in site.plcs:
        async with client(sim, plc.id) as modbus:
            for request in plan_plc(plc):
                values: dict[str, Value | DecodeError]
                if request.table.is_bit:
                    rr = await modbus.read_discrete_inputs(
                        request.address, count=request.count, device_id=plc.device_id
                    )
                    assert not rr.isError(), (plc.id, request)
                    bits = [bool(b) for b in rr.bits[: request.count]]
                    values = dict(decode_bit_block(request.points, request.address, bits))
                else:
                    read = (
                        modbus.read_holding_registers
                        if request.table is Table.HOLDING
                        else modbus.read_input_registers
                    )
                    rr = await read(request.address, count=request.count, device_id=1)
                    assert not rr.isError(), (plc.id, request)
                    values = decode_block(
                        request.points,
                        request.address,
                        rr.registers,
                        plc.word_order,
                        plc.byte_order,
                    )
                for point in request.points:
                    assert values[point.id] == sim.expected_value(point.id), point.id


async def test_tables_without_points_answer_illegal_address(sim: Simulator) -> None:
    async with client(sim, "ENV-1") as modbus:
        rr = await modbus.read_coils(0, count=1, device_id=1)
        assert rr.isError() and rr.exception_code == 2
        rr = await modbus.read_input_registers(200, count=2, device_id=1)  # past the last point
        assert rr.isError() and rr.exception_code == 2


async def test_other_unit_ids_get_a_gateway_exception(sim: Simulator) -> None:
    async with client(sim, "ENV-1") as modbus:
        rr = await modbus.read_holding_registers(0, count=1, device_id=7)
        assert rr.isError() and rr.exception_code == 11


# ---------------------------------------------------------------- doors and faults


async def test_door_bits_use_bit_addressing(sim: Simulator) -> None:
    async with client(sim, "DOOR-1") as modbus:
        # PAL-03: outer closed, outer locked, inner closed, inner locked
        rr = await modbus.read_discrete_inputs(8, count=4, device_id=1)
        assert rr.bits[:4] == [True, False, True, False]
        assert sim.open_door("PAL-03-OUT")
        rr = await modbus.read_discrete_inputs(8, count=4, device_id=1)
        assert rr.bits[:4] == [False, False, True, True]  # outer open, inner held locked
        rr = await modbus.read_discrete_inputs(0, count=42, device_id=1)
        assert rr.bits[8:12] == [False, False, True, True]
        assert rr.bits[0:8] == [True, False] * 4  # other airlocks untouched


async def test_fault_code_and_reset_coil(sim: Simulator) -> None:
    async with client(sim, "DOOR-1") as modbus:

        async def fault() -> int:
            rr = await modbus.read_holding_registers(12, count=1, device_id=1)  # PAL-03.fault
            assert not rr.isError()
            return int(rr.registers[0])

        assert await fault() == 0
        assert sim.open_door("PAL-03-OUT")
        assert sim.open_door("PAL-03-IN") is False  # the interlock refuses
        assert sim.open_door("PAL-03-IN", forced=True)
        assert await fault() == FaultCode.FORCED_OPEN

        rr = await modbus.write_coil(2, True, device_id=1)  # PAL-03.reset, cause still present
        assert not rr.isError()
        assert await fault() == FaultCode.FORCED_OPEN

        sim.close_door("PAL-03-IN")
        sim.close_door("PAL-03-OUT")
        await modbus.write_coil(2, True, device_id=1)
        assert await fault() == 0
        rr = await modbus.read_coils(0, count=9, device_id=1)
        assert rr.bits[:9] == [False] * 9  # reset coils read back False

        sim.latch_fault("GOWN-C", 5)
        rr = await modbus.read_holding_registers(10, count=9, device_id=1)
        assert rr.registers == [0, 0, 0, 0, 0, 0, 0, 0, 5]


async def test_measurements_and_fault_codes_are_read_only(sim: Simulator) -> None:
    async with client(sim, "DOOR-1") as modbus:
        rr = await modbus.write_register(12, 0, device_id=1)
        assert rr.isError() and rr.exception_code == 2


# ---------------------------------------------------------------- fault injection


async def test_plc_down_drops_connections_and_plc_up_restores(sim: Simulator) -> None:
    host, port = sim.endpoints["ENV-3"]
    async with client(sim, "ENV-3", answer_within_s=0.3) as modbus:
        assert not (await modbus.read_holding_registers(0, count=1, device_id=1)).isError()
        await sim.plc_down("ENV-3")
        assert not sim.is_up("ENV-3")
        with pytest.raises(ModbusException):
            await modbus.read_holding_registers(0, count=1, device_id=1)
    assert await refused(host, port)

    async with client(sim, "ENV-1") as other:  # the other PLCs stay up
        assert not (await other.read_holding_registers(0, count=1, device_id=1)).isError()

    await sim.plc_up("ENV-3")
    assert sim.endpoints["ENV-3"] == (host, port)
    async with client(sim, "ENV-3") as modbus:
        assert not (await modbus.read_holding_registers(0, count=1, device_id=1)).isError()


async def test_exception_responses_by_plc_table_and_address(sim: Simulator) -> None:
    async with client(sim, "DOOR-1") as modbus:
        sim.exception_response("DOOR-1", 4)
        rr = await modbus.read_holding_registers(0, count=1, device_id=1)
        assert rr.isError() and rr.exception_code == 4
        sim.exception_response("DOOR-1", None)
        assert not (await modbus.read_holding_registers(0, count=1, device_id=1)).isError()

        sim.exception_response("DOOR-1", 6, table=Table.DISCRETE_INPUT, address=9)
        rr = await modbus.read_discrete_inputs(0, count=8, device_id=1)  # bits 0..7: not 9
        assert not rr.isError()
        rr = await modbus.read_discrete_inputs(0, count=10, device_id=1)
        assert rr.isError() and rr.exception_code == 6
        assert not (await modbus.read_holding_registers(0, count=1, device_id=1)).isError()
        sim.exception_response("DOOR-1", None, table="discrete_input", address=9)
        assert not (await modbus.read_discrete_inputs(0, count=10, device_id=1)).isError()

    with pytest.raises(SimulatorError, match="not a Modbus exception code"):
        sim.exception_response("DOOR-1", 99)
    with pytest.raises(SimulatorError, match="unknown PLC"):
        sim.exception_response("PLC-9", 4)


async def test_slow_responses_delay_the_answer(sim: Simulator) -> None:
    sim.slow_responses("ENV-1", 0.3)
    async with client(sim, "ENV-1") as modbus:
        started = time.monotonic()
        rr = await modbus.read_holding_registers(0, count=1, device_id=1)
        assert not rr.isError()
        assert time.monotonic() - started >= 0.28
    async with client(sim, "ENV-1", answer_within_s=0.1) as impatient:
        with pytest.raises(ModbusException):
            await impatient.read_holding_registers(0, count=1, device_id=1)
    sim.slow_responses("ENV-1", 0.0)


async def test_frozen_heartbeat_stops_while_the_plc_answers(sim: Simulator) -> None:
    async with client(sim, "ENV-2") as modbus:

        async def heartbeat() -> int:
            rr = await modbus.read_holding_registers(0, count=1, device_id=1)
            assert not rr.isError()
            return int(rr.registers[0])

        before = await heartbeat()
        await sim.advance(3.0)
        assert await heartbeat() == before + 3
        sim.freeze_heartbeat("ENV-2")
        await sim.advance(3.0)
        assert await heartbeat() == before + 3
        sim.freeze_heartbeat("ENV-2", frozen=False)
        await sim.advance(1.0)
        assert await heartbeat() == before + 4


async def test_heartbeat_runs_in_real_time_at_speed(sim: Simulator) -> None:
    sim.speed = 20.0
    async with client(sim, "ENV-1") as modbus:

        async def counted_a_few() -> bool:
            rr = await modbus.read_holding_registers(0, count=1, device_id=1)
            return not rr.isError() and rr.registers[0] >= 5

        await wait_until(counted_a_few)


async def test_sensor_value_forces_raw_values(sim: Simulator, site: Site) -> None:
    plc = site.plc_by_id["ENV-1"]
    point = site.point_by_id["B-01.dp"].hal
    async with client(sim, "ENV-1") as modbus:
        sim.sensor_value("B-01.dp", float("nan"))
        rr = await modbus.read_input_registers(point.address, count=2, device_id=1)
        assert rr.registers == [0x7FC0, 0x0000]  # quiet NaN, high word first
        with pytest.raises(DecodeError, match="NaN"):
            decode_registers(point, rr.registers, plc.word_order, plc.byte_order)
        assert math.isnan(float(sim.expected_value("B-01.dp")))

        sim.sensor_value("B-01.dp", float("inf"))
        rr = await modbus.read_input_registers(point.address, count=2, device_id=1)
        assert rr.registers == [0x7F80, 0x0000]

        sim.sensor_value("B-01.dp", 9999.0)
        assert await read_point(modbus, plc, point) == 9999.0

        sim.sensor_value("B-01.dp", None)
        assert await read_point(modbus, plc, point) == pytest.approx(15.0, abs=1.5)

    sim.sensor_value("PAL-01-OUT.closed", False)
    assert sim.expected_value("PAL-01-OUT.closed") is False
    with pytest.raises(SimulatorError, match="cannot serve"):
        sim.sensor_value("ENV-1.heartbeat", 70_000)
    with pytest.raises(SimulatorError, match="unknown point"):
        sim.sensor_value("NOPE", 1.0)


async def test_particles_follow_activity_over_modbus(sim: Simulator, site: Site) -> None:
    plc = site.plc_by_id["ENV-2"]
    point = site.point_by_id["B-05.p05"].hal
    async with client(sim, "ENV-2") as modbus:
        at_rest = await read_point(modbus, plc, point)
        sim.set_activity("B-05", 1.0)
        await sim.advance(15 * 60.0)
        busy = await read_point(modbus, plc, point)
    assert isinstance(at_rest, float) and isinstance(busy, float)
    assert at_rest < 2_000.0
    assert busy > 20_000.0


# ---------------------------------------------------------------- scenarios, lifecycle


async def test_demo_scenario_plays_on_simulated_time(site: Site) -> None:
    scenario = load_scenario(DEMO, targets=scenario_targets(site))
    simulator = Simulator(
        plant_spec_from_site(site),
        site.plcs,
        speed=0.0,
        traffic_per_hour=0.0,
        free_ports=True,
        scenario=scenario,
    )
    async with simulator:
        await simulator.advance(37.0)
        assert simulator.plant.fault_code("PAL-03") is FaultCode.FORCED_OPEN
        assert simulator.plant.activity("B-05") == 1.0
        await simulator.advance(30.0)  # t = 67: ENV-3 is down
        assert not simulator.is_up("ENV-3")
        assert simulator.plant.door_closed("PAL-03-IN")
        await simulator.advance(60.0)  # t = 127: back up
        assert simulator.is_up("ENV-3")
        async with client(simulator, "ENV-3") as modbus:
            rr = await modbus.read_holding_registers(0, count=1, device_id=1)
            assert not rr.isError() and rr.registers[0] == 127
        await simulator.advance(200.0)
        assert simulator.scenario_done
        assert simulator.plant.activity("B-05") == 0.0


def test_scenario_naming_unknown_ids_is_refused(site: Site) -> None:
    scenario = parse_scenario("[[step]]\nat = 1\naction = 'plc_down'\nplc = 'ENV-9'\n")
    with pytest.raises(ScenarioError, match=r"step\[0\]\.plc: unknown PLC 'ENV-9'"):
        Simulator(plant_spec_from_site(site), site.plcs, scenario=scenario)


async def test_a_busy_port_is_a_clear_error(sim: Simulator, site: Site) -> None:
    host, port = sim.endpoints["ENV-1"]
    plcs = tuple(replace(p, host=host, port=port) if p.id == "ENV-1" else p for p in site.plcs)
    clash = Simulator(plant_spec_from_site(site), plcs[:1])
    with pytest.raises(SimulatorError, match=f"ENV-1 cannot listen on {host}:{port}"):
        await clash.start()
    assert not clash.running


async def test_stop_closes_everything_and_clients_see_it(site: Site) -> None:
    simulator = build_simulator(site, free_ports=True, speed=50.0)
    await simulator.start()
    host, port = simulator.endpoints["DOOR-1"]
    async with client(simulator, "DOOR-1", answer_within_s=0.3) as modbus:
        simulator.slow_responses("DOOR-1", 5.0)
        pending = asyncio.ensure_future(modbus.read_holding_registers(0, count=1, device_id=1))
        await asyncio.sleep(0.05)
        await simulator.stop()
        with pytest.raises(ModbusException):
            await pending
    assert not simulator.running
    assert await refused(host, port)
