"""The services over a migrated database on each backend (SQLite file, PostgreSQL
schema), with a fake clock, fake release blockers and cheap password hashing.

The database fixtures are the storage tests' (``db_url`` runs every test on
both backends and skips PostgreSQL, saying why, when it does not answer).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from necstgen_desk.services import Records
from tests.integration.services.helpers import (
    FAST_POLICY,
    LOCAL,
    SITE,
    Env,
    FakeBlockers,
    FakeClock,
)
from tests.integration.storage.conftest import db_url, engine, migrated_url, pg_admin

__all__ = ["db_url", "engine", "migrated_url", "pg_admin"]


@pytest.fixture
def env(engine: Engine) -> Env:
    clock = FakeClock()
    blockers = FakeBlockers()
    records = Records(
        engine,
        site=SITE,
        clock=clock,
        password_policy=FAST_POLICY,
        blockers=blockers,
        local_tz=LOCAL,
    )
    made = Env(records=records, clock=clock, blockers=blockers, engine=engine)
    records.on_change(made.changes.append)
    return made
