"""URLs, the default database, and the errors the storage layer explains."""

from __future__ import annotations

import errno
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from necstgen_desk.storage.engine import (
    default_db_url,
    describe_url,
    for_reading,
    is_sqlite,
    make_engine,
    normalise_url,
    sqlite_path,
)
from necstgen_desk.storage.errors import (
    AppendOnlyViolation,
    DatabaseBusy,
    DatabaseUnavailable,
    DiskFull,
    StorageEnvironmentError,
    storage_error_from,
)
from necstgen_desk.storage.migrate import backup_path_for


def test_default_url_is_a_sqlite_file_in_the_user_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NECSTGEN_DB_URL", raising=False)
    seen: dict[str, object] = {}

    def fake_user_data_dir(appname: str, **kwargs: object) -> str:
        seen.update(kwargs, appname=appname)
        return str(tmp_path / "data")

    monkeypatch.setattr("platformdirs.user_data_dir", fake_user_data_dir)
    url = default_db_url()
    assert sqlite_path(url) == tmp_path / "data" / "necstgen-desk.sqlite"
    assert seen["appname"] == "necstgen-desk" and seen["ensure_exists"] is True


def test_environment_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NECSTGEN_DB_URL", "postgresql://desk@db.example/gmp")
    assert default_db_url() == "postgresql://desk@db.example/gmp"


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///x.sqlite", "sqlite+pysqlite"),
    ],
)
def test_urls_get_our_drivers(given: str, driver: str) -> None:
    assert normalise_url(given).drivername == driver


def test_describe_hides_the_password_and_shows_sqlite_paths() -> None:
    assert describe_url("postgresql://desk:s3cret@db/gmp") == (
        "postgresql+psycopg://desk:***@db/gmp"
    )
    assert describe_url("sqlite:////var/lib/desk.sqlite") == "/var/lib/desk.sqlite"
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("postgresql://h/db") is None
    assert is_sqlite("sqlite:///a.db") and not is_sqlite("postgresql://h/db")


def test_unsupported_databases_are_refused_plainly() -> None:
    with pytest.raises(DatabaseUnavailable, match="Unsupported database"):
        make_engine("mysql://u@h/db")


def test_reading_engine_shares_the_pool(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.sqlite'}")
    try:
        reading = for_reading(engine)
        assert reading.pool is engine.pool
        with reading.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    finally:
        engine.dispose()


def _sqlite_error(cls: type[sqlite3.Error], message: str, code: int) -> sqlite3.Error:
    error = cls(message)
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_sqlite_error(sqlite3.OperationalError, "database is locked", 5), DatabaseBusy),
        (_sqlite_error(sqlite3.OperationalError, "database or disk is full", 13), DiskFull),
        (
            _sqlite_error(sqlite3.OperationalError, "unable to open database file", 14),
            DatabaseUnavailable,
        ),
        (_sqlite_error(sqlite3.DatabaseError, "file is not a database", 26), DatabaseUnavailable),
        (
            _sqlite_error(
                sqlite3.IntegrityError, "audit_entries is append-only: UPDATE refused", 1811
            ),
            AppendOnlyViolation,
        ),
        (psycopg.OperationalError("connection failed: Connection refused"), DatabaseUnavailable),
        (psycopg.errors.DiskFull("could not extend file"), DiskFull),
        (psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"), DatabaseBusy),
        (OSError(errno.ENOSPC, "No space left on device"), DiskFull),
    ],
)
def test_environment_errors_are_explained(error: BaseException, expected: type) -> None:
    translated = storage_error_from(error, "/data/desk.sqlite")
    assert isinstance(translated, expected)
    if isinstance(translated, StorageEnvironmentError):
        assert translated.environment
    assert "Traceback" not in str(translated)


@pytest.mark.parametrize(
    "error",
    [
        _sqlite_error(sqlite3.OperationalError, "no such table: audit_entries", 1),
        _sqlite_error(sqlite3.IntegrityError, "UNIQUE constraint failed: users.username", 2067),
        psycopg.errors.UndefinedTable("relation does not exist"),
        ValueError("a bug"),
    ],
)
def test_bugs_are_not_disguised(error: BaseException) -> None:
    assert storage_error_from(error) is None


def test_busy_message_names_the_database() -> None:
    error = _sqlite_error(sqlite3.OperationalError, "database is locked", 5)
    assert str(storage_error_from(error, "/data/desk.sqlite")).startswith(
        "The database /data/desk.sqlite is busy"
    )


def test_backup_names(tmp_path: Path) -> None:
    path = tmp_path / "necstgen-desk.sqlite"
    first = backup_path_for(path, "0001")
    assert first.parent == tmp_path
    assert first.name.startswith("necstgen-desk.backup-")
    stamp = first.name.split("-")[-2]  # ...backup-<stamp>-0001.sqlite
    assert datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) <= datetime.now(UTC)
    assert first.name.endswith("-0001.sqlite")
    first.touch()
    assert backup_path_for(path, "0001") != first  # never overwrites an older backup
    assert backup_path_for(path, None, tmp_path / "b").parent == tmp_path / "b"
    assert make_url(f"sqlite:///{path}").database == str(path)
