"""Alembic environment: run by :func:`necstgen_desk.storage.migrate.upgrade_database`.

The caller passes an open connection in ``config.attributes["connection"]``
(an engine from :func:`~necstgen_desk.storage.engine.make_engine`, so the
SQLite pragmas and ``BEGIN IMMEDIATE`` apply). Without one, the URL comes from
the ``sqlalchemy.url`` option or :func:`~necstgen_desk.storage.engine.default_db_url`.

Every migration runs in one transaction on both backends (SQLite DDL is
transactional once SQLAlchemy emits BEGIN itself), so a migration interrupted
by a crash leaves the database as it was. On PostgreSQL an advisory lock keeps
two desks starting at once from migrating together.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from necstgen_desk.storage.engine import default_db_url, make_engine
from necstgen_desk.storage.models import Base

# Any constant: the advisory lock key of "a migration runs".
MIGRATION_LOCK_KEY = 0x4E4543_4D4947  # "NEC" "MIG"

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or default_db_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or default_db_url())
    try:
        with engine.connect() as own:
            _run(own)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
