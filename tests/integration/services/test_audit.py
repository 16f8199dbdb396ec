"""The audit trail for its readers: filters, permission, CSV export, chain check."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest

from necstgen_desk.alarms.model import AlarmState
from necstgen_desk.records.lifecycle import RoomAction, RoomStatus
from necstgen_desk.services import PermissionDenied
from necstgen_desk.services.audit import CSV_COLUMNS
from tests.integration.alarms.test_service import FAULT, Rig, rig
from tests.integration.services.helpers import SITE, T0, Env, sign

__all__ = ["rig"]  # the alarm service's test rig, on this folder's databases


def test_the_trail_is_for_shift_leads_qa_and_administrators(env: Env) -> None:
    with pytest.raises(PermissionDenied, match="view the audit trail"):
        env.records.audit.query(env["op1"])
    [denied] = env.audit(action="permission_denied")
    assert (denied.username, denied.record_type) == ("op1", "audit_trail")
    assert denied.reason.startswith("attempted to view the audit trail: op1 (Operator)")
    for who in ("lead", "qa1", "admin"):
        assert env.records.audit.query(env[who], limit=1)


def test_query_filters_by_room_user_type_and_time(env: Env) -> None:
    env.bring_to("B-01", RoomStatus.RELEASED)
    middle = env.clock.now
    env.clock.advance(minutes=1)
    env.bring_to("B-02", RoomStatus.CLEANING, marker="op2")
    audit, qa = env.records.audit, env["qa1"]

    everything = audit.query(qa)
    assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)
    assert [e.id for e in everything] == [e.id for e in reversed(env.audit())]

    b01 = audit.query(qa, room_id="B-01")
    assert {e.record_type for e in b01} == {
        "room_status_entry",
        "cleaning_record",
        "cleaning_verification",
        "signature",
    }
    assert (
        len([e for e in b01 if e.record_type == "signature"]) == 3
    )  # performed, verified, released
    b02 = audit.query(qa, room_id="B-02")
    assert [(e.username, e.action, e.record_type) for e in b02] == [
        ("op2", "create", "room_status_entry")
    ]
    assert {e.id for e in b01}.isdisjoint({e.id for e in b02})

    by_op2 = audit.query(qa, username="op2")
    assert by_op2 and {e.username for e in by_op2} == {"op2"}
    statuses = audit.query(qa, record_type="room_status_entry")
    assert len(statuses) == 4
    new_values = [json.loads(e.new_value or "{}") for e in reversed(statuses)]
    assert [(v["room_id"], v["status"]) for v in new_values] == [
        ("B-01", "cleaning"),
        ("B-01", "cleaned"),
        ("B-01", "released"),
        ("B-02", "cleaning"),
    ]
    late = audit.query(qa, since=middle)
    assert late and all(e.at >= middle for e in late)
    assert all(e.at < middle for e in audit.query(qa, until=middle))
    assert audit.query(qa, until=T0) == []
    assert len(audit.query(qa, limit=3)) == 3


def test_export_writes_utf8_csv_with_utc_and_local_times_and_is_audited(
    env: Env, tmp_path: Path
) -> None:
    env["qa1"]
    env.clock.advance(hours=1)
    env.change("op1", "B-01", RoomAction.START_CLEANING, reason="Reinigung geprüft – ok ✓")
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "audit export.csv"
    with pytest.raises(PermissionDenied):
        env.records.audit.export_csv(env["op1"], target)
    assert not target.exists()

    expected = list(reversed(env.records.audit.query(env["qa1"], room_id="B-01")))
    written = env.records.audit.export_csv(env["qa1"], target, room_id="B-01")
    assert written == len(expected) == 1
    assert list(folder.iterdir()) == [target]  # no partial file left behind
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    [row] = [dict(zip(CSV_COLUMNS, values, strict=True)) for values in rows[1:]]
    entry = expected[0]
    assert row["id"] == str(entry.id)
    assert row["at_utc"] == "2026-11-26T09:00:00.000000+00:00"
    assert entry.at.isoformat(timespec="microseconds") == row["at_utc"]
    assert row["at_local"] == "2026-11-26 10:00:00.000000 +01:00"
    assert (row["username"], row["action"], row["record_type"]) == (
        "op1",
        "create",
        "room_status_entry",
    )
    assert row["reason"] == "Reinigung geprüft – ok ✓"
    assert row["field"] == "" and row["old_value"] == ""
    assert json.loads(row["new_value"])["status"] == "cleaning"
    assert (row["prev_hash"], row["hash"]) == (entry.prev_hash, entry.hash)

    [export] = env.audit(action="export_csv")
    assert (export.username, export.record_type, export.record_id, export.new_value) == (
        "qa1",
        "audit_trail",
        f"{entry.id}-{entry.id}",
        str(target),
    )
    assert export.reason == "exported 1 entries as CSV (filters: room_id=B-01)"
    assert env.records.audit.verify().ok


def test_an_export_of_the_whole_trail_matches_the_query(env: Env, tmp_path: Path) -> None:
    env.bring_to("B-01", RoomStatus.CLEANED)
    count = len(env.records.audit.query(env["lead"], limit=10_000))
    assert env.records.audit.export_csv(env["lead"], tmp_path / "all.csv") == count
    lines = (tmp_path / "all.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == count + 1


def test_an_unknown_export_filter_is_an_error(env: Env, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="unknown filters: room"):
        env.records.audit.export_csv(env["qa1"], tmp_path / "x.csv", room="B-01")  # type: ignore[call-arg]


def test_the_room_filter_covers_the_actions_on_its_alarms_and_its_interlock(rig: Rig) -> None:
    """Alarm actions (record type ``alarm``) belong to the alarm's room in the
    journal: a point's space, a door's room, an airlock; interlock actions
    (``interlock``) to the airlock. Signatures of shelving and of an interlock
    acknowledgement go with them. Both backends."""
    op1, lead, maint, admin = (rig.env[n] for n in ("op1", "lead", "maint", "admin"))
    rig.feed("B-02.dp", 2.0)  # B-02: action and alert
    rig.feed("C-01.rh", 58.0)  # C-01: alert
    rig.feed("C-01-D.closed", False)  # C-01's door, held open
    rig.settle()
    door = "C-01-D/door_held_open"
    assert rig.state(door) is AlarmState.UNACKNOWLEDGED
    rig.service.acknowledge(op1, ["B-02.dp/action", "C-01.rh/alert", door], "seen")
    rig.service.shelve(lead, "B-02.dp/alert", "filter change", timedelta(hours=1), sign(lead))
    rig.service.unshelve(lead, "B-02.dp/alert", "filter changed")
    with pytest.raises(PermissionDenied):
        rig.service.acknowledge(admin, ["B-02.dp/alert"], "seen")
    rig.latch_forced_open()  # PAL-01
    with pytest.raises(PermissionDenied):
        rig.service.request_reset(op1, "PAL-01", "let me in")
    rig.service.acknowledge_interlock_fault(maint, "PAL-01", "closer replaced", sign(maint))
    rig.service.request_reset(maint, "PAL-01", "reset after repair")
    audit, qa = rig.env.records.audit, rig.env["qa1"]

    def in_room(room_id: str) -> list[tuple[str, str, str]]:
        rows = audit.query(qa, room_id=room_id)
        return [(e.username, e.action, e.record_id) for e in reversed(rows)]

    def signed(room_id: str) -> list[str]:
        rows = audit.query(qa, room_id=room_id)
        return [json.loads(e.new_value or "{}")["meaning"] for e in rows if e.action == "sign"]

    assert [s for s in in_room("B-02") if s[1] != "sign"] == [
        ("op1", "acknowledge_alarm", "B-02.dp/action"),
        ("lead", "shelve_alarm", "B-02.dp/alert"),
        ("lead", "unshelve_alarm", "B-02.dp/alert"),
        ("admin", "permission_denied", "B-02.dp/alert"),
    ]
    assert signed("B-02") == ["shelved"]
    assert in_room("C-01") == [
        ("op1", "acknowledge_alarm", "C-01.rh/alert"),
        ("op1", "acknowledge_alarm", door),
    ]
    assert [s for s in in_room("PAL-01") if s[1] != "sign"] == [
        ("op1", "permission_denied", "PAL-01"),
        ("maint", "acknowledge_interlock_fault", FAULT),
        ("maint", "reset_interlock", "PAL-01"),
    ]
    assert signed("PAL-01") == ["acknowledged"]
    for room_id in ("B-01", "C-02", "PAL-02"):  # the neighbours have none of it
        assert in_room(room_id) == []
    # Every alarm action is in exactly one room.
    per_room = [
        e.id
        for space in SITE.spaces
        for e in audit.query(qa, room_id=space.id, record_type="alarm")
    ]
    assert sorted(per_room) == sorted(e.id for e in audit.query(qa, record_type="alarm"))
    assert len(per_room) == 7
