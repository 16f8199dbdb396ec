"""A time-lapse demo continues where its database's time ends (ADR 0006), on SQLite
and PostgreSQL: the newest audit entry or historian sample, whichever is later."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from hal.points import Quality, Sample
from necstgen_desk.alarms.journal import AlarmJournal
from necstgen_desk.clock import FacilityClock
from necstgen_desk.storage.audit import append_audit
from necstgen_desk.storage.engine import make_engine
from necstgen_desk.timelapse import RESUME_GAP_S, newest_recorded_time, resume_at
from tests.integration.historian.conftest import Clock, WriterFactory
from tests.unit.alarms.harness import Harness

T0 = 1_800_000_000.0


def test_a_missing_file_or_an_empty_database_starts_at_the_wall_time(
    tmp_path: Path, migrated_url: str
) -> None:
    missing = tmp_path / "none.sqlite"
    assert newest_recorded_time(f"sqlite:///{missing}") is None
    assert not missing.exists()  # looking did not create it
    assert newest_recorded_time(migrated_url) is None
    assert resume_at(migrated_url, T0) == T0


def test_an_unmigrated_database_is_no_error(db_url: str) -> None:
    assert newest_recorded_time(db_url) is None


def test_the_clock_continues_after_the_newest_sample_or_audit_entry(
    migrated_url: str, make_writer: WriterFactory
) -> None:
    ahead = T0 + 3000.0  # a previous time-lapse ran 50 minutes ahead of the wall
    writer = make_writer(clock=Clock(ahead + 60))
    writer.submit(
        [Sample("B-01.dp", 15.0, Quality.GOOD, T0 + 10 * k) for k in range(301)]
        + [Sample("B-02.dp", 14.0, Quality.GOOD, T0 + 100.0)]
    )
    assert writer.flush(20)
    assert newest_recorded_time(migrated_url) == ahead
    engine = make_engine(migrated_url)
    try:
        with Session(engine) as session, session.begin():
            append_audit(
                session,
                username="olga",
                action="test",
                record_type="test",
                record_id=1,
                reason="a later record",
                at=datetime.fromtimestamp(ahead + 42.5, UTC),
            )
    finally:
        engine.dispose()
    assert newest_recorded_time(migrated_url) == ahead + 42.5
    start = resume_at(migrated_url, T0 + 5.0)
    assert start == ahead + 42.5 + RESUME_GAP_S
    clock = FacilityClock(60.0, origin=T0 + 5.0, start=start, wall=lambda: T0 + 6.0)
    assert clock() == start + 60.0
    # A wall clock already past the stored time is where the run starts.
    assert resume_at(migrated_url, ahead + 100.0) == ahead + 100.0


def test_an_alarm_event_newer_than_every_other_record_sets_the_start(migrated_url: str) -> None:
    alarms = Harness(now=T0 + 7200.0)  # an engine on the plant's clock, two hours ahead
    alarms.feed("B-01.dp", 2.0)  # below the action limit ...
    alarms.advance(30, step=1)  # ... past its on-delay: raised
    assert alarms.changes
    engine = make_engine(migrated_url)
    try:
        AlarmJournal(engine).record(alarms.changes)
    finally:
        engine.dispose()
    newest = max(change.at.timestamp() for change in alarms.changes)
    assert newest_recorded_time(migrated_url) == pytest.approx(newest, abs=1e-6)
    assert resume_at(migrated_url, T0) == pytest.approx(newest + RESUME_GAP_S, abs=1e-6)
