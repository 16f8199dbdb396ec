"""Migrations: they build the schema the models describe, on both backends, after a backup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from necstgen_desk.storage.engine import make_engine
from necstgen_desk.storage.errors import SchemaTooNew
from necstgen_desk.storage.migrate import database_revision, head_revision, upgrade_database
from necstgen_desk.storage.models import Base
from tests.integration.storage.conftest import assert_no_checked_out


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    assert upgrade_database(db_url) is None  # a new database: nothing to back up
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        assert database_revision(engine) == head_revision()
        assert_no_checked_out(engine)
    finally:
        engine.dispose()


def test_upgrading_a_current_database_does_nothing(migrated_url: str) -> None:
    assert upgrade_database(migrated_url) is None


def _legacy_file(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE legacy_notes (note TEXT)")
        connection.execute("INSERT INTO legacy_notes VALUES ('written before the upgrade')")
    connection.close()


def _tables(path: Path) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}
    finally:
        connection.close()


def test_existing_sqlite_file_is_backed_up_before_upgrading(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite"
    _legacy_file(path)
    backup = upgrade_database(f"sqlite:///{path}")
    assert backup is not None
    assert backup.parent == tmp_path
    assert backup.name.startswith("desk.backup-")
    assert backup.name.endswith("-empty.sqlite")  # the revision it had: none
    # The copy is the database as it was: the old table, none of the new ones.
    assert _tables(backup) == {"legacy_notes"}
    assert {"legacy_notes", "audit_entries", "alembic_version"} <= _tables(path)


def test_backup_goes_to_the_folder_given(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite"
    _legacy_file(path)
    folder = tmp_path / "backups"
    backup = upgrade_database(f"sqlite:///{path}", backup_dir=folder)
    assert backup is not None and backup.parent == folder and backup.is_file()


def test_a_database_from_a_newer_version_is_refused_untouched(db_url: str) -> None:
    upgrade_database(db_url)
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'f00dface'"))
        with pytest.raises(SchemaTooNew, match="newer version"):
            upgrade_database(db_url)
        assert database_revision(engine) == "f00dface"
    finally:
        engine.dispose()


def test_sqlite_connections_are_set_up_for_records(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    try:
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        engine.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 5000,
    }
