"""A locked or full database gives a plain error and loses nothing already saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from necstgen_desk.storage.audit import append_audit, verify_chain
from necstgen_desk.storage.engine import make_engine
from necstgen_desk.storage.errors import DatabaseBusy, DatabaseUnavailable, DiskFull
from necstgen_desk.storage.migrate import upgrade_database


def _append(session: Session, n: int) -> None:
    append_audit(
        session,
        username="jdoe",
        action="note",
        record_type="room",
        record_id="B-01",
        new_value="x" * n,
        reason="test",
    )


def _write_a_lot(session: Session) -> None:
    for n in range(200):
        _append(session, 5000 + n)
    session.commit()


def test_a_writer_holding_the_lock_makes_others_busy_not_broken(migrated_url: str) -> None:
    holder = make_engine(migrated_url)
    waiter = make_engine(migrated_url, busy_timeout_s=0.3)
    try:
        with Session(holder) as holding:
            _append(holding, 1)  # holds SQLite's write lock / PostgreSQL's audit lock
            with Session(waiter) as waiting, pytest.raises(DatabaseBusy, match="busy"):
                _append(waiting, 2)
            holding.commit()
        with Session(waiter) as waiting, waiting.begin():
            _append(waiting, 3)  # the lock is free again
        report = verify_chain(waiter)
        assert report.ok and report.entries_checked == 2
    finally:
        holder.dispose()
        waiter.dispose()


def test_a_full_disk_is_reported_and_the_saved_trail_survives(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'full.sqlite'}"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            _append(session, 10)
        with Session(engine) as session:
            # Cap the file at its current size: the next pages have nowhere to go.
            pages = session.execute(text("PRAGMA page_count")).scalar()
            session.execute(text(f"PRAGMA max_page_count = {pages}"))
            with pytest.raises(DiskFull, match="full"):
                _write_a_lot(session)
            session.rollback()
    finally:
        engine.dispose()
    engine = make_engine(url)
    try:
        report = verify_chain(engine)
        assert report.ok and report.entries_checked == 1
    finally:
        engine.dispose()


def test_a_missing_folder_is_unavailable(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder.sqlite'}")
    try:
        with pytest.raises(DatabaseUnavailable, match="Cannot use the database"):
            verify_chain(engine)
    finally:
        engine.dispose()
