"""The alarm journal on SQLite and PostgreSQL: append-only, and the restore after a restart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from hal.points import LinkState, Quality
from necstgen_desk.alarms.journal import AlarmJournal, JournalWriter, add_entry
from necstgen_desk.alarms.model import AlarmChange, AlarmEvent, AlarmKind, AlarmState
from necstgen_desk.storage.errors import AppendOnlyViolation
from tests.unit.alarms.harness import Harness

S = AlarmState


def _run_a_shift(h: Harness, engine: Engine) -> None:
    """Alarms in every state a restart must keep; the person's actions written as
    the service writes them (with their own journal entry)."""

    def person(change: AlarmChange) -> None:
        with Session(engine) as db, db.begin():
            add_entry(db, change)

    h.feed("B-08.dp", 2.0)  # unacknowledged, active
    h.feed("B-08.t", 23.5)  # acknowledged, active
    h.feed("C-02.rh", 58.0)  # returned unacknowledged
    h.feed("B-05.rh", 58.0)  # shelved
    h.feed("B-06.t", 25.0)  # acknowledged and cleared: normal, not restored
    h.advance(60)
    person(h.engine.acknowledge("B-08.t/alert", by="op1", comment="watching"))
    h.feed("C-02.rh", 45.0)
    person(h.engine.acknowledge("B-06.t/alert", by="op1"))
    person(h.engine.acknowledge("B-06.t/action", by="op1"))
    h.feed("B-06.t", 21.0)
    h.advance(30)
    until = datetime.fromtimestamp(h.now + 3600, UTC)
    person(h.engine.shelve("B-05.rh/alert", by="lead", reason="humidifier service", until=until))
    h.link("ENV-2", LinkState.DOWN)
    h.engine.raise_system(AlarmKind.AUDIT_CHAIN, "archive", "chain broken at entry 7")


def test_a_restart_restores_every_alarm_the_operator_has_not_finished_with(
    engine: Engine,
) -> None:
    journal = AlarmJournal(engine)
    before = Harness()
    writer = JournalWriter(journal)
    writer.attach(before.engine)
    _run_a_shift(before, engine)
    assert writer.flush() > 0 and writer.pending == 0
    expected = {a.id: (a.state, a.active, a.acknowledged_by) for a in before.engine.active_alarms()}
    assert "B-08.dp/action" in expected and "B-06.t/alert" not in expected
    shelved = before.engine.alarm("B-05.rh/alert")

    after = Harness()  # the app starts again
    after.now = before.now + 5
    restored = journal.restore_into(after.engine)
    assert restored == len(expected) + 1  # the listed ones and the shelved one
    assert {
        a.id: (a.state, a.active, a.acknowledged_by) for a in after.engine.active_alarms()
    } == expected
    again = after.engine.alarm("B-05.rh/alert")
    assert again.state is S.SHELVED
    assert (again.shelved_by, again.shelved_until, again.shelve_reason) == (
        shelved.shelved_by,
        shelved.shelved_until,
        shelved.shelve_reason,
    )
    assert after.engine.alarm("archive/audit_chain").state is S.UNACKNOWLEDGED
    assert (
        after.engine.alarm("B-08.dp/action").raised_at
        == before.engine.alarm("B-08.dp/action").raised_at
    )
    # Live values take over: the unacknowledged one stays to be seen.
    after.feed_many({"B-08.dp": 25.0, "B-08.t": 21.0})
    after.advance(30)
    assert after.state("B-08.dp/action") is S.RETURNED_UNACKNOWLEDGED
    assert after.state("B-08.t/alert") is S.NORMAL
    assert min(c.seq for c in after.changes) > max(c.seq for c in before.changes)


def test_the_journal_is_append_only(engine: Engine) -> None:
    h = Harness()
    journal = AlarmJournal(engine)
    writer = JournalWriter(journal)
    writer.attach(h.engine)
    h.feed("B-03.t", None, Quality.BAD)
    assert writer.flush() == 1
    for sql in ("UPDATE alarm_events SET message = 'edited'", "DELETE FROM alarm_events"):
        refused = pytest.raises(AppendOnlyViolation, match="alarm_events is append-only")
        with refused, engine.begin() as connection:
            connection.execute(text(sql))
    entries = journal.history(source="B-03.t")
    assert [(e.event, e.to_state, e.username) for e in entries] == [
        (AlarmEvent.CONDITION_ACTIVE, S.UNACKNOWLEDGED, None)
    ]
    assert entries[0].raised_at is not None


def test_a_persons_change_is_left_to_the_service(engine: Engine) -> None:
    h = Harness()
    writer = JournalWriter(AlarmJournal(engine))
    writer.attach(h.engine)
    h.feed("B-03.t", None, Quality.BAD)
    h.engine.acknowledge("B-03.t/point_bad", by="op1")
    assert writer.pending == 1  # the condition only


def test_an_airlocks_fault_history(engine: Engine) -> None:
    h = Harness()
    journal = AlarmJournal(engine)
    writer = JournalWriter(journal)
    writer.attach(h.engine)
    h.feed("PAL-01.fault", 0)
    h.feed("PAL-01.fault", 2)
    change = h.engine.acknowledge_interlock("PAL-01", by="tech", comment="door closer")[0]
    with Session(engine) as db, db.begin():
        add_entry(db, change)
    h.feed("PAL-01.fault", 0)
    h.feed("PAL-02.fault", 5)
    writer.flush()
    history = journal.fault_history("PAL-01")
    assert [(e.alarm_id, e.event, e.to_state, e.username) for e in history] == [
        ("PAL-01/fault/forced_open", AlarmEvent.CONDITION_CLEARED, S.NORMAL, None),
        ("PAL-01/fault/forced_open", AlarmEvent.ACKNOWLEDGE, S.ACKNOWLEDGED, "tech"),
        ("PAL-01/fault/forced_open", AlarmEvent.CONDITION_ACTIVE, S.UNACKNOWLEDGED, None),
    ]
    assert history[1].comment == "door closer"
