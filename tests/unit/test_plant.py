"""The simulator's physics, driven directly: no sockets, no clock."""

from __future__ import annotations

import statistics
from dataclasses import replace

import pytest

from hal.sim.plant import (
    HELD_OPEN_LIMIT_S,
    AirlockSpec,
    DoorSpec,
    FaultCode,
    Plant,
    PlantError,
    PlantSpec,
    RoomSpec,
)

# Grade B counters as the default site sets them: 20 % of the action limits.
B_REST_05, B_REST_5, B_OP_05, B_OP_5 = 704.0, 5.8, 70_400.0, 586.0
B_AT_REST_ALERT_05, B_AT_REST_ACTION_05 = 2_000.0, 3_520.0


def _spec() -> PlantSpec:
    """One suite behind an interlocked airlock, a corridor, a warning airlock to outside."""
    return PlantSpec(
        rooms=(
            RoomSpec("B-01", "B", 45.0, B_REST_05, B_REST_5, B_OP_05, B_OP_5, volume_m3=200.0),
            RoomSpec("PAL-01", "B", 30.0, B_REST_05, B_REST_5, B_OP_05, B_OP_5, volume_m3=20.0),
            RoomSpec("C-COR", "C", 15.0, 70_000.0, 580.0, 700_000.0, 5_800.0, volume_m3=600.0),
            RoomSpec("GOWN-C", "D", 10.0, 700_000.0, 5_800.0, 1.4e6, 11_600.0, volume_m3=40.0),
        ),
        doors=(
            DoorSpec("PAL-01-OUT", ("C-COR", "PAL-01"), "PAL-01"),
            DoorSpec("PAL-01-IN", ("PAL-01", "B-01"), "PAL-01"),
            DoorSpec("GOWN-C-OUT", ("AMBIENT", "GOWN-C"), "GOWN-C"),
            DoorSpec("GOWN-C-IN", ("GOWN-C", "C-COR"), "GOWN-C"),
        ),
        airlocks=(
            AirlockSpec("PAL-01", "PAL-01-OUT", "PAL-01-IN", interlocked=True),
            AirlockSpec("GOWN-C", "GOWN-C-OUT", "GOWN-C-IN", interlocked=False),
        ),
        controllers=("ENV-1", "DOOR-1"),
    )


@pytest.fixture
def plant() -> Plant:
    return Plant(_spec(), seed=1)


# ---------------------------------------------------------------- pressure


def test_pressures_hold_their_setpoints(plant: Plant) -> None:
    plant.step(60.0)
    assert plant.differential("B-01", "PAL-01") == pytest.approx(15.0, abs=1.5)
    assert plant.differential("PAL-01", "C-COR") == pytest.approx(15.0, abs=1.5)
    assert plant.differential("C-COR") == pytest.approx(15.0, abs=1.5)  # against ambient
    assert plant.pressure("AMBIENT") == 0.0


def test_open_door_collapses_the_differential_and_it_recovers(plant: Plant) -> None:
    plant.step(10.0)
    assert plant.open_door("PAL-01-IN")
    plant.step(5.0)
    assert abs(plant.differential("B-01", "PAL-01")) < 3.0
    # The small airlock follows the big suite: its own differential overshoots.
    assert plant.differential("PAL-01", "C-COR") > 22.0

    plant.close_door("PAL-01-IN")
    plant.step(20.0)
    assert plant.differential("B-01", "PAL-01") == pytest.approx(15.0, abs=1.5)
    assert plant.differential("PAL-01", "C-COR") == pytest.approx(15.0, abs=1.5)


def test_door_to_ambient_pulls_the_room_down(plant: Plant) -> None:
    assert plant.open_door("GOWN-C-OUT")
    plant.step(5.0)
    assert abs(plant.differential("GOWN-C")) < 3.0


def _corridor_rise(corridor_hvac_tau_s: float | None) -> float:
    """Mean corridor pressure over setpoint while PAL-01 has both doors open."""
    spec = _spec()
    rooms = tuple(
        replace(r, hvac_tau_s=corridor_hvac_tau_s) if r.id == "C-COR" else r for r in spec.rooms
    )
    plant = Plant(replace(spec, rooms=rooms), seed=1)
    plant.step(30.0)
    assert plant.open_door("PAL-01-OUT")
    assert plant.open_door("PAL-01-IN", forced=True)
    plant.step(5.0)
    corridor = []
    for _ in range(30):
        plant.step(0.1)
        corridor.append(plant.pressure("C-COR"))
    return statistics.fmean(corridor) - 15.0


def test_a_stiffly_held_corridor_barely_moves_when_a_suite_vents_into_it() -> None:
    # With the rooms' own time constant the suite lifts the corridor by some 3 Pa;
    # under the corridor's pressure control (a short time constant) by under 1.5.
    assert _corridor_rise(None) > 2.5
    assert _corridor_rise(0.5) < 1.5


def test_a_room_may_have_its_own_hvac_time_constant_if_positive() -> None:
    def recovered(hvac_tau_s: float | None) -> float:
        """Pa still missing 2 s after a door to the ambient closed."""
        room = RoomSpec("R", "C", 10.0, 1.0, 1.0, 2.0, 2.0, hvac_tau_s=hvac_tau_s)
        spec = PlantSpec(rooms=(room,), doors=(DoorSpec("D", ("AMBIENT", "R")),))
        plant = Plant(spec, seed=0)
        assert plant.open_door("D")
        plant.step(5.0)
        plant.close_door("D")
        plant.step(2.0)
        return 10.0 - plant.pressure("R")

    assert recovered(None) > 3.0  # the plant's 3 s: about half the way back
    assert abs(recovered(0.5)) < 1.0  # its own 0.5 s: back, give or take the noise
    room = RoomSpec("R", "C", 10.0, 1.0, 1.0, 2.0, 2.0)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(PlantError, match="room 'R': hvac_tau_s"):
            PlantSpec(rooms=(replace(room, hvac_tau_s=bad),))


# ---------------------------------------------------------------- particles


def test_particles_rise_with_activity_and_recover_in_15_to_20_minutes(plant: Plant) -> None:
    plant.step(60.0)
    assert plant.particles_0_5("B-01") < B_AT_REST_ALERT_05

    plant.set_activity("B-01", 1.0)
    plant.step(30 * 60.0)
    assert plant.particles_0_5("B-01") > 0.9 * B_OP_05
    assert plant.particles_5("B-01") > 0.9 * B_OP_5
    assert plant.particles_0_5("PAL-01") < B_AT_REST_ALERT_05  # the neighbour stays clean

    plant.set_activity("B-01", 0.0)
    plant.step(10 * 60.0)
    assert plant.particles_0_5("B-01") > B_AT_REST_ACTION_05  # not yet at rest
    plant.step(10 * 60.0)
    assert plant.particles_0_5("B-01") < B_AT_REST_ALERT_05  # at rest after 20 min
    assert plant.particles_5("B-01") < 20.0


def test_people_present_raise_particles(plant: Plant) -> None:
    plant.set_occupancy("PAL-01", 2)
    plant.step(20 * 60.0)
    assert plant.particles_0_5("PAL-01") > 20 * B_REST_05
    with pytest.raises(PlantError):
        plant.set_occupancy("PAL-01", -1)


def test_temperature_and_humidity_drift_inside_their_bands(plant: Plant) -> None:
    temperatures, humidities = [], []
    for _ in range(4 * 60):
        plant.step(30.0)
        temperatures.append(plant.temperature("B-01"))
        humidities.append(plant.humidity("B-01"))
    assert min(temperatures) >= 20.0 and max(temperatures) <= 22.5
    assert min(humidities) >= 40.0 and max(humidities) <= 50.0
    assert statistics.pstdev(temperatures) > 0.02  # it does drift
    assert statistics.pstdev(humidities) > 0.1


# ---------------------------------------------------------------- doors and interlock


def test_interlock_refuses_the_second_door(plant: Plant) -> None:
    assert plant.open_door("PAL-01-OUT")
    assert plant.door_locked("PAL-01-IN")
    assert not plant.door_locked("PAL-01-OUT")  # an open door is not locked
    assert plant.open_door("PAL-01-IN") is False
    assert plant.door_closed("PAL-01-IN")
    assert plant.fault_code("PAL-01") is FaultCode.NONE

    plant.close_door("PAL-01-OUT")
    assert not plant.door_locked("PAL-01-IN")
    assert plant.open_door("PAL-01-IN")


def test_warning_airlock_lets_both_doors_open_but_latches_fault_1(plant: Plant) -> None:
    assert plant.open_door("GOWN-C-OUT")
    assert not plant.door_locked("GOWN-C-IN")
    assert plant.open_door("GOWN-C-IN")
    assert plant.fault_code("GOWN-C") is FaultCode.BOTH_DOORS_OPEN


def test_forced_open_latches_fault_2_until_reset(plant: Plant) -> None:
    assert plant.open_door("PAL-01-OUT")
    assert plant.open_door("PAL-01-IN", forced=True)
    assert plant.door_open("PAL-01-IN")
    assert plant.fault_code("PAL-01") is FaultCode.FORCED_OPEN

    plant.close_door("PAL-01-IN")
    plant.close_door("PAL-01-OUT")
    plant.step(5.0)
    assert plant.fault_code("PAL-01") is FaultCode.FORCED_OPEN  # latched
    assert plant.request_reset("PAL-01")
    assert plant.fault_code("PAL-01") is FaultCode.NONE


def test_reset_is_refused_while_the_cause_persists(plant: Plant) -> None:
    plant.open_door("PAL-01-OUT")
    plant.open_door("PAL-01-IN", forced=True)
    assert plant.active_causes("PAL-01") == {FaultCode.FORCED_OPEN, FaultCode.BOTH_DOORS_OPEN}
    assert plant.request_reset("PAL-01") is False
    assert plant.fault_code("PAL-01") is FaultCode.FORCED_OPEN

    plant.close_door("PAL-01-IN")
    assert plant.active_causes("PAL-01") == set()
    assert plant.request_reset("PAL-01") is True
    assert plant.fault_code("PAL-01") is FaultCode.NONE


def test_door_held_open_too_long_latches_fault_3(plant: Plant) -> None:
    plant.open_door("PAL-01-OUT")
    plant.step(HELD_OPEN_LIMIT_S - 1.0)
    assert plant.fault_code("PAL-01") is FaultCode.NONE
    plant.step(2.0)
    assert plant.fault_code("PAL-01") is FaultCode.HELD_OPEN
    assert plant.request_reset("PAL-01") is False
    plant.close_door("PAL-01-OUT")
    assert plant.request_reset("PAL-01") is True


def test_emergency_release_unlocks_and_latches_fault_4(plant: Plant) -> None:
    plant.open_door("PAL-01-OUT")
    plant.set_emergency_release("PAL-01", True)
    assert not plant.door_locked("PAL-01-IN")
    assert plant.open_door("PAL-01-IN")  # not refused, not forced
    assert plant.fault_code("PAL-01") is FaultCode.EMERGENCY_RELEASE
    plant.close_door("PAL-01-IN")
    plant.close_door("PAL-01-OUT")
    assert plant.request_reset("PAL-01") is False  # release still active
    plant.set_emergency_release("PAL-01", False)
    assert plant.request_reset("PAL-01") is True


def test_injected_faults_latch_and_reset(plant: Plant) -> None:
    plant.latch_fault("PAL-01", 5)
    assert plant.fault_code("PAL-01") is FaultCode.CONTROLLER_FAULT
    assert plant.request_reset("PAL-01")
    plant.set_controller_fault("PAL-01", True)
    assert plant.fault_code("PAL-01") is FaultCode.CONTROLLER_FAULT
    assert plant.request_reset("PAL-01") is False
    with pytest.raises(PlantError, match=r"1\.\.5"):
        plant.latch_fault("PAL-01", 9)
    with pytest.raises(PlantError, match="request_reset"):
        plant.latch_fault("PAL-01", 0)


# ---------------------------------------------------------------- heartbeat


def test_heartbeat_increments_each_second_and_freezes(plant: Plant) -> None:
    plant.step(0.4)
    assert plant.heartbeat("ENV-1") == 0
    plant.step(0.6)
    assert plant.heartbeat("ENV-1") == 1
    for _ in range(90):
        plant.step(0.1)
    assert plant.heartbeat("ENV-1") == 10
    plant.freeze_heartbeat("ENV-1")
    plant.step(5.0)
    assert plant.heartbeat("ENV-1") == 10
    assert plant.heartbeat("DOOR-1") == 15
    plant.freeze_heartbeat("ENV-1", frozen=False)
    plant.step(1.0)
    assert plant.heartbeat("ENV-1") == 11


def test_heartbeat_wraps_at_65536() -> None:
    plant = Plant(PlantSpec(rooms=(), controllers=("ENV-1",)), seed=0)
    plant.step(65_535.0)
    assert plant.heartbeat("ENV-1") == 65_535
    plant.step(2.0)
    assert plant.heartbeat("ENV-1") == 1


# ---------------------------------------------------------------- traffic, determinism


def _trace(plant: Plant, seconds: float, dt: float) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for _ in range(int(seconds / dt)):
        plant.step(dt)
        rows.append(
            (
                round(plant.differential("B-01", "PAL-01"), 9),
                round(plant.particles_0_5("B-01"), 6),
                round(plant.temperature("C-COR"), 9),
                tuple(plant.door_open(d) for d in plant.door_ids),
            )
        )
    return rows


def test_same_seed_same_plant_other_seed_other_plant() -> None:
    first = _trace(Plant(_spec(), seed=7, traffic_per_hour=30.0), 600.0, 0.5)
    again = _trace(Plant(_spec(), seed=7, traffic_per_hour=30.0), 600.0, 0.5)
    other = _trace(Plant(_spec(), seed=8, traffic_per_hour=30.0), 600.0, 0.5)
    assert first == again
    assert first != other


def test_people_walk_through_airlocks_one_door_at_a_time() -> None:
    plant = Plant(_spec(), seed=3, traffic_per_hour=30.0)
    opened: set[str] = set()
    longest_open = 0.0
    for _ in range(2 * 3600):
        plant.step(1.0)
        for door_id in plant.door_ids:
            if plant.door_open(door_id):
                opened.add(door_id)
                longest_open = max(longest_open, plant.door_open_for(door_id))
        assert not (plant.door_open("PAL-01-OUT") and plant.door_open("PAL-01-IN"))
        assert not (plant.door_open("GOWN-C-OUT") and plant.door_open("GOWN-C-IN"))
    assert opened == set(plant.door_ids)
    assert 4.0 <= longest_open <= 16.0
    assert plant.fault_code("PAL-01") is FaultCode.NONE
    assert plant.fault_code("GOWN-C") is FaultCode.NONE


def test_a_command_takes_the_doors_from_a_walking_person() -> None:
    plant = Plant(_spec(), seed=3, traffic_per_hour=3600.0)
    while not plant.door_open("PAL-01-OUT") and not plant.door_open("PAL-01-IN"):
        plant.step(0.5)
    assert plant.open_door("PAL-01-OUT")  # the person steps aside
    assert plant.door_open("PAL-01-OUT")
    assert plant.door_closed("PAL-01-IN")


# ---------------------------------------------------------------- errors


def test_unknown_ids_and_bad_values_are_plant_errors(plant: Plant) -> None:
    with pytest.raises(PlantError, match="unknown door 'NOPE'"):
        plant.open_door("NOPE")
    with pytest.raises(PlantError, match="unknown room"):
        plant.set_activity("NOPE", 0.5)
    with pytest.raises(PlantError, match="between 0 and 1"):
        plant.set_activity("B-01", 1.5)
    with pytest.raises(PlantError, match="unknown airlock"):
        plant.request_reset("B-01")
    with pytest.raises(PlantError, match="unknown controller"):
        plant.heartbeat("PLC-9")
    with pytest.raises(PlantError, match="dt"):
        plant.step(-1.0)


def test_spec_rejects_doors_to_nowhere() -> None:
    room = RoomSpec("R", "C", 10.0, 1.0, 1.0, 2.0, 2.0)
    with pytest.raises(PlantError, match="unknown room 'X'"):
        PlantSpec(rooms=(room,), doors=(DoorSpec("D", ("R", "X")),))
    with pytest.raises(PlantError, match="unknown door"):
        PlantSpec(rooms=(room,), airlocks=(AirlockSpec("R", "D1", "D2"),))
    with pytest.raises(PlantError, match="duplicate room"):
        PlantSpec(rooms=(room, room))
