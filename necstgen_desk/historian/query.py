"""The historian's read side: any point over any period, fast.

:class:`HistorianQuery` is synchronous and meant for a worker thread (the UI
calls it through its ``ServiceWorker``); it reads through
:func:`~necstgen_desk.storage.engine.for_reading`, so it never waits for the
writer. :meth:`HistorianQuery.series` picks the tier by the span asked:

- raw samples when the span needs finer than one-minute resolution (span /
  ``max_points`` under a minute) and holds at most ``raw_limit`` of them, or
  whenever the span holds no more than ``max_points`` samples;
- else the 1-minute roll-ups while span / ``max_points`` is under 15 minutes;
- else the 15-minute roll-ups.

Whatever the tier, the result has at most about ``max_points`` entries
(plus one NaN marker per gap), each with min, max and mean: an envelope a
plot can fill, in which a spike never disappears. Seven days at 1 Hz
(604,800 samples) load as 1,680 six-minute entries from 10,080 one-minute
rows (about 40 ms on SQLite; ``benchmarks/historian.py``).

Roll-up buckets are written when they close; the stretch after the newest
stored bucket (the minutes the writer still holds open) is rolled up here
from the recorded samples, so a trend always reaches the present.
"""

from __future__ import annotations

import math
import threading
import time
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import cast

from sqlalchemy import Connection, Engine, Table, and_, func, select

from necstgen_desk.historian.coverage import not_good_stretches
from necstgen_desk.historian.model import (
    MINUTE_US,
    NO_DATA,
    QUARTER_HOUR_US,
    US_PER_S,
    Gap,
    HistorianSettings,
    Instant,
    PointPolicy,
    RawSample,
    Series,
    Tier,
    quality_of,
    to_us,
)
from necstgen_desk.historian.recording import GOOD, Bucket
from necstgen_desk.historian.store import POINTS, RAW, ROLLUP_TABLES
from necstgen_desk.storage.engine import for_reading

__all__ = ["HistorianQuery", "RollupRow"]

_NAN = math.nan

#: (bucket, count, good, min, max, mean, worst, last_quality, first_t, last_t)
type RollupRow = tuple[int, int, int, float | None, float | None, float | None, int, int, int, int]


class _Out:
    """The arrays of a series under construction."""

    __slots__ = ("count", "maximum", "mean", "minimum", "times", "worst")

    def __init__(self) -> None:
        self.times: array[float] = array("d")
        self.minimum: array[float] = array("d")
        self.maximum: array[float] = array("d")
        self.mean: array[float] = array("d")
        self.worst: array[int] = array("b")
        self.count: array[int] = array("q")

    def add(
        self,
        t_us: int,
        lo: float | None,
        hi: float | None,
        mean: float | None,
        worst: int,
        count: int,
    ) -> None:
        self.times.append(t_us / US_PER_S)
        self.minimum.append(_NAN if lo is None else lo)
        self.maximum.append(_NAN if hi is None else hi)
        self.mean.append(_NAN if mean is None else mean)
        self.worst.append(worst)
        self.count.append(count)

    def add_bucket(self, t_us: int, bucket: Bucket) -> None:
        self.add(t_us, bucket.minimum, bucket.maximum, bucket.mean, bucket.worst, bucket.count)


class HistorianQuery:
    """Reads the historian (module docstring). ``policies`` give each point's
    forced interval, which is how long a GOOD recorded sample vouches for the
    value (see :mod:`~necstgen_desk.historian.coverage`)."""

    def __init__(
        self,
        engine: Engine,
        *,
        policies: Mapping[str, PointPolicy] | None = None,
        settings: HistorianSettings | None = None,
        raw_limit: int = 20_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = for_reading(engine)
        self._policies = dict(policies or {})
        self._default = (settings or HistorianSettings()).default_policy()
        self._raw_limit = raw_limit
        self._clock = clock
        self._ids: dict[str, int] = {}
        self._ids_lock = threading.Lock()

    # ------------------------------------------------------------ points

    def point_ids(self) -> list[str]:
        """Every point with a record, sorted."""
        with self._engine.connect() as connection:
            return sorted(connection.execute(select(POINTS.c.point_id)).scalars())

    def _hist_id(self, connection: Connection, point_id: str) -> int | None:
        with self._ids_lock:
            known = self._ids.get(point_id)
        if known is not None:
            return known
        found = connection.execute(
            select(POINTS.c.id).where(POINTS.c.point_id == point_id)
        ).scalar()
        if found is not None:
            with self._ids_lock:
                self._ids[point_id] = found
        return found

    def _hold_us(self, point_id: str) -> int:
        policy = self._policies.get(point_id, self._default)
        # A forced interval of 0 records every sample: a sample vouches for the
        # time to the next one, up to one default interval; and for two scans
        # more, as a read two periods late is still not STALE (PointPolicy).
        forced = policy.forced_s or self._default.forced_s
        return round((forced + 2 * policy.scan_s) * US_PER_S)

    # ------------------------------------------------------------ raw

    def raw(self, point_id: str, start: Instant, end: Instant) -> list[RawSample]:
        """The recorded samples in ``[start, end)``, oldest first."""
        s_us, e_us = _range(start, end)
        with self._engine.connect() as connection:
            hist_id = self._hist_id(connection, point_id)
            if hist_id is None:
                return []
            rows = connection.execute(
                select(RAW.c.t, RAW.c.value, RAW.c.quality, RAW.c.reason)
                .where(and_(RAW.c.point == hist_id, RAW.c.t >= s_us, RAW.c.t < e_us))
                .order_by(RAW.c.t)
            ).all()
        return [_raw_sample(t, v, q, r) for t, v, q, r in rows]

    def last_sample(self, point_id: str) -> RawSample | None:
        """The newest recorded sample (a sample within the deadband of it may be newer)."""
        with self._engine.connect() as connection:
            hist_id = self._hist_id(connection, point_id)
            if hist_id is None:
                return None
            row = connection.execute(
                select(RAW.c.t, RAW.c.value, RAW.c.quality, RAW.c.reason)
                .where(RAW.c.point == hist_id)
                .order_by(RAW.c.t.desc())
                .limit(1)
            ).first()
        return None if row is None else _raw_sample(*row)

    def rollups(self, point_id: str, tier: Tier, start: Instant, end: Instant) -> list[RollupRow]:
        """The stored roll-up rows whose bucket starts in ``[start, end)``."""
        if tier is Tier.RAW:
            raise ValueError("raw samples are read with raw()")
        s_us, e_us = _range(start, end)
        table = ROLLUP_TABLES[0 if tier is Tier.MINUTE else 1]
        with self._engine.connect() as connection:
            hist_id = self._hist_id(connection, point_id)
            if hist_id is None:
                return []
            return _rollup_rows(connection, table, hist_id, s_us, e_us)

    # ------------------------------------------------------------ gaps

    def gaps(
        self,
        point_id: str,
        start: Instant,
        end: Instant,
        gap_s: float,
        *,
        hold_s: float | None = None,
    ) -> list[Gap]:
        """Stretches of ``[start, end)`` at least ``gap_s`` long without a GOOD value.

        For the record-gap rule of critical differentials. ``hold_s``: how long
        a GOOD recorded sample vouches for the value (default: the point's
        forced interval). Nothing after the clock's now is a gap.
        """
        s_us, e_us = _range(start, end)
        e_us = min(e_us, to_us(self._clock()))
        hold = round(hold_s * US_PER_S) if hold_s is not None else self._hold_us(point_id)
        if e_us <= s_us:
            return []
        with self._engine.connect() as connection:
            hist_id = self._hist_id(connection, point_id)
            rows, before = (
                _quality_rows(connection, hist_id, s_us, e_us)
                if hist_id is not None
                else ([], None)
            )
        minimum = round(gap_s * US_PER_S)
        return [
            Gap(a / US_PER_S, b / US_PER_S, quality_of(code))
            for a, b, code in not_good_stretches(rows, s_us, e_us, hold, before)
            if b - a >= minimum
        ]

    # ------------------------------------------------------------ series

    def series(
        self, point_id: str, start: Instant, end: Instant, *, max_points: int = 2000
    ) -> Series:
        """The point over ``[start, end)`` in at most about ``max_points`` entries
        (module docstring: which tier, what the arrays mean)."""
        if max_points < 1:
            raise ValueError("max_points must be at least 1")
        s_us, e_us = _range(start, end)
        per_point = (e_us - s_us) / max_points
        with self._engine.connect() as connection:
            hist_id = self._hist_id(connection, point_id)
            if hist_id is None:
                return self._empty(point_id, s_us, e_us)
            if per_point < MINUTE_US:
                n_raw = _count_raw(connection, hist_id, s_us, e_us, self._raw_limit + 1)
                if n_raw <= self._raw_limit:
                    return self._raw_series(connection, point_id, hist_id, s_us, e_us, max_points)
            else:
                n_raw = _count_raw(connection, hist_id, s_us, e_us, max_points + 1)
                if n_raw <= max_points:
                    return self._raw_series(connection, point_id, hist_id, s_us, e_us, max_points)
            tier = Tier.MINUTE if per_point < QUARTER_HOUR_US else Tier.QUARTER_HOUR
            return self._rollup_series(connection, point_id, hist_id, tier, s_us, e_us, max_points)

    def _empty(self, point_id: str, s_us: int, e_us: int) -> Series:
        out = _Out()
        now = min(e_us, to_us(self._clock()))
        gaps: tuple[Gap, ...] = ()
        if now > s_us:
            out.add(s_us, None, None, None, NO_DATA, 0)
            gaps = (Gap(s_us / US_PER_S, now / US_PER_S, None),)
        return _series(point_id, s_us, e_us, Tier.RAW, 0, out, gaps)

    def _raw_series(
        self,
        connection: Connection,
        point_id: str,
        hist_id: int,
        s_us: int,
        e_us: int,
        max_points: int,
    ) -> Series:
        rows = connection.execute(
            select(RAW.c.t, RAW.c.value, RAW.c.quality)
            .where(and_(RAW.c.point == hist_id, RAW.c.t >= s_us, RAW.c.t < e_us))
            .order_by(RAW.c.t)
        ).all()
        before = _row_before(connection, hist_id, s_us)
        now = min(e_us, to_us(self._clock()))
        stretches = not_good_stretches(
            [(t, q) for t, _, q in rows], s_us, max(now, s_us), self._hold_us(point_id), before
        )
        out = _Out()
        width = 0
        if len(rows) <= max_points:
            for t, value, code in rows:
                v = value if code == GOOD else None
                out.add(t, v, v, v, code, 1)
        else:
            width = _grid_width(s_us, e_us, max_points, US_PER_S)
            buckets: dict[int, Bucket] = {}
            for t, value, code in rows:
                b = t - t % width
                bucket = buckets.get(b)
                if bucket is None:
                    buckets[b] = Bucket(b, t, value, code)
                else:
                    bucket.add(t, value, code)
            for b in sorted(buckets):
                out.add_bucket(b, buckets[b])
        return _series(
            point_id, s_us, e_us, Tier.RAW, width, _with_markers(out, stretches), _gaps(stretches)
        )

    def _rollup_series(
        self,
        connection: Connection,
        point_id: str,
        hist_id: int,
        tier: Tier,
        s_us: int,
        e_us: int,
        max_points: int,
    ) -> Series:
        tier_width = tier.width_us
        table = ROLLUP_TABLES[0 if tier is Tier.MINUTE else 1]
        first_bucket = s_us - s_us % tier_width
        stored = _rollup_rows(connection, table, hist_id, first_bucket, e_us)
        # The open buckets: roll up the recorded samples after the newest stored one.
        newest = _newest_rollup(connection, table, hist_id)
        tail_after = newest[1] if newest is not None else None
        tail = _raw_buckets(connection, hist_id, tail_after, first_bucket, e_us, tier_width)
        rows = _merge_rows(stored, tail)
        previous = _rollup_before(connection, table, hist_id, first_bucket)
        now = min(e_us, to_us(self._clock()))
        stretches = _rollup_stretches(
            rows, previous, s_us, max(now, s_us), tier_width, self._hold_us(point_id)
        )

        factor = max(1, math.ceil((e_us - first_bucket) / tier_width / max_points))
        width = tier_width * factor
        out = _Out()
        group: Bucket | None = None
        group_start = -1
        for row in rows:
            start = row[0] - row[0] % width
            bucket = _bucket_of(row, start)
            if group is not None and start == group_start:
                group.merge(bucket)
                continue
            if group is not None:
                out.add(
                    group_start, group.minimum, group.maximum, group.mean, group.worst, group.count
                )
            group, group_start = bucket, start
        if group is not None:
            out.add(group_start, group.minimum, group.maximum, group.mean, group.worst, group.count)
        return _series(
            point_id, s_us, e_us, tier, width, _with_markers(out, stretches), _gaps(stretches)
        )


# ---------------------------------------------------------------- helpers


def _range(start: Instant, end: Instant) -> tuple[int, int]:
    s_us, e_us = to_us(start), to_us(end)
    if e_us <= s_us:
        raise ValueError("the end of a period must come after its start")
    return s_us, e_us


def _raw_sample(t: int, value: float | None, code: int, reason: str | None) -> RawSample:
    quality = quality_of(code)
    assert quality is not None
    return RawSample(t / US_PER_S, value, quality, reason)


def _count_raw(connection: Connection, hist_id: int, s_us: int, e_us: int, cap: int) -> int:
    """How many raw samples the range holds, counting no further than ``cap``."""
    inner = (
        select(RAW.c.t)
        .where(and_(RAW.c.point == hist_id, RAW.c.t >= s_us, RAW.c.t < e_us))
        .limit(cap)
        .subquery()
    )
    return int(connection.execute(select(func.count()).select_from(inner)).scalar() or 0)


def _row_before(connection: Connection, hist_id: int, s_us: int) -> tuple[int, int] | None:
    row = connection.execute(
        select(RAW.c.t, RAW.c.quality)
        .where(and_(RAW.c.point == hist_id, RAW.c.t < s_us))
        .order_by(RAW.c.t.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def _quality_rows(
    connection: Connection, hist_id: int, s_us: int, e_us: int
) -> tuple[list[tuple[int, int]], tuple[int, int] | None]:
    rows = connection.execute(
        select(RAW.c.t, RAW.c.quality)
        .where(and_(RAW.c.point == hist_id, RAW.c.t >= s_us, RAW.c.t < e_us))
        .order_by(RAW.c.t)
    ).all()
    return [(t, q) for t, q in rows], _row_before(connection, hist_id, s_us)


_ROLLUP_COLUMNS = (
    "bucket",
    "sample_count",
    "good_count",
    "min_value",
    "max_value",
    "mean_value",
    "worst_quality",
    "last_quality",
    "first_t",
    "last_t",
)


def _rollup_rows(
    connection: Connection, table: Table, hist_id: int, s_us: int, e_us: int
) -> list[RollupRow]:
    columns = [table.c[name] for name in _ROLLUP_COLUMNS]
    rows = connection.execute(
        select(*columns)
        .where(and_(table.c.point == hist_id, table.c.bucket >= s_us, table.c.bucket < e_us))
        .order_by(table.c.bucket)
    ).all()
    return cast(list[RollupRow], [tuple(row) for row in rows])


def _newest_rollup(connection: Connection, table: Table, hist_id: int) -> tuple[int, int] | None:
    row = connection.execute(
        select(table.c.bucket, table.c.last_t)
        .where(table.c.point == hist_id)
        .order_by(table.c.bucket.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def _rollup_before(
    connection: Connection, table: Table, hist_id: int, s_us: int
) -> tuple[int, int] | None:
    """(last sample time, last quality) of the newest bucket before ``s_us``."""
    row = connection.execute(
        select(table.c.last_t, table.c.last_quality)
        .where(and_(table.c.point == hist_id, table.c.bucket < s_us))
        .order_by(table.c.bucket.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def _raw_buckets(
    connection: Connection,
    hist_id: int,
    after: int | None,
    s_us: int,
    e_us: int,
    width: int,
) -> list[RollupRow]:
    """Roll-ups of the recorded samples newer than ``after`` inside the range."""
    low = s_us if after is None else max(s_us, after + 1)
    if low >= e_us:
        return []
    rows = connection.execute(
        select(RAW.c.t, RAW.c.value, RAW.c.quality)
        .where(and_(RAW.c.point == hist_id, RAW.c.t >= low, RAW.c.t < e_us))
        .order_by(RAW.c.t)
    ).all()
    buckets: dict[int, Bucket] = {}
    for t, value, code in rows:
        b = t - t % width
        bucket = buckets.get(b)
        if bucket is None:
            buckets[b] = Bucket(b, t, value, code)
        else:
            bucket.add(t, value, code)
    return [_row_of(bucket) for bucket in buckets.values()]


def _row_of(bucket: Bucket) -> RollupRow:
    return (
        bucket.start,
        bucket.count,
        bucket.good,
        bucket.minimum,
        bucket.maximum,
        bucket.mean,
        bucket.worst,
        bucket.last_quality,
        bucket.first_t,
        bucket.last_t,
    )


def _bucket_of(row: RollupRow, start: int) -> Bucket:
    return Bucket.of(
        start,
        count=row[1],
        good=row[2],
        minimum=row[3],
        maximum=row[4],
        mean=row[5],
        worst=row[6],
        last_quality=row[7],
        first_t=row[8],
        last_t=row[9],
    )


def _merge_rows(stored: list[RollupRow], tail: list[RollupRow]) -> list[RollupRow]:
    if not tail:
        return stored
    by_start: dict[int, Bucket] = {row[0]: _bucket_of(row, row[0]) for row in stored}
    for row in tail:
        held = by_start.get(row[0])
        if held is None:
            by_start[row[0]] = _bucket_of(row, row[0])
        else:
            held.merge(_bucket_of(row, row[0]))
    return [_row_of(by_start[start]) for start in sorted(by_start)]


def _rollup_stretches(
    rows: Sequence[RollupRow],
    previous: tuple[int, int] | None,
    s_us: int,
    e_us: int,
    width: int,
    hold: int,
) -> list[tuple[int, int, int]]:
    """Stretches without a GOOD value, at bucket resolution.

    A bucket with no GOOD sample is a stretch of its worst quality. Between
    buckets (and after the last one) the last quality holds: if it was not
    GOOD, the stretch has that quality; if it was, the last sample vouches
    for ``hold`` and then there is no data.
    """
    out: list[tuple[int, int, int]] = []

    def add(a: int, b: int, code: int) -> None:
        a, b = max(a, s_us), min(b, e_us)
        if a >= b:
            return
        if out and out[-1][1] == a and out[-1][2] == code:
            out[-1] = (out[-1][0], b, code)
        else:
            out.append((a, b, code))

    def silence(a: int, b: int) -> None:
        if last_quality == NO_DATA:
            add(a, b, NO_DATA)
        elif last_quality == GOOD:
            add(max(a, last_t + hold), b, NO_DATA)
        else:
            add(a, b, last_quality)

    cursor = s_us - s_us % width
    last_t, last_quality = previous if previous is not None else (cursor, NO_DATA)
    for row in rows:
        start = row[0]
        if start > cursor:
            silence(cursor, start)
        if row[2] == 0:
            add(start, start + width, row[6])
        last_quality = row[7]
        last_t = row[9]
        cursor = start + width
    if cursor < e_us:
        silence(cursor, e_us)
    return out


def _grid_width(s_us: int, e_us: int, max_points: int, unit: int) -> int:
    """A bucket width (a multiple of ``unit`` µs) giving at most ``max_points`` buckets."""
    raw = math.ceil((e_us - s_us) / max_points)
    return max(unit, math.ceil(raw / unit) * unit)


def _with_markers(out: _Out, stretches: Sequence[tuple[int, int, int]]) -> _Out:
    """``out`` with a NaN entry at the start of each stretch (if none is there)."""
    if not stretches:
        return out
    merged = _Out()
    times = out.times
    j = 0
    n = len(times)
    for a, _b, code in stretches:
        at = a / US_PER_S
        while j < n and times[j] < at:
            _copy(out, j, merged)
            j += 1
        if j < n and times[j] == at and math.isnan(out.mean[j]):
            continue
        merged.add(a, None, None, None, code, 0)
    while j < n:
        _copy(out, j, merged)
        j += 1
    return merged


def _copy(source: _Out, i: int, target: _Out) -> None:
    target.times.append(source.times[i])
    target.minimum.append(source.minimum[i])
    target.maximum.append(source.maximum[i])
    target.mean.append(source.mean[i])
    target.worst.append(source.worst[i])
    target.count.append(source.count[i])


def _gaps(stretches: Sequence[tuple[int, int, int]]) -> tuple[Gap, ...]:
    return tuple(Gap(a / US_PER_S, b / US_PER_S, quality_of(code)) for a, b, code in stretches)


def _series(
    point_id: str,
    s_us: int,
    e_us: int,
    tier: Tier,
    width_us: int,
    out: _Out,
    gaps: tuple[Gap, ...],
) -> Series:
    return Series(
        point_id=point_id,
        start=s_us / US_PER_S,
        end=e_us / US_PER_S,
        tier=tier,
        bucket_s=width_us / US_PER_S,
        times=out.times,
        minimum=out.minimum,
        maximum=out.maximum,
        mean=out.mean,
        worst=out.worst,
        count=out.count,
        gaps=gaps,
    )
