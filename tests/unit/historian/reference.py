"""A reference historian written from the rules, not from the code: what should be
recorded and what each roll-up bucket should hold, for a stream of samples.

Used by the unit tests (against ``PointRecorder``/``Bucket``) and by the
integration tests (against what the writer stored).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hal.points import Quality, Sample
from necstgen_desk.historian.model import PointPolicy

CODES = {Quality.GOOD: 0, Quality.STALE: 1, Quality.BAD: 2, Quality.COMM_FAIL: 3}
MINUTE_US = 60_000_000
QUARTER_US = 15 * MINUTE_US

Row = tuple[int, float | None, int, str | None]  # t (µs), value, code, reason


def us(seconds: float) -> int:
    return round(seconds * 1_000_000)


def value_of(sample: Sample) -> float | None:
    if sample.value is None:
        return None
    number = float(sample.value)
    return None if math.isnan(number) else number


def row_of(sample: Sample) -> Row:
    return (us(sample.timestamp), value_of(sample), CODES[sample.quality], sample.reason or None)


def recorded(samples: Sequence[Sample], policy: PointPolicy, *, flush: bool = True) -> list[Row]:
    """The rows one writer run records for one point's samples, in arrival order.

    First sample; later ones when the quality or reason changed, the value
    moved more than the deadband (or appeared/disappeared), or the forced
    interval passed. A sample older than the newest seen is recorded as it
    is (the filter does not move) unless it has the time of the last recorded
    one; one at the very time of the newest seen is not recorded. At the end
    (``flush``) the last sample that was not recorded is.
    """
    out: list[Row] = []
    last: Row | None = None
    newest = -1
    pending: Row | None = None
    forced = us(policy.forced_s)
    for sample in samples:
        row = row_of(sample)
        t, value, code, reason = row
        if last is not None:
            if t < newest:
                if t != last[0]:
                    out.append(row)
                continue
            if t == newest:
                continue
            newest = t
            last_value = last[1]
            if value is None or last_value is None:
                moved = (value is None) != (last_value is None)
            else:
                moved = abs(value - last_value) > policy.deadband
            if code == last[2] and reason == last[3] and t - last[0] < forced and not moved:
                pending = row
                continue
        out.append(row)
        last = row
        newest = t
        pending = None
    if flush and pending is not None:
        out.append(pending)
    return out


def stored_raw(rows: Iterable[Row]) -> list[Row]:
    """What the table holds for rows inserted in this order: the first row of
    each time wins (a later one at the same time is ignored), sorted by time."""
    kept: dict[int, Row] = {}
    for row in rows:
        kept.setdefault(row[0], row)
    return [kept[t] for t in sorted(kept)]


@dataclass
class RefBucket:
    start: int
    count: int = 0
    good: int = 0
    minimum: float | None = None
    maximum: float | None = None
    total: float = 0.0
    worst: int = 0
    last_quality: int = 0
    first_t: int | None = None
    last_t: int | None = None

    @property
    def mean(self) -> float | None:
        return self.total / self.good if self.good else None


def rollups(samples: Iterable[Sample], width_us: int) -> dict[int, RefBucket]:
    """Every sample's bucket: counts, GOOD-value statistics, worst and last quality."""
    buckets: dict[int, RefBucket] = {}
    for sample in samples:
        t, value, code, _ = row_of(sample)
        start = t - t % width_us
        b = buckets.setdefault(start, RefBucket(start))
        b.count += 1
        if code == 0 and value is not None:
            b.good += 1
            b.total += value
            b.minimum = value if b.minimum is None else min(b.minimum, value)
            b.maximum = value if b.maximum is None else max(b.maximum, value)
        b.worst = max(b.worst, code)
        if b.last_t is None or t > b.last_t or (t == b.last_t and code > b.last_quality):
            b.last_t = t
            b.last_quality = code
        b.first_t = t if b.first_t is None else min(b.first_t, t)
    return buckets


def close(a: float | None, b: float | None, *, rel: float = 1e-9) -> bool:
    """Both None, or equal within floating-point rounding (means are merged by weights)."""
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)
