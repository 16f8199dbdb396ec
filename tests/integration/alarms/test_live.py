"""Each kind of alarm, raised by the engine from the simulator over real Modbus TCP."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from necstgen_desk.alarms.model import AlarmKind, AlarmState, Occupancy, Priority
from necstgen_desk.records.lifecycle import RoomStatus
from tests.integration.alarms.conftest import Rig, fast_site, running
from tests.waiting import wait_until

S = AlarmState


async def test_a_quiet_plant_raises_nothing(rig: Rig) -> None:
    await asyncio.sleep(1.0)  # a few scans of the whole site
    assert rig.alarms.active_alarms() == []
    assert rig.alarms.counts().listed == 0


async def test_a_door_held_open(rig: Rig) -> None:
    rig.sim.open_door("C-01-D")
    took = await rig.until_state("C-01-D/door_held_open", S.UNACKNOWLEDGED, 5)
    assert took >= 1.0  # the site's held-open time (1 s here)
    assert rig.alarm("C-01-D/door_held_open").room == "C-01"
    rig.sim.close_door("C-01-D")
    await rig.until_state("C-01-D/door_held_open", S.RETURNED_UNACKNOWLEDGED, 5)


async def test_both_doors_of_an_airlock_open(rig: Rig) -> None:
    assert rig.sim.open_door("PAL-02-OUT")
    assert not rig.sim.open_door("PAL-02-IN")  # the interlock refuses the second door
    assert rig.sim.open_door("PAL-02-IN", forced=True)  # someone forces it
    await rig.until_state("PAL-02/both_doors_open", S.UNACKNOWLEDGED, 5)
    assert rig.alarm("PAL-02/both_doors_open").priority is Priority.HIGH
    await rig.until_state("PAL-02/fault/forced_open", S.UNACKNOWLEDGED, 5)
    status = rig.alarms.interlock("PAL-02")
    assert status.fault_text == "door forced open while locked"
    assert status.cause_present is not None and "both doors are open" in status.cause_present
    # The warning-only airlock into C/D lets both open; it warns at medium priority.
    assert rig.sim.open_door("GOWN-C-OUT") and rig.sim.open_door("GOWN-C-IN")
    await rig.until_state("GOWN-C/both_doors_open", S.UNACKNOWLEDGED, 5)
    assert rig.alarm("GOWN-C/both_doors_open").priority is Priority.MEDIUM
    await rig.until_state("GOWN-C/fault/both_doors_open", S.UNACKNOWLEDGED, 5)


async def test_a_plc_taken_down(rig: Rig) -> None:
    await rig.sim.plc_down("ENV-3")
    await rig.until_state("ENV-3/link_lost", S.UNACKNOWLEDGED, 5)
    alarm = rig.alarm("ENV-3/link_lost")
    assert alarm.priority is Priority.HIGH and "ENV-3" in alarm.message
    # Its values are COMM_FAIL: they neither raise nor clear limit alarms.
    assert rig.state("C-01.dp/action") is S.NORMAL
    assert rig.state("C-01.dp/point_bad") is S.NORMAL
    await rig.sim.plc_up("ENV-3")
    await rig.until_state("ENV-3/link_lost", S.RETURNED_UNACKNOWLEDGED, 5)


async def test_a_frozen_heartbeat() -> None:
    async with running(fast_site(heartbeat_timeout_s=1.6)) as rig:
        await rig.settled()
        rig.sim.freeze_heartbeat("ENV-1")
        await rig.until_state("ENV-1/heartbeat_frozen", S.UNACKNOWLEDGED, 6)
        assert rig.alarm("ENV-1/heartbeat_frozen").kind is AlarmKind.HEARTBEAT_FROZEN
        assert rig.state("ENV-1/link_lost") is S.NORMAL  # the socket still answers
        assert rig.state("ENV-2/heartbeat_frozen") is S.NORMAL
        rig.sim.freeze_heartbeat("ENV-1", frozen=False)
        await wait_until(lambda: not rig.alarm("ENV-1/heartbeat_frozen").active, 5, "beating")


async def test_particles_above_the_in_operation_limit(rig: Rig) -> None:
    now = datetime.now(UTC)
    rig.alarms.set_room_status("B-03", RoomStatus.IN_OPERATION, now)
    assert rig.alarms.occupancy("B-03") is Occupancy.IN_OPERATION
    rig.sim.sensor_value("B-03.p05", 50_000.0)  # fine while working
    await asyncio.sleep(0.8)
    assert rig.state("B-03.p05/action") is S.NORMAL
    rig.sim.sensor_value("B-03.p05", 400_000.0)  # above 352,000 /m³
    await rig.until_state("B-03.p05/action", S.UNACKNOWLEDGED, 5)
    alarm = rig.alarm("B-03.p05/action")
    assert alarm.priority is Priority.HIGH and "400,000" in alarm.message
    assert rig.state("B-03.p05/alert") is S.UNACKNOWLEDGED


async def test_clean_up_not_met_after_operation(rig: Rig) -> None:
    rig.alarms.set_room_status("C-02", RoomStatus.IN_OPERATION, datetime.now(UTC))
    rig.sim.sensor_value("C-02.p05", 1_000_000.0)  # fine in operation for Grade C
    await asyncio.sleep(0.5)
    rig.alarms.set_room_status("C-02", RoomStatus.TO_BE_CLEANED, datetime.now(UTC))
    assert "C-02" in rig.alarms.cleanup_remaining()
    await rig.until_state("C-02/cleanup", S.UNACKNOWLEDGED, 5)  # 1.2 s countdown here
    assert "at-rest action limit 352,000" in rig.alarm("C-02/cleanup").message
    rig.sim.sensor_value("C-02.p05", None)  # the counter falls back to the plant's value
    await rig.until_state("C-02/cleanup", S.RETURNED_UNACKNOWLEDGED, 5)
    assert rig.alarms.occupancy("C-02") is Occupancy.AT_REST


async def test_a_pressure_dip_during_a_door_opening_does_not_alarm_one_after_does(
    rig: Rig,
) -> None:
    dp = "B-01.dp"  # held off by its doors for 2.5 s after they close; on-delay 0.5 s
    await wait_until(lambda: _value(rig, dp) > 12, 5, "B-01.dp in range")
    rig.sim.open_door("PAL-01-IN")
    await wait_until(lambda: _value(rig, dp) < 5, 5, "the differential collapses")
    await asyncio.sleep(1.2)  # open well past the on-delay
    rig.sim.close_door("PAL-01-IN")
    closed = time.monotonic()
    below = await wait_until(lambda: _value(rig, dp) > 12, 5, "the differential recovers")
    assert below > 0.5  # it recovers more slowly than the on-delay: only the hold-off helps
    await asyncio.sleep(max(0.0, closed + 2.5 + 0.7 - time.monotonic()))
    assert rig.state(f"{dp}/action") is S.NORMAL
    assert rig.state(f"{dp}/alert") is S.NORMAL
    assert not [c for c in rig.changes if c.alarm_id.startswith(dp)]
    # A dip with the doors closed, past the hold-off, must alarm.
    rig.sim.sensor_value(dp, 3.0)
    took = await rig.until_state(f"{dp}/action", S.UNACKNOWLEDGED, 5)
    assert took >= 0.5  # its on-delay
    rig.sim.sensor_value(dp, None)


def _value(rig: Rig, point_id: str) -> float:
    sample = rig.facility.store.latest(point_id)
    value = sample.value if sample is not None else None
    return float(value) if isinstance(value, int | float) else float("nan")
