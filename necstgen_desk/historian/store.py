"""The historian's SQL, for SQLite and PostgreSQL alike.

Tables come from :mod:`necstgen_desk.storage.models` (migration
r0003_historian). Roll-ups are written as *deltas merged into the stored row*
(``INSERT … ON CONFLICT DO UPDATE``): count and good count add up, min/max take
the extreme, the mean is weighted by the good counts, the worst quality is the
larger code, the last quality is the one of the later ``last_t`` (the worse on a tie). So a bucket
may be stored in any number of pieces — a partial bucket at shutdown, the rest
after the restart, a late sample — and ends up as the roll-up of all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    ScalarSelect,
    Table,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from necstgen_desk.historian.model import MINUTE_US, QUARTER_HOUR_US
from necstgen_desk.historian.recording import Bucket
from necstgen_desk.storage.models import Base

__all__ = [
    "ARCHIVE_LOG",
    "POINTS",
    "RAW",
    "ROLLUP_TABLES",
    "TIER_WIDTHS",
    "bucket_row",
    "insert_raw",
    "load_point_ids",
    "merge_rollups",
    "newest_raw_t",
    "register_points",
]

POINTS: Table = Base.metadata.tables["hist_points"]
RAW: Table = Base.metadata.tables["hist_raw"]
MINUTE: Table = Base.metadata.tables["hist_1m"]
QUARTER_HOUR: Table = Base.metadata.tables["hist_15m"]
ARCHIVE_LOG: Table = Base.metadata.tables["hist_archive_log"]

#: The roll-up tiers, finest first, and their bucket widths (µs).
ROLLUP_TABLES: tuple[Table, ...] = (MINUTE, QUARTER_HOUR)
TIER_WIDTHS: tuple[int, ...] = (MINUTE_US, QUARTER_HOUR_US)


def newest_raw_t() -> ScalarSelect[int]:
    """Each point's newest raw sample time (µs), correlated to ``hist_points.id``:
    one index look-up a point when selected beside ``POINTS.c.id``."""
    return (
        select(RAW.c.t).where(RAW.c.point == POINTS.c.id).order_by(RAW.c.t.desc()).limit(1)
    ).scalar_subquery()


#: Rows per statement when a list of point ids goes into an IN clause.
_IN_CHUNK = 500


type _Insert = postgresql.Insert | sqlite.Insert


def _insert(connection: Connection, table: Table) -> _Insert:
    """``INSERT`` with the dialect's ``ON CONFLICT`` support."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_raw(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert raw samples (``point, t, value, quality, reason``); a row whose
    (point, t) is already stored is left as it was."""
    if not rows:
        return
    stmt = _insert(connection, RAW)
    connection.execute(
        stmt.on_conflict_do_nothing(index_elements=[RAW.c.point, RAW.c.t]), list(rows)
    )


def bucket_row(point: int, bucket: Bucket) -> dict[str, Any]:
    """The roll-up row of ``bucket`` (a delta to merge)."""
    return {
        "point": point,
        "bucket": bucket.start,
        "sample_count": bucket.count,
        "good_count": bucket.good,
        "min_value": bucket.minimum,
        "max_value": bucket.maximum,
        "mean_value": bucket.mean,
        "worst_quality": bucket.worst,
        "last_quality": bucket.last_quality,
        "first_t": bucket.first_t,
        "last_t": bucket.last_t,
    }


def _merge_set(table: Table, excluded: Any) -> dict[str, Any]:
    c = table.c
    good = c.good_count + excluded.good_count

    def extreme(column: str, pick_new: Any) -> Any:
        old, new = c[column], excluded[column]
        return case(
            (old.is_(None), new),
            (new.is_(None), old),
            (pick_new, new),
            else_=old,
        )

    later = or_(
        excluded.last_t > c.last_t,
        and_(excluded.last_t == c.last_t, excluded.last_quality > c.last_quality),
    )
    return {
        "sample_count": c.sample_count + excluded.sample_count,
        "good_count": good,
        "min_value": extreme("min_value", excluded.min_value < c.min_value),
        "max_value": extreme("max_value", excluded.max_value > c.max_value),
        "mean_value": case(
            (good == 0, literal(None)),
            else_=(
                func.coalesce(c.mean_value, 0.0) * c.good_count
                + func.coalesce(excluded.mean_value, 0.0) * excluded.good_count
            )
            / good,
        ),
        "worst_quality": case(
            (excluded.worst_quality > c.worst_quality, excluded.worst_quality),
            else_=c.worst_quality,
        ),
        "last_quality": case((later, excluded.last_quality), else_=c.last_quality),
        "last_t": case((later, excluded.last_t), else_=c.last_t),
        "first_t": case((excluded.first_t < c.first_t, excluded.first_t), else_=c.first_t),
    }


def merge_rollups(connection: Connection, tier: int, rows: Sequence[Mapping[str, Any]]) -> None:
    """Merge roll-up deltas into tier ``tier`` (0: 1 minute, 1: 15 minutes).

    ``rows`` must not name the same (point, bucket) twice (PostgreSQL refuses
    to update one row twice in a statement): merge such deltas first.
    """
    if not rows:
        return
    table = ROLLUP_TABLES[tier]
    stmt = _insert(connection, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.point, table.c.bucket],
        set_=_merge_set(table, stmt.excluded),
    )
    connection.execute(stmt, list(rows))


def load_point_ids(connection: Connection) -> dict[str, int]:
    """Every recorded point: its id string → its small integer."""
    rows = connection.execute(select(POINTS.c.point_id, POINTS.c.id))
    return {point_id: ident for point_id, ident in rows}


def register_points(
    connection: Connection,
    point_ids: Iterable[str],
    critical: Iterable[str] = (),
    *,
    now: datetime | None = None,
) -> dict[str, int]:
    """Make sure every point has its row (and that critical ones say so); returns
    the whole mapping. ``critical`` only ever turns on."""
    when = now or datetime.now(UTC)
    critical_set = set(critical)
    known = load_point_ids(connection)
    missing = [p for p in dict.fromkeys(point_ids) if p not in known]
    if missing:
        stmt = _insert(connection, POINTS).on_conflict_do_nothing(
            index_elements=[POINTS.c.point_id]
        )
        connection.execute(
            stmt,
            [{"point_id": p, "critical": p in critical_set, "created_at": when} for p in missing],
        )
    flagged = sorted(critical_set)
    for i in range(0, len(flagged), _IN_CHUNK):
        chunk = flagged[i : i + _IN_CHUNK]
        connection.execute(
            update(POINTS)
            .where(and_(POINTS.c.point_id.in_(chunk), POINTS.c.critical.is_(False)))
            .values(critical=True)
        )
    return load_point_ids(connection) if missing else known
