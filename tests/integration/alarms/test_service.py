"""The alarm service on SQLite and PostgreSQL: roles, signatures, journal, audit, reset.

The engine runs on the default site with the services' fake clock and
hand-made samples; the coil writer is a recorder (the simulator's own reset
is tested in ``test_reset.py``). What is checked is what a GMP reviewer asks:
who may do what, that each step is in the audit trail with user, time and
comment, and that the reset coil is written only after maintenance
acknowledged the fault and its cause is gone.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hal.points import Quality, Sample, Value
from necstgen_desk.alarms import service as service_module
from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.journal import AlarmJournal, JournalWriter
from necstgen_desk.alarms.model import AlarmEvent, AlarmKind, AlarmState, Priority
from necstgen_desk.alarms.service import AlarmService, ResetOrder, shelve_durations
from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.services import (
    NotFound,
    PermissionDenied,
    Records,
    RuleViolation,
    SignatureError,
    SignatureRequest,
)
from necstgen_desk.storage.engine import for_reading
from necstgen_desk.storage.errors import StorageEnvironmentError
from necstgen_desk.storage.models import AlarmJournalEntry, Signature
from tests.integration.services.helpers import (
    FAST_POLICY,
    LOCAL,
    SITE,
    Env,
    FakeBlockers,
    FakeClock,
    sign,
)

S = AlarmState
FAULT = "PAL-01/fault/forced_open"
DOORS = ("PAL-01-OUT.closed", "PAL-01-IN.closed")


class CoilRecorder:
    """The CoilWriter of these tests: it records what would reach the PLC."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, int, bool]] = []
        self.fail: str | None = None

    async def write_coil(self, plc_id: str, address: int, value: bool) -> None:
        if self.fail is not None:
            raise ConnectionError(self.fail)
        self.writes.append((plc_id, address, value))


class Clock(FakeClock):
    def now_ts(self) -> float:
        return self.now.timestamp()


@dataclass
class Rig:
    env: Env
    alarms: AlarmEngine
    service: AlarmService
    journal: AlarmJournal
    writer: JournalWriter
    coils: CoilRecorder
    seen: list[str] = field(default_factory=list)

    @property
    def clock(self) -> Clock:
        clock = self.env.clock
        assert isinstance(clock, Clock)
        return clock

    def feed(self, point_id: str, value: Value | None, quality: Quality = Quality.GOOD) -> None:
        now = self.clock.now.timestamp()
        self.alarms.feed([Sample(point_id, value, quality, now, "test")])

    def state(self, alarm_id: str) -> AlarmState:
        return self.alarms.alarm(alarm_id).state

    def settle(self) -> None:
        """Past every on-delay of the site (limits hold for up to 60 s before alarming)."""
        self.clock.advance(seconds=61)
        self.alarms.tick()

    def latch_forced_open(self) -> None:
        """PAL-01's inner door forced: both doors open, fault 2 latched; then closed."""
        for door in DOORS:
            self.feed(door, True)
        self.feed("PAL-01.fault", 0)
        self.feed(DOORS[0], False)
        self.feed(DOORS[1], False)
        self.feed("PAL-01.fault", 2)
        self.feed(DOORS[1], True)
        self.feed(DOORS[0], True)
        assert self.state(FAULT) is S.UNACKNOWLEDGED

    def entries(self, alarm_id: str) -> list[AlarmJournalEntry]:
        self.writer.flush()
        return list(reversed(self.journal.history(alarm_id=alarm_id)))


@pytest.fixture
def rig(engine: Engine) -> Rig:
    clock = Clock()
    records = Records(
        engine,
        site=SITE,
        clock=clock,
        password_policy=FAST_POLICY,
        blockers=FakeBlockers(),
        local_tz=LOCAL,
    )
    env = Env(records=records, clock=clock, blockers=FakeBlockers(), engine=engine)
    alarms = AlarmEngine(SITE, clock=clock.now_ts)
    journal = AlarmJournal(engine)
    writer = JournalWriter(journal)
    writer.attach(alarms)
    coils = CoilRecorder()
    service = AlarmService(records.core, alarms, journal, coils)
    return Rig(env, alarms, service, journal, writer, coils)


# ------------------------------------------------------------------ acknowledge


def test_operators_acknowledge_several_alarms_with_a_comment(rig: Rig) -> None:
    op1 = rig.env["op1"]
    rig.feed("B-02.dp", 2.0)  # action and alert
    rig.feed("C-01.rh", 58.0)  # alert only
    rig.settle()
    ids = ["B-02.dp/action", "B-02.dp/alert", "C-01.rh/alert"]
    assert all(rig.state(i) is S.UNACKNOWLEDGED for i in ids)

    with pytest.raises(RuleViolation, match="a comment is required"):
        rig.service.acknowledge(op1, ids, "   ")
    assert all(rig.state(i) is S.UNACKNOWLEDGED for i in ids)

    rig.clock.advance(minutes=2)
    changes = rig.service.acknowledge(op1, ids, "door propped by the porter; closed")
    assert [c.alarm_id for c in changes] == ids
    assert all(rig.state(i) is S.ACKNOWLEDGED for i in ids)
    assert rig.alarms.alarm(ids[0]).acknowledged_by == "op1"

    audit = rig.env.audit(action="acknowledge_alarm")
    assert [(a.username, a.record_type, a.record_id) for a in audit] == [
        ("op1", "alarm", i) for i in ids
    ]
    assert all(a.reason == "door propped by the porter; closed" for a in audit)
    assert {(a.old_value, a.new_value) for a in audit} == {("unacknowledged", "acknowledged")}
    assert audit[0].at == rig.clock.now
    entry = rig.entries("B-02.dp/action")[-1]
    assert (entry.event, entry.username, entry.comment) == (
        AlarmEvent.ACKNOWLEDGE,
        "op1",
        "door propped by the porter; closed",
    )
    assert entry.at == rig.clock.now  # the journal and the audit trail tell the same time

    # Acknowledged already (someone else was first): skipped; nothing left: refused.
    rig.feed("B-03.t", 25.0)
    rig.settle()
    more = rig.service.acknowledge(op1, ["B-02.dp/action", "B-03.t/action"], "seen")
    assert [c.alarm_id for c in more] == ["B-03.t/action"]
    with pytest.raises(RuleViolation, match="none of the chosen alarms"):
        rig.service.acknowledge(op1, ["B-02.dp/action"], "seen")
    with pytest.raises(NotFound):
        rig.service.acknowledge(op1, ["B-99.dp/action"], "seen")


def test_an_administrator_may_not_acknowledge_and_the_refusal_is_audited(rig: Rig) -> None:
    rig.feed("B-02.dp", 2.0)
    rig.settle()
    with pytest.raises(PermissionDenied):
        rig.service.acknowledge(rig.env["admin"], ["B-02.dp/action"], "seen")
    assert rig.state("B-02.dp/action") is S.UNACKNOWLEDGED
    denied = rig.env.audit(action="permission_denied", record_type="alarm")
    assert [(d.username, d.record_id) for d in denied] == [("admin", "B-02.dp/action")]
    assert "acknowledge B-02.dp/action" in denied[0].reason


def test_a_change_that_cannot_be_saved_is_undone_on_the_screen(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig.feed("B-02.dp", 2.0)
    rig.settle()

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise StorageEnvironmentError("the disk is full")

    monkeypatch.setattr(service_module, "append_audit", disk_full)
    with pytest.raises(StorageEnvironmentError):
        rig.service.acknowledge(rig.env["op1"], ["B-02.dp/action", "B-02.dp/alert"], "seen")
    assert rig.state("B-02.dp/action") is S.UNACKNOWLEDGED
    assert rig.state("B-02.dp/alert") is S.UNACKNOWLEDGED
    assert [e.event for e in rig.entries("B-02.dp/action")] == [AlarmEvent.CONDITION_ACTIVE]


# ------------------------------------------------------------------ shelve


def test_shelving_needs_the_role_a_reason_a_limit_and_a_signature(rig: Rig) -> None:
    rig.feed("C-02.rh", 58.0)
    rig.settle()
    alarm = "C-02.rh/alert"
    op1, lead = rig.env["op1"], rig.env["lead"]
    with pytest.raises(PermissionDenied):
        rig.service.shelve(op1, alarm, "humidifier service", timedelta(hours=1), sign(op1))
    with pytest.raises(RuleViolation, match="at most 8 h"):
        rig.service.shelve(lead, alarm, "humidifier service", timedelta(hours=9), sign(lead))
    with pytest.raises(RuleViolation, match="a reason is required"):
        rig.service.shelve(lead, alarm, " ", timedelta(hours=1), sign(lead))
    with pytest.raises(SignatureError):
        rig.service.shelve(lead, alarm, "humidifier service", timedelta(hours=1), None)
    wrong = SignatureRequest(password="not it", username="lead")
    with pytest.raises(SignatureError):
        rig.service.shelve(lead, alarm, "humidifier service", timedelta(hours=1), wrong)
    assert rig.state(alarm) is S.UNACKNOWLEDGED

    change = rig.service.shelve(lead, alarm, "humidifier service", timedelta(hours=1), sign(lead))
    assert change.new_state is S.SHELVED
    shelved = rig.alarms.alarm(alarm)
    assert shelved.shelved_by == "lead"
    assert shelved.shelved_until == rig.clock.now + timedelta(hours=1)
    assert rig.alarms.counts().shelved == 1 and rig.alarms.counts().listed == 0

    entry = rig.entries(alarm)[-1]
    assert entry.event is AlarmEvent.SHELVE and entry.comment == "humidifier service"
    with Session(for_reading(rig.env.engine)) as db:
        signature = db.scalars(
            select(Signature).where(
                Signature.record_type == "alarm_event", Signature.record_id == str(entry.id)
            )
        ).one()
    assert (signature.username, signature.meaning) == ("lead", SignatureMeaning.SHELVED)
    audit = rig.env.audit(action="shelve_alarm")
    assert [(a.username, a.record_id, a.reason) for a in audit] == [
        ("lead", alarm, "humidifier service")
    ]
    assert audit[0].new_value is not None and "(1 h)" in audit[0].new_value
    assert [a.action for a in rig.env.audit(username="lead", record_type="alarm")] == [
        "signature_failed",
        "shelve_alarm",
    ]

    # The shelf runs out by itself; the condition is still there: back in front of the operator.
    rig.clock.advance(minutes=61)
    rig.alarms.tick()
    assert rig.state(alarm) is S.UNACKNOWLEDGED
    assert rig.entries(alarm)[-1].event is AlarmEvent.SHELF_EXPIRED


def test_unshelving_early_is_audited_and_some_alarms_cannot_be_shelved(rig: Rig) -> None:
    rig.feed("C-02.rh", 58.0)
    rig.settle()
    alarm = "C-02.rh/alert"
    lead = rig.env["lead"]
    rig.service.shelve(lead, alarm, "humidifier service", timedelta(minutes=30), sign(lead))
    change = rig.service.unshelve(lead, alarm, "service finished early")
    assert change.new_state is S.UNACKNOWLEDGED
    with pytest.raises(RuleViolation, match="not shelved"):
        rig.service.unshelve(lead, alarm, "again")
    assert [a.reason for a in rig.env.audit(action="unshelve_alarm")] == ["service finished early"]

    rig.latch_forced_open()
    with pytest.raises(RuleViolation, match="cannot be shelved"):
        rig.service.shelve(lead, FAULT, "annoying", timedelta(minutes=30), sign(lead))
    assert shelve_durations(8)[-1] == timedelta(hours=8)
    assert shelve_durations(1.5)[-1] == timedelta(hours=1.5)


# ------------------------------------------------------------------ interlock faults


def test_only_maintenance_acknowledges_an_interlock_fault(rig: Rig) -> None:
    rig.latch_forced_open()
    op1, lead, maint = rig.env["op1"], rig.env["lead"], rig.env["maint"]
    with pytest.raises(PermissionDenied):
        rig.service.acknowledge(op1, [FAULT], "seen it")
    with pytest.raises(PermissionDenied):
        rig.service.acknowledge_interlock_fault(op1, "PAL-01", "seen it", sign(op1))
    with pytest.raises(PermissionDenied):
        rig.service.acknowledge_interlock_fault(lead, "PAL-01", "seen it", sign(lead))
    # Maintenance is sent to the interlock view: a comment and a signature.
    with pytest.raises(RuleViolation, match="Interlocks view"):
        rig.service.acknowledge(maint, [FAULT], "seen it")
    assert rig.state(FAULT) is S.UNACKNOWLEDGED
    denied = rig.env.audit(action="permission_denied")
    assert [(d.username, d.record_type, d.record_id) for d in denied] == [
        ("op1", "alarm", FAULT),
        ("op1", "interlock", "PAL-01"),
        ("lead", "interlock", "PAL-01"),
    ]

    changes = rig.service.acknowledge_interlock_fault(
        maint, "PAL-01", "door closer replaced", sign(maint)
    )
    assert [c.alarm_id for c in changes] == [FAULT]
    assert rig.state(FAULT) is S.ACKNOWLEDGED
    status = rig.service.interlock("PAL-01")
    assert status.latched and status.acknowledged
    entry = rig.entries(FAULT)[-1]
    assert (entry.username, entry.comment) == ("maint", "door closer replaced")
    signed = [
        a.new_value or ""
        for a in rig.env.audit(action="sign", username="maint")
        if "alarm_event" in (a.new_value or "")
    ]
    assert len(signed) == 1 and "acknowledged" in signed[0]
    audit = rig.env.audit(action="acknowledge_interlock_fault")
    assert [(a.username, a.record_id, a.reason) for a in audit] == [
        ("maint", FAULT, "door closer replaced")
    ]
    with pytest.raises(RuleViolation, match="no interlock fault awaiting"):
        rig.service.acknowledge_interlock_fault(maint, "PAL-01", "again", sign(maint))


async def test_the_reset_coil_is_written_only_after_maintenance_acknowledged(rig: Rig) -> None:
    rig.latch_forced_open()
    op1, maint = rig.env["op1"], rig.env["maint"]
    plc_id, address = rig.alarms.reset_coil("PAL-01") or ("", -1)
    assert plc_id == "DOOR-1"

    with pytest.raises(PermissionDenied):
        await rig.service.reset(op1, "PAL-01", "let me in")
    with pytest.raises(RuleViolation, match="must be acknowledged by maintenance"):
        await rig.service.reset(maint, "PAL-01", "reset")
    assert rig.coils.writes == []

    rig.service.acknowledge_interlock_fault(maint, "PAL-01", "door closer replaced", sign(maint))
    rig.feed(DOORS[1], False)  # someone opens the inner door again
    with pytest.raises(RuleViolation, match="cause is still present"):
        await rig.service.reset(maint, "PAL-01", "reset")
    assert rig.coils.writes == []
    rig.feed(DOORS[1], True)

    rig.coils.fail = "link to DOOR-1 down"
    with pytest.raises(ConnectionError):
        await rig.service.reset(maint, "PAL-01", "reset after repair")
    rig.coils.fail = None
    order = await rig.service.reset(maint, "PAL-01", "reset after repair")
    assert isinstance(order, ResetOrder) and order.fault_code == 2
    assert rig.coils.writes == [("DOOR-1", address, True)]

    actions = [
        (a.action, a.username)
        for a in rig.env.audit(record_type="interlock")
        if a.action.startswith("reset")
    ]
    assert actions == [
        ("reset_interlock_refused", "maint"),
        ("reset_interlock_refused", "maint"),
        ("reset_interlock", "maint"),
        ("reset_interlock_failed", "maint"),
        ("reset_interlock", "maint"),
    ]
    audit = rig.env.audit(action="reset_interlock")[-1]
    assert audit.reason == "reset after repair"
    assert audit.old_value == "F2 door forced open while locked"
    assert audit.new_value == f"reset written to reset coil {address} of PLC DOOR-1"

    rig.feed("PAL-01.fault", 0)  # the next scan: the PLC cleared it
    outcome = await rig.service.await_outcome(order, timeout_s=0.1)
    assert outcome.cleared and rig.state(FAULT) is S.NORMAL


# ------------------------------------------------------------------ restart and history


def test_a_restart_restores_what_people_left_unfinished(rig: Rig) -> None:
    op1 = rig.env["op1"]
    rig.feed("B-02.dp", 2.0)
    rig.feed("C-01.rh", 58.0)
    rig.settle()
    rig.service.acknowledge(op1, ["B-02.dp/action"], "watching it")
    rig.latch_forced_open()
    rig.writer.flush()

    before = {a.id: (a.state, a.acknowledged_by) for a in rig.alarms.active_alarms()}

    after = AlarmEngine(SITE, clock=rig.clock.now_ts)
    assert rig.journal.restore_into(after) == len(before)
    states = {a.id: (a.state, a.acknowledged_by) for a in after.active_alarms()}
    assert states == before
    assert states["B-02.dp/action"] == (S.ACKNOWLEDGED, "op1")
    assert states["B-02.dp/alert"] == (S.UNACKNOWLEDGED, None)
    assert states[FAULT] == (S.UNACKNOWLEDGED, None)
    assert states["PAL-01/both_doors_open"] == (S.RETURNED_UNACKNOWLEDGED, None)
    # The airlock's latched fault survives too, for maintenance to acknowledge.
    service = AlarmService(rig.env.records.core, after, rig.journal, rig.coils)
    service_changes = service.acknowledge_interlock_fault(
        rig.env["maint"], "PAL-01", "after the restart", sign(rig.env["maint"])
    )
    assert [c.new_state for c in service_changes] == [S.ACKNOWLEDGED]


def test_history_filters_and_an_audited_csv_export(rig: Rig, tmp_path: Path) -> None:
    op1 = rig.env["op1"]
    rig.feed("B-02.dp", 2.0)
    rig.settle()
    rig.feed("C-01.rh", 58.0)
    rig.settle()
    rig.service.acknowledge(op1, ["C-01.rh/alert"], "known humidifier drift")
    rig.writer.flush()

    everything = rig.service.history()
    assert [e.alarm_id for e in everything][:1] == ["C-01.rh/alert"]  # newest first
    assert {e.alarm_id for e in rig.service.history(room_id="C-01")} == {"C-01.rh/alert"}
    assert {e.priority for e in rig.service.history(priority=Priority.HIGH)} == {Priority.HIGH}
    people = rig.service.history(people_only=True)
    assert [(e.username, e.event) for e in people] == [("op1", AlarmEvent.ACKNOWLEDGE)]
    assert [e.alarm_id for e in rig.service.history(text="HUMIDIFIER")] == ["C-01.rh/alert"]
    since = rig.clock.now - timedelta(seconds=30)
    recent = rig.service.history(since=since)
    assert all(e.at >= since for e in recent)
    rooms = {e.room_id for e in recent}
    assert "C-01" in rooms and "B-02" not in rooms
    assert rig.service.history(kind=AlarmKind.INTERLOCK_FAULT) == []

    path = tmp_path / "alarms.csv"
    count = rig.service.export_history_csv(op1, path, room_id="C-01")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert count == len(rows) == 2
    assert [(r["event"], r["user"], r["comment"]) for r in rows] == [
        ("condition_active", "", ""),
        ("acknowledge", "op1", "known humidifier drift"),
    ]
    assert datetime.fromisoformat(rows[0]["time_utc"]).tzinfo == UTC
    exported = rig.env.audit(action="export_csv", record_type="alarm_journal")
    assert [(a.username, a.new_value) for a in exported] == [("op1", str(path))]
    assert "room_id=C-01" in exported[0].reason


def test_the_audit_chain_alarm(rig: Rig) -> None:
    alarm = rig.service.audit_chain_checked(False, "Audit trail BROKEN at audit entry 7.")
    assert alarm.state is S.UNACKNOWLEDGED and alarm.priority is Priority.HIGH
    assert "BROKEN at audit entry 7" in alarm.message
    rig.service.acknowledge(rig.env["qa1"], [alarm.id], "reported to QA, investigation opened")
    assert rig.state(alarm.id) is S.ACKNOWLEDGED
    assert rig.service.audit_chain_checked(True, "intact").state is S.NORMAL
