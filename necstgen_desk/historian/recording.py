"""What gets recorded, and the roll-up arithmetic: pure, no database, no threads.

:class:`PointRecorder` is one point's change-based filter (see
:class:`~necstgen_desk.historian.model.PointPolicy` for the rule) and its open
roll-up buckets. :class:`Bucket` is a mergeable aggregate: merging the
buckets of two sets of samples gives the bucket of their union, which is what
lets the writer store a bucket in pieces (a partial bucket at shutdown, a
late sample, a repair after a crash) without counting any sample twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from necstgen_desk.historian.model import US_PER_S, PointPolicy

__all__ = ["GOOD", "Bucket", "Decision", "PointRecorder", "bucket_start", "normalise_value"]

GOOD = 0  # the quality code of a GOOD sample


def normalise_value(value: float | int | bool | None) -> float | None:
    """A sample value as stored: a float, or None (NaN is no value: SQLite cannot keep it)."""
    if value is None:
        return None
    number = float(value)
    if math.isnan(number):
        return None
    return number


def bucket_start(t_us: int, width_us: int) -> int:
    """The start of the bucket holding ``t_us`` (buckets are aligned to the epoch)."""
    return t_us - t_us % width_us


class Bucket:
    """The roll-up of some samples of one point in one bucket.

    Value statistics are over GOOD samples with a value (``good``);
    ``count`` counts every sample; ``worst`` is the largest quality code;
    ``last_quality`` the code of the sample with the latest time (the worse
    one of two at the same time, so the result does not depend on the order).
    """

    __slots__ = (
        "count",
        "first_t",
        "good",
        "last_quality",
        "last_t",
        "start",
        "total",
        "vmax",
        "vmin",
        "worst",
    )

    def __init__(self, start: int, t: int, value: float | None, code: int) -> None:
        self.start = start
        self.count = 1
        self.worst = code
        self.last_quality = code
        self.first_t = t
        self.last_t = t
        if code == GOOD and value is not None:
            self.good = 1
            self.total = value
            self.vmin = value
            self.vmax = value
        else:
            self.good = 0
            self.total = 0.0
            self.vmin = math.inf
            self.vmax = -math.inf

    @classmethod
    def of(
        cls,
        start: int,
        *,
        count: int,
        good: int,
        minimum: float | None,
        maximum: float | None,
        mean: float | None,
        worst: int,
        last_quality: int,
        first_t: int,
        last_t: int,
    ) -> Bucket:
        """A bucket from stored statistics (to merge stored rows with others)."""
        bucket = cls(start, first_t, None, worst)
        bucket.count = count
        bucket.good = good
        bucket.total = (mean or 0.0) * good
        bucket.vmin = minimum if minimum is not None and good else math.inf
        bucket.vmax = maximum if maximum is not None and good else -math.inf
        bucket.last_quality = last_quality
        bucket.last_t = last_t
        return bucket

    def add(self, t: int, value: float | None, code: int) -> None:
        self.count += 1
        if code == GOOD and value is not None:
            self.good += 1
            self.total += value
            self.vmin = min(self.vmin, value)
            self.vmax = max(self.vmax, value)
        self.worst = max(self.worst, code)
        if t > self.last_t or (t == self.last_t and code > self.last_quality):
            self.last_t = t
            self.last_quality = code
        self.first_t = min(self.first_t, t)

    def merge(self, other: Bucket) -> None:
        """Fold ``other`` (same point, same bucket) into this one."""
        self.count += other.count
        self.good += other.good
        self.total += other.total
        self.vmin = min(self.vmin, other.vmin)
        self.vmax = max(self.vmax, other.vmax)
        self.worst = max(self.worst, other.worst)
        if other.last_t > self.last_t or (
            other.last_t == self.last_t and other.last_quality > self.last_quality
        ):
            self.last_t = other.last_t
            self.last_quality = other.last_quality
        self.first_t = min(self.first_t, other.first_t)

    @property
    def minimum(self) -> float | None:
        return self.vmin if self.good else None

    @property
    def maximum(self) -> float | None:
        return self.vmax if self.good else None

    @property
    def mean(self) -> float | None:
        return self.total / self.good if self.good else None

    def __repr__(self) -> str:
        return (
            f"Bucket(start={self.start}, count={self.count}, good={self.good}, "
            f"min={self.minimum}, max={self.maximum}, mean={self.mean}, worst={self.worst}, "
            f"last_quality={self.last_quality}, first_t={self.first_t}, last_t={self.last_t})"
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """What :meth:`PointRecorder.offer` decided for one sample."""

    record: bool
    duplicate: bool = False  # same time as the last recorded sample: not recorded


_RECORD = Decision(True)
_SKIP = Decision(False)
_DUPLICATE = Decision(False, duplicate=True)


class PointRecorder:
    """One point's change-based filter and open roll-up buckets.

    ``offer`` decides whether a sample is recorded; ``accumulate`` adds it to
    the roll-ups and hands back the buckets it closed. A sample older than the
    newest one offered (a late sample) is recorded as it is, without moving
    the filter; one with the very same time as the newest is a duplicate and
    is not recorded.
    """

    __slots__ = (
        "deadband",
        "forced_us",
        "hist_id",
        "last_code",
        "last_reason",
        "last_t",
        "last_value",
        "open",
        "pending",
        "point_id",
        "seen_t",
    )

    def __init__(self, point_id: str, policy: PointPolicy, hist_id: int, tiers: int = 2) -> None:
        self.point_id = point_id
        self.hist_id = hist_id
        self.deadband = policy.deadband
        # The forced sample is the last read before forced_s runs out (PointPolicy).
        self.forced_us = round(max(0.0, policy.forced_s - policy.scan_s) * US_PER_S)
        self.last_t: int | None = None
        self.seen_t: int | None = None
        self.last_value: float | None = None
        self.last_code = GOOD
        self.last_reason: str | None = None
        # The latest sample offered when it was not recorded (flushed at stop).
        self.pending: tuple[int, float | None, int, str | None] | None = None
        self.open: list[Bucket | None] = [None] * tiers

    def reset(self) -> None:
        """Forget the last recorded sample: the next one is recorded (after lost samples)."""
        self.last_t = None
        self.seen_t = None

    def offer(self, t: int, value: float | None, code: int, reason: str | None) -> Decision:
        last_t = self.last_t
        if last_t is not None:
            seen_t = self.seen_t
            assert seen_t is not None
            if t < seen_t:
                return _DUPLICATE if t == last_t else _RECORD  # late: the filter stays
            if t == seen_t:
                return _DUPLICATE
            self.seen_t = t
            if (
                code == self.last_code
                and reason == self.last_reason
                and t - last_t < self.forced_us
                and not self._moved(value)
            ):
                self.pending = (t, value, code, reason)
                return _SKIP
        self.last_t = t
        self.seen_t = t
        self.last_value = value
        self.last_code = code
        self.last_reason = reason
        self.pending = None
        return _RECORD

    def _moved(self, value: float | None) -> bool:
        last = self.last_value
        if value is None or last is None:
            return (value is None) != (last is None)
        return abs(value - last) > self.deadband

    def accumulate(
        self, widths: tuple[int, ...], t: int, value: float | None, code: int
    ) -> list[tuple[int, Bucket]]:
        """Add the sample to each tier's open bucket; returns ``(tier, bucket)`` closed by it.

        A sample for a bucket before the open one comes back at once as a
        bucket of its own (to be merged into the stored one).
        """
        closed: list[tuple[int, Bucket]] = []
        for tier, width in enumerate(widths):
            start = t - t % width
            bucket = self.open[tier]
            if bucket is not None and bucket.start == start:
                bucket.add(t, value, code)
            elif bucket is None or start > bucket.start:
                if bucket is not None:
                    closed.append((tier, bucket))
                self.open[tier] = Bucket(start, t, value, code)
            else:
                closed.append((tier, Bucket(start, t, value, code)))
        return closed

    def close_if_started_by(self, tier: int, latest_start: int) -> Bucket | None:
        """Close and return the open bucket of ``tier`` if it starts at or before
        ``latest_start`` (the caller's "ended long enough ago")."""
        bucket = self.open[tier]
        if bucket is not None and bucket.start <= latest_start:
            self.open[tier] = None
            return bucket
        return None
