"""Engines for SQLite (the default) and PostgreSQL, set up for GMP records.

SQLite (a file in the user data folder unless ``--db``/``NECSTGEN_DB_URL`` says
otherwise): write-ahead log, foreign keys on, a busy timeout of 5 s, and
``synchronous=FULL`` so a record the user was told is saved survives a power
cut. SQLAlchemy, not the ``sqlite3`` module, emits ``BEGIN``: a transaction
starts with ``BEGIN IMMEDIATE`` (it takes the write lock at once, so two
writers queue behind the busy timeout instead of failing half-way) unless the
engine comes from :func:`for_reading` (``BEGIN DEFERRED``: readers never wait
for a writer in WAL mode).

Keep write transactions short: on SQLite an open session on this engine holds
the write lock from its first statement until commit or rollback, so end every
unit of work (``with Session(engine) as s, s.begin(): ...``) and read for
viewers through :func:`for_reading`.

PostgreSQL (``postgresql+psycopg://…``; ``postgresql://`` means the same):
sessions run in UTC, a lock wait longer than the busy timeout fails, the pool
pings connections before use.

Both engines turn the driver's "locked", "disk full", "cannot open",
"unreachable" errors into :mod:`necstgen_desk.storage.errors` exceptions.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from necstgen_desk.storage.errors import (
    AppendOnlyViolation,
    DatabaseBusy,
    DatabaseUnavailable,
    DiskFull,
    ReasonRequired,
    SchemaTooNew,
    StorageEnvironmentError,
    StorageError,
    storage_error_from,
)

__all__ = [
    "APP_NAME",
    "BUSY_TIMEOUT_S",
    "DB_FILE_NAME",
    "ENV_DB_URL",
    "AppendOnlyViolation",
    "DatabaseBusy",
    "DatabaseUnavailable",
    "DiskFull",
    "ReasonRequired",
    "SchemaTooNew",
    "StorageEnvironmentError",
    "StorageError",
    "default_db_url",
    "describe_url",
    "for_reading",
    "is_sqlite",
    "make_engine",
    "normalise_url",
    "session_factory",
    "sqlite_path",
]

APP_NAME = "necstgen-desk"
DB_FILE_NAME = "necstgen-desk.sqlite"
ENV_DB_URL = "NECSTGEN_DB_URL"
BUSY_TIMEOUT_S = 5.0

# Execution option naming the BEGIN of SQLite transactions on an engine.
_BEGIN_OPTION = "necstgen_sqlite_begin"


def default_db_url() -> str:
    """``$NECSTGEN_DB_URL`` if set, else the SQLite file in the user data folder.

    The folder is created when missing (it is ours).
    """
    from_env = os.environ.get(ENV_DB_URL, "").strip()
    if from_env:
        return from_env
    folder = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, ensure_exists=True))
    return URL.create("sqlite+pysqlite", database=str(folder / DB_FILE_NAME)).render_as_string()


def normalise_url(url: str | URL) -> URL:
    """The URL with our drivers: ``sqlite+pysqlite`` and ``postgresql+psycopg``."""
    parsed = make_url(url) if isinstance(url, str) else url
    backend, _, driver = parsed.drivername.partition("+")
    if backend in {"postgresql", "postgres"} and driver in {"", "psycopg2", "psycopg"}:
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "postgres":
        return parsed.set(drivername=f"postgresql+{driver}")
    if backend == "sqlite" and not driver:
        return parsed.set(drivername="sqlite+pysqlite")
    return parsed


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for an in-memory SQLite or another database."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in {"", ":memory:"} or database.startswith("file:"):
        return None
    return Path(database)


def is_sqlite(url_or_engine: str | URL | Engine | Connection) -> bool:
    if isinstance(url_or_engine, Engine | Connection):
        return url_or_engine.dialect.name == "sqlite"
    return normalise_url(url_or_engine).get_backend_name() == "sqlite"


def describe_url(url: str | URL) -> str:
    """The database for a message: a SQLite file path, else the URL without its password."""
    path = sqlite_path(url)
    if path is not None:
        return str(path)
    return normalise_url(url).render_as_string(hide_password=True)


def make_engine(
    url: str | URL | None = None,
    *,
    busy_timeout_s: float = BUSY_TIMEOUT_S,
    echo: bool = False,
) -> Engine:
    """An engine for ``url`` (default: :func:`default_db_url`), set up as the module says.

    Nothing connects yet: a missing file or an unreachable server shows at the
    first use, as :class:`DatabaseUnavailable`.
    """
    parsed = normalise_url(url if url is not None else default_db_url())
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = _sqlite_engine(parsed, busy_timeout_s, echo)
    elif backend == "postgresql":
        engine = _postgres_engine(parsed, busy_timeout_s, echo)
    else:
        raise DatabaseUnavailable(
            f"Unsupported database {describe_url(parsed)}: "
            "use a SQLite file (sqlite:///path) or PostgreSQL (postgresql+psycopg://…)."
        )
    where = describe_url(parsed)

    @event.listens_for(engine, "handle_error")
    def _translate(context: ExceptionContext) -> BaseException | None:
        if context.is_pre_ping:
            return None
        return storage_error_from(context.original_exception, where)

    return engine


def _sqlite_engine(url: URL, busy_timeout_s: float, echo: bool) -> Engine:
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"timeout": busy_timeout_s},
        pool_size=5,
        max_overflow=10,
    )
    busy_ms = round(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        assert isinstance(dbapi_connection, sqlite3.Connection)
        # SQLAlchemy emits BEGIN itself (see _on_begin); the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _postgres_engine(url: URL, busy_timeout_s: float, echo: bool) -> Engine:
    busy_ms = round(busy_timeout_s * 1000)
    connect_args: dict[str, Any] = {
        "connect_timeout": max(1, round(busy_timeout_s)),
        "application_name": APP_NAME,
    }
    # Ours first: options in the URL (e.g. a search_path) still apply, and win.
    given = url.query.get("options", "")
    given_text = given if isinstance(given, str) else " ".join(given)
    connect_args["options"] = f"-c timezone=UTC -c lock_timeout={busy_ms} {given_text}".strip()
    return create_engine(
        url,
        echo=echo,
        connect_args=connect_args,
        pool_size=5,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def for_reading(engine: Engine) -> Engine:
    """The same engine (same pool) whose SQLite transactions start ``BEGIN DEFERRED``.

    For viewers and the chain check: they never wait for a writer. A write
    through it may meet :class:`DatabaseBusy` where the default engine would
    have queued.
    """
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{_BEGIN_OPTION: "DEFERRED"})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (records do not change)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
