"""Schema migrations at start-up, after a backup copy of a SQLite file.

The Alembic scripts live in the package (``migrations/``); the configuration is
built here in code, so no ``alembic.ini`` is needed at run time. For a new
revision during development::

    from alembic import command
    from necstgen_desk.storage.migrate import alembic_config
    command.revision(alembic_config("sqlite:///dev.sqlite"), "what changes", autogenerate=True)
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine

from necstgen_desk.storage.engine import (
    BUSY_TIMEOUT_S,
    describe_url,
    for_reading,
    make_engine,
    normalise_url,
    sqlite_path,
)
from necstgen_desk.storage.errors import SchemaTooNew, storage_error_from

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str | URL | None = None, *, connection: Connection | None = None) -> Config:
    """An Alembic configuration for our scripts; ``connection`` (preferred) or ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        rendered = normalise_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this version of the program knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migration scripts"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()


def database_revision(engine: Engine) -> str | None:
    """:func:`current_revision` through a short read transaction."""
    with for_reading(engine).connect() as connection:
        return current_revision(connection)


def _check_known(revision: str | None, where: str) -> None:
    if revision is None:
        return
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if revision not in known:
        raise SchemaTooNew(
            f"The database {where} is at schema revision {revision}, which this version of "
            "NECSTGEN Desk does not know: it was upgraded by a newer version. "
            "Use that version (or a newer one)."
        )


def backup_path_for(path: Path, revision: str | None, backup_dir: Path | None = None) -> Path:
    """``<stem>.backup-<UTC timestamp>-<revision>.sqlite`` next to ``path``, or in
    ``backup_dir``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = backup_dir if backup_dir is not None else path.parent
    base = f"{path.stem}.backup-{stamp}-{revision or 'empty'}"
    candidate = folder / f"{base}.sqlite"
    counter = 2
    while candidate.exists():
        candidate = folder / f"{base}-{counter}.sqlite"
        counter += 1
    return candidate


def backup_sqlite(source: Path, destination: Path) -> Path:
    """Copy the SQLite database ``source`` with the online backup API (a consistent
    copy even while others write) to ``destination``; returns ``destination``."""
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        with (
            _closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)) as src,
            _closing(sqlite3.connect(destination)) as dst,
        ):
            src.backup(dst)
    except (sqlite3.Error, OSError) as error:
        translated = storage_error_from(error, str(source))
        if translated is None:
            raise
        raise type(translated)(f"Backup before upgrading failed: {translated}") from error
    return destination


class _closing:
    """``contextlib.closing`` for sqlite3 connections (typed, and closes on errors)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


def _has_content(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    try:
        return path.exists() and (path.stat().st_size > 0 or wal.exists())
    except OSError:
        return False


def upgrade_database(url: str | URL, *, backup_dir: Path | None = None) -> Path | None:
    """Bring the database at ``url`` to the newest schema; returns the backup made, if any.

    An existing SQLite file with pending migrations is first copied with the
    SQLite online backup API to ``<stem>.backup-<UTC timestamp>-<revision>.sqlite``
    next to it (or in ``backup_dir``); a failed backup stops the upgrade. A new
    file, a database already at the newest revision and PostgreSQL (back it up
    with its own tools) get no copy.

    Raises :class:`SchemaTooNew` for a database written by a newer version, and
    the :class:`~necstgen_desk.storage.errors.StorageEnvironmentError` family
    when the database cannot be used.
    """
    parsed = normalise_url(url)
    where = describe_url(parsed)
    path = sqlite_path(parsed)
    existed = path is not None and _has_content(path)
    engine = make_engine(parsed)
    try:
        revision = database_revision(engine)
        if revision == head_revision():
            return None
        _check_known(revision, where)
        backup: Path | None = None
        if path is not None and existed:
            backup = backup_sqlite(path, backup_path_for(path, revision, backup_dir))
        with engine.connect() as connection:
            command.upgrade(alembic_config(connection=connection), "head")
            if connection.in_transaction():
                connection.commit()
        return backup
    finally:
        engine.dispose()
