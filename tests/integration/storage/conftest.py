"""Databases for the storage tests: every test using ``db_url`` runs on both backends.

- ``sqlite``: a new file in the test's tmp folder.
- ``postgresql``: a new schema on ``$NECSTGEN_TEST_PG_URL`` (default
  ``postgresql+psycopg://postgres@127.0.0.1:5432/test``), dropped afterwards;
  skipped with the reason shown when the server does not answer (CI's
  ``.ci/run`` makes sure it does).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from necstgen_desk.storage.engine import make_engine
from necstgen_desk.storage.errors import StorageError
from necstgen_desk.storage.migrate import upgrade_database

PG_URL = os.environ.get("NECSTGEN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class _PgState:
    engine: Engine | None = None
    error: str | None = None


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[_PgState]:
    """One engine on the test server for creating and dropping schemas, or the reason not."""
    state = _PgState()
    engine = make_engine(PG_URL, busy_timeout_s=3.0)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        state.engine = engine
    except StorageError as error:
        state.error = str(error)
        engine.dispose()
    yield state
    if state.engine is not None:
        state.engine.dispose()


def _pg_schema_url(schema: str) -> str:
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (not migrated) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.sqlite'}"
        return
    admin: _PgState = request.getfixturevalue("pg_admin")
    if admin.engine is None:
        pytest.skip(
            f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string()}: {admin.error}"
        )
    schema = f"necstgen_test_{secrets.token_hex(6)}"
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def migrated_url(db_url: str) -> str:
    """``db_url`` brought to the newest schema."""
    upgrade_database(db_url)
    return db_url


def assert_no_checked_out(engine: Engine) -> None:
    pool = engine.pool
    if isinstance(pool, QueuePool):
        assert pool.checkedout() == 0, f"{pool.checkedout()} connection(s) left checked out"


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    """An engine on the migrated database; fails the test if it leaks a connection."""
    made = make_engine(migrated_url)
    try:
        yield made
        assert_no_checked_out(made)
    finally:
        made.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as opened:
        yield opened
