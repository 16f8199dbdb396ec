"""The audit chain: appended in the caller's transaction, verified, tamper caught by name."""

from __future__ import annotations

import io
import itertools
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from necstgen_desk.records.hashing import GENESIS_HASH, chain_hash
from necstgen_desk.storage.audit import append_audit, verify_chain
from necstgen_desk.storage.cli import EXIT_BROKEN, EXIT_INTACT, EXIT_UNAVAILABLE, audit_verify
from necstgen_desk.storage.engine import make_engine
from necstgen_desk.storage.errors import ReasonRequired
from necstgen_desk.storage.models import AuditEntry
from tests.integration.storage import factories

T0 = factories.T0


def _append(session: Session, n: int, *, user: str = "jdoe") -> AuditEntry:
    return append_audit(
        session,
        username=user,
        action="update",
        record_type="cleaning_record",
        record_id=n,
        field="agent_lot",
        old_value=f"LOT-{n}",
        new_value=f"LOT-{n + 1}",
        reason="typo in the lot number",
        at=T0 + timedelta(seconds=n),
    )


def _fill(engine: Engine, count: int, per_transaction: int = 25) -> None:
    for start in range(0, count, per_transaction):
        with Session(engine) as session, session.begin():
            for n in range(start, min(count, start + per_transaction)):
                _append(session, n)


def _disable_protection(engine: Engine) -> None:
    """The attacker's first step: switch the append-only triggers off."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for operation in ("update", "delete"):
                connection.execute(text(f"DROP TRIGGER audit_entries_no_{operation}"))
        else:
            connection.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER ALL"))


def test_an_empty_trail_is_intact(engine: Engine) -> None:
    report = verify_chain(engine)
    assert report.ok and report.entries_checked == 0 and report.first_broken_id is None


def test_chain_verifies_after_many_appends_in_small_batches(engine: Engine) -> None:
    _fill(engine, 240)
    report = verify_chain(engine, batch_size=7)  # many batches, a partial last one
    assert report.ok, report.message
    assert report.entries_checked == 240
    assert report.last_id == 240
    assert "240 entries" in report.message
    with Session(engine) as session:
        first = session.get(AuditEntry, 1)
        assert first is not None and first.prev_hash == GENESIS_HASH
        ids = session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
        assert list(ids) == list(range(1, 241))


def test_hashed_fields_round_trip_exactly(engine: Engine) -> None:
    odd = timezone(timedelta(hours=5, minutes=30))
    written_at = datetime(2026, 11, 26, 21, 30, 0, 7, tzinfo=odd)
    with Session(engine) as session, session.begin():
        entry = append_audit(
            session,
            username="jdoe",
            action="update",
            record_type="user",
            record_id="42",
            field="full_name",
            old_value="Zoë  Ünïcødé\r\nline two\t",
            new_value="",
            reason="  name as on the badge  ",
            at=written_at,
        )
        written_hash = entry.hash
    with Session(engine) as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert entry.at == written_at
        assert entry.at.tzinfo is UTC
        assert entry.at.isoformat() == "2026-11-26T16:00:00.000007+00:00"
        assert entry.old_value == "Zoë  Ünïcødé\r\nline two\t"
        assert entry.new_value == ""
        assert entry.reason == "name as on the badge"
        assert chain_hash(entry.prev_hash, entry.chain_fields()) == entry.hash == written_hash


def test_a_reason_is_required(engine: Engine) -> None:
    for reason in ("", "   "):
        refused = pytest.raises(ReasonRequired, match="reason is required")
        with Session(engine) as session, session.begin(), refused:
            append_audit(
                session,
                username="jdoe",
                action="update",
                record_type="user",
                record_id=1,
                reason=reason,
            )
    assert verify_chain(engine).entries_checked == 0


def test_naive_times_are_refused(engine: Engine) -> None:
    refused = pytest.raises(ValueError, match="naive")
    with Session(engine) as session, session.begin(), refused:
        append_audit(
            session,
            username="jdoe",
            action="update",
            record_type="user",
            record_id=1,
            reason="x",
            at=datetime(2026, 1, 1, 12, 0),  # naive: the point of the test
        )


def test_a_rolled_back_entry_leaves_no_gap(engine: Engine) -> None:
    _fill(engine, 3)
    with Session(engine) as session:
        _append(session, 99)
        session.rollback()
    _fill(engine, 2)
    report = verify_chain(engine)
    assert report.ok and report.entries_checked == 5


def test_an_edited_entry_is_named(engine: Engine) -> None:
    _fill(engine, 30)
    _disable_protection(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET new_value = 'LOT-EVIL' WHERE id = 17"))
    report = verify_chain(engine, batch_size=10)
    assert not report.ok
    assert report.first_broken_id == 17
    assert report.entries_checked == 16
    assert "audit entry 17" in report.message
    assert "user jdoe" in report.message
    assert "cleaning_record 16" in report.message
    assert "2026-11-26T08:00:16.123456+00:00" in report.message
    assert "changed after it was written" in report.message


def test_a_deleted_entry_breaks_the_link_of_the_next(engine: Engine) -> None:
    _fill(engine, 12)
    _disable_protection(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entries WHERE id = 5"))
    report = verify_chain(engine)
    assert (report.ok, report.first_broken_id, report.entries_checked) == (False, 6, 4)
    assert "does not link to entry 4" in report.message


def test_a_rehashed_forgery_is_caught_at_the_next_link(engine: Engine) -> None:
    """An attacker who recomputes the hash of the entry they edit still breaks the next link."""
    _fill(engine, 8)
    _disable_protection(engine)
    with Session(engine) as session, session.begin():
        entry = session.get(AuditEntry, 3)
        assert entry is not None
        fields = entry.chain_fields()
        fields["reason"] = "nothing to see"
        forged = chain_hash(entry.prev_hash, fields)
        session.execute(
            text("UPDATE audit_entries SET reason = :r, hash = :h WHERE id = 3"),
            {"r": "nothing to see", "h": forged},
        )
    report = verify_chain(engine)
    assert report.first_broken_id == 4
    assert "does not link to entry 3" in report.message


def test_unreadable_time_is_reported_not_crashed(engine: Engine) -> None:
    _fill(engine, 4)
    _disable_protection(engine)
    garbage = "'yesterday'" if engine.dialect.name == "sqlite" else "'1999-01-01T00:00:00+00'"
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE audit_entries SET at = {garbage} WHERE id = 2"))
    report = verify_chain(engine)
    assert report.first_broken_id == 2


def test_audit_verify_exit_codes(engine: Engine, migrated_url: str) -> None:
    _fill(engine, 5)
    out, err = io.StringIO(), io.StringIO()
    assert audit_verify(migrated_url, out=out, err=err) == EXIT_INTACT
    assert "intact: 5 entries checked" in out.getvalue() and err.getvalue() == ""

    _disable_protection(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET username = 'mallory' WHERE id = 2"))
    out = io.StringIO()
    assert audit_verify(migrated_url, out=out, err=err) == EXIT_BROKEN
    assert "BROKEN at audit entry 2" in out.getvalue()
    assert "user mallory" in out.getvalue()


def test_audit_verify_cannot_open(tmp_path: Path, db_url: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    missing = tmp_path / "nowhere" / "none.sqlite"
    assert audit_verify(f"sqlite:///{missing}", out=out, err=err) == EXIT_UNAVAILABLE
    assert "no such file" in err.getvalue()
    assert not missing.exists()

    err = io.StringIO()
    not_a_db = tmp_path / "notes.sqlite"
    not_a_db.write_text("these are not the records you are looking for\n" * 100)
    assert audit_verify(f"sqlite:///{not_a_db}", out=out, err=err) == EXIT_UNAVAILABLE
    assert "Cannot use the database" in err.getvalue()

    err = io.StringIO()
    other = make_engine(db_url)  # a database, but someone else's
    try:
        with other.begin() as connection:
            connection.execute(text("CREATE TABLE inventory (item VARCHAR(20))"))
    finally:
        other.dispose()
    assert audit_verify(db_url, out=out, err=err) == EXIT_UNAVAILABLE
    assert "not a NECSTGEN Desk database" in err.getvalue()

    err = io.StringIO()
    nobody = "postgresql+psycopg://postgres@127.0.0.1:1/test"
    assert audit_verify(nobody, out=out, err=err) == EXIT_UNAVAILABLE
    assert "does not answer" in err.getvalue()
    assert out.getvalue() == ""


def test_concurrent_writers_keep_one_chain(engine: Engine) -> None:
    per_thread, threads = 40, 3
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(user: str) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                with Session(engine) as session, session.begin():
                    factories_record = factories.cleaning(performed_by=user, n=n)
                    session.add(factories_record)
                    session.flush()
                    _append(session, factories_record.id, user=user)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    workers = [threading.Thread(target=writer, args=(f"user{i}",)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not errors, errors
    report = verify_chain(engine)
    assert report.ok, report.message
    assert report.entries_checked == per_thread * threads
    with Session(engine) as session:
        users = session.scalars(select(AuditEntry.username).order_by(AuditEntry.id)).all()
    # The writers really interleaved, yet the chain has no fork.
    assert any(a != b for a, b in itertools.pairwise(users))
