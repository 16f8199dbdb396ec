"""Release blockers: a room's active action-level alarms and latched interlock faults."""

from __future__ import annotations

from datetime import UTC, datetime

from necstgen_desk.alarms.blockers import AlarmReleaseBlockers, airlocks_guarding
from necstgen_desk.records.lifecycle import ReleaseBlockers
from tests.unit.alarms.harness import Harness, default_site


def test_it_is_a_release_blockers() -> None:
    blockers: ReleaseBlockers = AlarmReleaseBlockers(Harness().engine)
    assert blockers.blockers("B-01") == []


def test_airlocks_guarding_a_room() -> None:
    site = default_site()
    assert airlocks_guarding(site, "B-01") == ("PAL-01",)
    assert airlocks_guarding(site, "PAL-01") == ("PAL-01",)
    assert airlocks_guarding(site, "C-COR") == ("GOWN-C",)
    assert airlocks_guarding(site, "QC-LAB") == ()


def test_action_level_alarms_block_alerts_do_not() -> None:
    h = Harness()
    blockers = AlarmReleaseBlockers(h.engine)
    h.feed("B-01.t", 23.5)  # alert only
    h.advance(60)
    assert blockers.blockers("B-01") == []
    h.feed("B-01.dp", 2.0)
    h.advance(10)
    h.engine.acknowledge("B-01.dp/action", by="op")  # acknowledged still blocks
    found = blockers.blockers("B-01")
    assert found == ["action-level alarm: B-01 ΔP to PAL-01 action limit: 2.0 Pa below 10.0 Pa"]
    assert blockers.blockers("B-02") == []


def test_a_shelved_action_alarm_still_blocks() -> None:
    h = Harness()
    h.feed("B-02.dp", 2.0)
    h.advance(10)
    h.engine.shelve(
        "B-02.dp/action",
        by="lead",
        reason="transmitter check",
        until=datetime.fromtimestamp(h.now + 600, UTC),
    )
    assert len(AlarmReleaseBlockers(h.engine).blockers("B-02")) == 1


def test_a_latched_interlock_fault_blocks_the_suite_and_its_airlock() -> None:
    h = Harness()
    blockers = AlarmReleaseBlockers(h.engine)
    h.feed("PAL-01.fault", 2)
    expected = (
        "interlock fault latched on airlock PAL-01: door forced open while locked "
        "(not acknowledged; maintenance must reset it)"
    )
    assert blockers.blockers("B-01") == [expected]
    assert blockers.blockers("PAL-01") == [expected]
    assert blockers.blockers("B-02") == []
    h.feed("PAL-01.fault", 0)
    assert blockers.blockers("B-01") == []
