"""Where a time-lapse demo's clock starts: never before what its database holds.

A time-lapse (``--speed N``, ADR 0006) writes records, alarms and samples on the
plant's clock, which runs ahead of the wall clock. A later run must not start
the plant's time again at the wall time, or its records would sort before the
earlier run's and its samples fall into the same historian buckets. So the
clock starts at the newest time the database already holds (plus a second),
or at the wall time if that is later.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from necstgen_desk.historian.model import to_seconds
from necstgen_desk.historian.store import newest_raw_t
from necstgen_desk.storage.engine import for_reading, make_engine, sqlite_path
from necstgen_desk.storage.models import AlarmJournalEntry, AuditEntry
from necstgen_desk.storage.types import as_utc

log = logging.getLogger(__name__)

#: The next run starts this long after the newest stored time.
RESUME_GAP_S = 1.0


def newest_recorded_time(db_url: str) -> float | None:
    """The newest time (epoch seconds) of an audit entry, alarm event or historian
    sample in the database; None when it holds none or cannot be read (the
    records' own start reports why)."""
    path = sqlite_path(db_url)
    if path is not None and not path.exists():
        return None  # a first run: nothing to continue from (and nothing created here)
    engine = make_engine(db_url)
    try:
        with for_reading(engine).connect() as connection:
            found: list[float] = []
            for model in (AuditEntry, AlarmJournalEntry):
                at = connection.execute(select(func.max(model.at))).scalar()
                if isinstance(at, datetime):
                    found.append(as_utc(at).timestamp())
            t_us = connection.execute(select(func.max(newest_raw_t()))).scalar()
            if t_us is not None:
                found.append(to_seconds(int(t_us)))
            return max(found, default=None)
    except SQLAlchemyError as error:  # not migrated yet, or not reachable
        log.info("time-lapse: no stored time to continue from (%s)", error.__class__.__name__)
        return None
    finally:
        engine.dispose()


def resume_at(db_url: str, wall_now: float) -> float:
    """Where the plant's clock starts for a time-lapse on ``db_url``."""
    newest = newest_recorded_time(db_url)
    if newest is None or newest + RESUME_GAP_S <= wall_now:
        return wall_now
    return newest + RESUME_GAP_S
