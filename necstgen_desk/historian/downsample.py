"""Peak-preserving decimation of a sampled line (pure).

A plot a few thousand pixels wide cannot show 600,000 samples, and taking
every n-th sample makes spikes vanish when zoomed out. :func:`downsample_minmax`
keeps, for each of ``n_buckets`` equal stretches of time, the sample with the
smallest and the one with the largest value, in time order: drawn as a line
it touches every extreme the full data touches, so a spike never disappears.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence

__all__ = ["downsample_minmax"]


def downsample_minmax(
    times: Sequence[float], values: Sequence[float], n_buckets: int
) -> tuple[array[float], array[float]]:
    """At most three points per bucket: its minimum and maximum in time order, and
    a NaN where a gap (a NaN value) begins inside it, so a line still breaks there.

    ``times`` must be ascending; NaN values mark gaps and never count as an
    extreme. With no more than ``2 * n_buckets`` samples the input comes back
    as it is (copied). Buckets split ``[times[0], times[-1]]`` evenly.
    """
    if n_buckets < 1:
        raise ValueError(f"n_buckets must be at least 1, not {n_buckets}")
    count = len(times)
    if len(values) != count:
        raise ValueError(f"{count} times but {len(values)} values")
    for i in range(1, count):
        if times[i] < times[i - 1]:
            raise ValueError(f"times must be ascending (index {i}: {times[i]} < {times[i - 1]})")
    if count <= 2 * n_buckets:
        return array("d", times), array("d", values)

    t0 = times[0]
    span = times[-1] - t0
    scale = n_buckets / span if span > 0 else 0.0
    last_bucket = n_buckets - 1
    out_t: array[float] = array("d")
    out_v: array[float] = array("d")

    current = -1
    lo_i = hi_i = nan_i = -1
    lo = math.inf
    hi = -math.inf

    def flush() -> None:
        picks = sorted({i for i in (lo_i, hi_i, nan_i) if i >= 0})
        for i in picks:
            out_t.append(times[i])
            out_v.append(values[i])

    for i in range(count):
        b = int((times[i] - t0) * scale)
        b = min(b, last_bucket)
        if b != current:
            if current >= 0:
                flush()
            current = b
            lo_i = hi_i = nan_i = -1
            lo = math.inf
            hi = -math.inf
        v = values[i]
        if math.isnan(v):  # a gap
            if nan_i < 0:
                nan_i = i
            continue
        if v < lo:
            lo = v
            lo_i = i
        if v > hi:
            hi = v
            hi_i = i
    flush()
    return out_t, out_v
