"""Storage: SQLAlchemy models, engines for SQLite and PostgreSQL, migrations, the audit chain.

See ADR 0003. The public entry points:

- :func:`make_engine`, :func:`default_db_url`, :func:`for_reading`, :func:`session_factory`
- :func:`upgrade_database` (at start-up: backup of a SQLite file, then migrate)
- :func:`append_audit`, :func:`verify_chain`
- :mod:`necstgen_desk.storage.repo` for records
- :mod:`necstgen_desk.storage.errors` for what can go wrong
"""

from necstgen_desk.storage.audit import ChainReport, append_audit, verify_chain
from necstgen_desk.storage.engine import (
    default_db_url,
    for_reading,
    make_engine,
    session_factory,
)
from necstgen_desk.storage.errors import (
    AppendOnlyViolation,
    DatabaseBusy,
    DatabaseUnavailable,
    DiskFull,
    ReasonRequired,
    SchemaTooNew,
    StorageEnvironmentError,
    StorageError,
)
from necstgen_desk.storage.migrate import upgrade_database

__all__ = [
    "AppendOnlyViolation",
    "ChainReport",
    "DatabaseBusy",
    "DatabaseUnavailable",
    "DiskFull",
    "ReasonRequired",
    "SchemaTooNew",
    "StorageEnvironmentError",
    "StorageError",
    "append_audit",
    "default_db_url",
    "for_reading",
    "make_engine",
    "session_factory",
    "upgrade_database",
    "verify_chain",
]
