"""The alarms derived from the default site: ids, priorities, hold-off doors, kinds."""

from __future__ import annotations

from collections import Counter

from hal.points import Access
from hal.sim.plant import FaultCode
from necstgen_desk.alarms.definitions import holdoff_doors, site_alarms
from necstgen_desk.alarms.model import AlarmKind, AlarmLevel, InterlockFault, Priority
from tests.unit.alarms.harness import default_site


def test_fault_codes_match_the_plc_contract() -> None:
    assert {c.name: c.value for c in InterlockFault} == {c.name: c.value for c in FaultCode}


def test_ids_are_unique_and_stable() -> None:
    alarms = site_alarms(default_site())
    ids = [d.id for d in alarms.definitions]
    assert len(ids) == len(set(ids))
    for expected in (
        "B-01.dp/alert",
        "B-01.dp/action",
        "B-01/cleanup",
        "PAL-01/both_doors_open",
        "PAL-01/fault/forced_open",
        "PAL-01/fault/unknown",
        "PAL-01-IN/door_held_open",
        "ENV-1/link_lost",
        "ENV-1/heartbeat_frozen",
        "B-01.dp/point_bad",
        "B-01.dp/record_gap",
        "audit/audit_chain",
    ):
        assert expected in alarms.by_id, expected


def test_priorities() -> None:
    by_id = site_alarms(default_site()).by_id
    assert by_id["B-01.dp/action"].priority is Priority.HIGH
    assert by_id["B-01.dp/alert"].priority is Priority.MEDIUM
    assert by_id["B-01.p05/action"].priority is Priority.HIGH
    assert by_id["B-01.t/action"].priority is Priority.MEDIUM
    assert by_id["B-01.rh/alert"].priority is Priority.LOW
    assert by_id["PAL-01/both_doors_open"].priority is Priority.HIGH
    assert by_id["PAL-01/fault/held_open"].priority is Priority.HIGH
    assert by_id["GOWN-C/fault/held_open"].priority is Priority.MEDIUM  # warning-only airlock
    assert by_id["ENV-1/link_lost"].priority is Priority.HIGH
    assert by_id["audit/audit_chain"].priority is Priority.HIGH
    assert by_id["B-01/cleanup"].level is AlarmLevel.ACTION


def test_differentials_are_held_off_by_their_doors_with_a_justification() -> None:
    site = default_site()
    by_id = site_alarms(site).by_id
    assert holdoff_doors(site, site.point_by_id["B-01.dp"]) == ("PAL-01-IN", "PAL-01-OUT")
    assert holdoff_doors(site, site.point_by_id["C-01.dp"]) == ("C-01-D",)
    assert holdoff_doors(site, site.point_by_id["C-COR.dp"]) == ()
    action = by_id["B-01.dp/action"]
    assert action.door_holdoff_s == 15 and action.holdoff_justification
    assert action.on_delay_s == 10 and action.off_delay_s == 5 and action.deadband == 1
    assert by_id["C-COR.dp/action"].door_holdoff_s == 0


def test_every_part_of_the_site_has_its_alarms() -> None:
    site = default_site()
    alarms = site_alarms(site)
    kinds = Counter(d.kind for d in alarms.definitions)
    assert kinds[AlarmKind.INTERLOCK_FAULT] == 6 * len(site.airlocks)
    assert kinds[AlarmKind.BOTH_DOORS_OPEN] == len(site.airlocks)
    assert kinds[AlarmKind.DOOR_HELD_OPEN] == len(site.doors)
    assert kinds[AlarmKind.LINK_LOST] == kinds[AlarmKind.HEARTBEAT_FROZEN] == len(site.plcs)
    polled = [p for p in site.points if p.hal.access is Access.READ]
    assert kinds[AlarmKind.POINT_BAD] == len(polled)
    assert kinds[AlarmKind.RECORD_GAP] == sum(p.alarm.critical for p in site.points)
    assert {d.source for d in alarms.of_kind(AlarmKind.CLEANUP)} == {
        *(f"B-0{n}" for n in range(1, 9)),
        "C-COR",
        "C-01",
        "C-02",
    }
    held = alarms.by_id["C-01-D/door_held_open"]
    assert held.room == "C-01" and held.on_delay_s == site.alarms.door_held_open_s
