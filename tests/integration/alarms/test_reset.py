"""The one PLC write: an interlock reset over real Modbus TCP to the simulated door PLC."""

from __future__ import annotations

import pytest

from hal.poller import CoilWriteError
from necstgen_desk.alarms.interlocks import reset_outcome, reset_refusal
from necstgen_desk.alarms.model import AlarmState, InterlockFault
from tests.integration.alarms.conftest import Rig
from tests.waiting import wait_until

AIRLOCK = "PAL-02"


async def _force_open(rig: Rig) -> None:
    """Both doors open, the inner one forced: fault 2 latches and stays after they close."""
    assert rig.sim.open_door(f"{AIRLOCK}-OUT")
    assert rig.sim.open_door(f"{AIRLOCK}-IN", forced=True)
    await rig.until_state(f"{AIRLOCK}/fault/forced_open", AlarmState.UNACKNOWLEDGED, 5)


def _coil(rig: Rig) -> tuple[str, int]:
    coil = rig.alarms.reset_coil(AIRLOCK)
    assert coil is not None
    return coil


async def test_a_reset_reaches_the_plant_once_the_cause_is_gone(rig: Rig) -> None:
    await _force_open(rig)
    status = rig.alarms.interlock(AIRLOCK)
    assert status.fault is InterlockFault.FORCED_OPEN
    rig.alarms.acknowledge_interlock(AIRLOCK, by="maint", comment="door closer")
    # Both doors still open: the app refuses to write a reset the PLC would ignore.
    refusal = reset_refusal(rig.alarms.interlock(AIRLOCK))
    assert refusal is not None and "cause is still present" in refusal

    rig.sim.close_door(f"{AIRLOCK}-IN")
    rig.sim.close_door(f"{AIRLOCK}-OUT")
    await wait_until(lambda: rig.alarms.interlock(AIRLOCK).cause_present is None, 5, "doors shut")
    assert rig.alarms.interlock(AIRLOCK).latched  # the PLC keeps it until reset
    assert reset_refusal(rig.alarms.interlock(AIRLOCK)) is None

    plc_id, address = _coil(rig)
    await rig.facility.write_coil(plc_id, address, True)
    await wait_until(lambda: not rig.alarms.interlock(AIRLOCK).latched, 5, "fault cleared")
    assert rig.sim.expected_value(f"{AIRLOCK}.fault") == 0
    assert reset_outcome(rig.alarms.interlock(AIRLOCK)).cleared
    assert rig.state(f"{AIRLOCK}/fault/forced_open") is AlarmState.NORMAL


async def test_the_plc_keeps_a_fault_latched_while_a_hidden_cause_persists(rig: Rig) -> None:
    """A controller fault the points cannot show: the write goes out, the PLC refuses it."""
    rig.sim.plant.set_controller_fault(AIRLOCK, True)
    await rig.until_state(f"{AIRLOCK}/fault/controller_fault", AlarmState.UNACKNOWLEDGED, 5)
    rig.alarms.acknowledge_interlock(AIRLOCK, by="maint", comment="controller replaced")
    assert reset_refusal(rig.alarms.interlock(AIRLOCK)) is None  # nothing the app can see

    plc_id, address = _coil(rig)
    scans = rig.facility.pollers[plc_id].scans
    await rig.facility.write_coil(plc_id, address, True)
    await wait_until(lambda: rig.facility.pollers[plc_id].scans >= scans + 2, 5, "two scans")
    outcome = reset_outcome(rig.alarms.interlock(AIRLOCK))
    assert not outcome.cleared and "kept the fault latched" in outcome.message

    rig.sim.plant.set_controller_fault(AIRLOCK, False)
    await rig.facility.write_coil(plc_id, address, True)
    await wait_until(lambda: not rig.alarms.interlock(AIRLOCK).latched, 5, "fault cleared")


async def test_a_write_while_the_link_is_down_is_refused_in_words(rig: Rig) -> None:
    plc_id, address = _coil(rig)
    await rig.sim.plc_down(plc_id)
    await rig.until_state(f"{plc_id}/link_lost", AlarmState.UNACKNOWLEDGED, 5)
    with pytest.raises(CoilWriteError, match="the link is not up"):
        await rig.facility.write_coil(plc_id, address, True)
    with pytest.raises(CoilWriteError, match="no PLC 'PLC-9'"):
        await rig.facility.write_coil("PLC-9", address, True)
    await rig.sim.plc_up(plc_id)
