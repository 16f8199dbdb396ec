"""Change-based recording (deadband, forced samples, qualities) and roll-up buckets."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal.points import Quality, Sample
from necstgen_desk.historian.model import MINUTE_US, QUARTER_HOUR_US, PointPolicy
from necstgen_desk.historian.recording import (
    Bucket,
    PointRecorder,
    bucket_start,
    normalise_value,
)
from tests.unit.historian import reference
from tests.unit.historian.strategies import T0, streams

WIDTHS = (MINUTE_US, QUARTER_HOUR_US)


def run(samples: list[Sample], policy: PointPolicy) -> list[reference.Row]:
    """What a PointRecorder records (including the stop flush of the pending sample)."""
    recorder = PointRecorder("P", policy, 1)
    out: list[reference.Row] = []
    for sample in samples:
        row = reference.row_of(sample)
        if recorder.offer(*row).record:
            out.append(row)
    if recorder.pending is not None:
        out.append(recorder.pending)
    return out


def good(t: float, value: float | None, reason: str = "") -> Sample:
    return Sample("P", value, Quality.GOOD, T0 + t, reason)


POLICY = PointPolicy(deadband=0.5, forced_s=60)

CASES = [
    pytest.param([good(0, 45.0)], [0], id="first-sample-always"),
    pytest.param(
        [good(0, 45.0), good(1, 45.4), good(2, 45.5)], [0, 2], id="within-deadband-then-flush"
    ),
    pytest.param([good(0, 45.0), good(1, 45.6)], [0, 1], id="beyond-deadband"),
    pytest.param([good(0, 45.0), good(1, 44.4)], [0, 1], id="beyond-deadband-down"),
    pytest.param(
        [good(0, 45.0), good(30, 45.1), good(60, 45.2), good(61, 45.0)],
        [0, 60, 61],
        id="forced-after-60s-then-flush",
    ),
    pytest.param(
        [good(0, 45.0), Sample("P", 45.0, Quality.STALE, T0 + 1, "no fresh value")],
        [0, 1],
        id="quality-change",
    ),
    pytest.param(
        [
            Sample("P", None, Quality.BAD, T0, "exception 2"),
            Sample("P", None, Quality.BAD, T0 + 1, "exception 2"),
            Sample("P", None, Quality.BAD, T0 + 2, "exception 4"),
        ],
        [0, 2],
        id="reason-change",
    ),
    pytest.param([good(0, 45.0), good(0, 50.0)], [0], id="same-time-is-a-duplicate"),
    pytest.param([good(0, 45.0), good(5, 45.0), good(3, 45.0)], [0, 3, 5], id="late-recorded"),
    pytest.param(
        [good(0, 45.0), Sample("P", None, Quality.GOOD, T0 + 1)], [0, 1], id="value-disappears"
    ),
]


@pytest.mark.parametrize(("samples", "expected_s"), CASES)
def test_what_is_recorded(samples: list[Sample], expected_s: list[float]) -> None:
    rows = run(samples, POLICY)
    assert [round(t / 1e6 - T0, 3) for t, *_ in rows] == expected_s


def test_forced_zero_records_every_sample_and_infinite_deadband_only_forced() -> None:
    samples = [good(i, 45.0 + i) for i in range(10)]
    assert len(run(samples, PointPolicy(deadband=0.0, forced_s=0))) == 10
    counter = [good(i, float(i)) for i in range(200)]
    rows = run(counter, PointPolicy(deadband=math.inf, forced_s=60))
    assert [round(t / 1e6 - T0) for t, *_ in rows] == [0, 60, 120, 180, 199]


def test_a_flat_line_is_provably_alive() -> None:
    rows = run([good(i, 45.0) for i in range(600)], POLICY)
    times = [t for t, *_ in rows]
    assert max(b - a for a, b in itertools.pairwise(times)) <= 60_000_000


def test_reset_records_the_next_sample() -> None:
    recorder = PointRecorder("P", POLICY, 1)
    assert recorder.offer(0, 45.0, 0, None).record
    assert not recorder.offer(1, 45.0, 0, None).record
    recorder.reset()
    assert recorder.offer(2, 45.0, 0, None).record


@settings(max_examples=300, deadline=None)
@given(
    samples=streams(points=1, max_size=200),
    deadband=st.sampled_from([0.0, 0.15, 0.5, 2.0, math.inf]),
    forced_s=st.sampled_from([0.0, 5.0, 60.0]),
)
def test_recorder_matches_the_reference(
    samples: list[Sample], deadband: float, forced_s: float
) -> None:
    policy = PointPolicy(deadband=deadband, forced_s=forced_s)
    assert run(samples, policy) == reference.recorded(samples, policy)


# ---------------------------------------------------------------- buckets


def buckets_of(samples: list[Sample], width: int) -> dict[int, Bucket]:
    out: dict[int, Bucket] = {}
    for sample in samples:
        t, value, code, _ = reference.row_of(sample)
        start = bucket_start(t, width)
        if start in out:
            out[start].add(t, value, code)
        else:
            out[start] = Bucket(start, t, value, code)
    return out


def assert_bucket(bucket: Bucket, ref: reference.RefBucket) -> None:
    assert (bucket.start, bucket.count, bucket.good) == (ref.start, ref.count, ref.good)
    assert (bucket.minimum, bucket.maximum) == (ref.minimum, ref.maximum)
    assert reference.close(bucket.mean, ref.mean), (bucket.mean, ref.mean)
    assert (bucket.worst, bucket.last_quality) == (ref.worst, ref.last_quality)
    assert (bucket.first_t, bucket.last_t) == (ref.first_t, ref.last_t)


@settings(max_examples=200, deadline=None)
@given(samples=streams(points=1, max_size=200), seed=st.integers(0, 2**32))
def test_merging_pieces_gives_the_bucket_of_all(samples: list[Sample], seed: int) -> None:
    """A bucket stored in pieces (shutdown, restart, late samples) is the bucket of all."""
    rng = random.Random(seed)
    for width in WIDTHS:
        expected = reference.rollups(samples, width)
        pieces: list[list[Sample]] = [[], [], []]
        for sample in samples:
            pieces[rng.randrange(3)].append(sample)
        merged: dict[int, Bucket] = {}
        for piece in pieces:
            for start, bucket in buckets_of(piece, width).items():
                if start in merged:
                    merged[start].merge(bucket)
                else:
                    merged[start] = bucket
        assert sorted(merged) == sorted(expected)
        for start, bucket in merged.items():
            assert_bucket(bucket, expected[start])


@settings(max_examples=200, deadline=None)
@given(samples=streams(points=1, max_size=200))
def test_accumulate_closes_each_bucket_once(samples: list[Sample]) -> None:
    recorder = PointRecorder("P", POLICY, 1)
    closed: dict[tuple[int, int], Bucket] = {}
    for sample in samples:
        t, value, code, _ = reference.row_of(sample)
        for tier, bucket in recorder.accumulate(WIDTHS, t, value, code):
            key = (tier, bucket.start)
            if key in closed:
                closed[key].merge(bucket)
            else:
                closed[key] = bucket
    for tier in range(2):
        still_open = recorder.open[tier]
        if still_open is not None:
            key = (tier, still_open.start)
            if key in closed:
                closed[key].merge(still_open)
            else:
                closed[key] = still_open
    for tier, width in enumerate(WIDTHS):
        expected = reference.rollups(samples, width)
        got = {start: b for (k, start), b in closed.items() if k == tier}
        assert sorted(got) == sorted(expected)
        for start, bucket in got.items():
            assert_bucket(bucket, expected[start])


def test_bucket_of_stored_statistics_round_trips() -> None:
    b = Bucket(0, 5, 2.0, 0)
    b.add(7, 4.0, 0)
    b.add(9, None, 3)
    copy = Bucket.of(
        0,
        count=b.count,
        good=b.good,
        minimum=b.minimum,
        maximum=b.maximum,
        mean=b.mean,
        worst=b.worst,
        last_quality=b.last_quality,
        first_t=b.first_t,
        last_t=b.last_t,
    )
    assert repr(copy) == repr(b)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), (True, 1.0), (3, 3.0), (2.5, 2.5), (math.nan, None), (math.inf, math.inf)],
)
def test_normalise_value(value: float | None, expected: float | None) -> None:
    assert normalise_value(value) == expected


def test_bucket_start_is_aligned_to_the_epoch() -> None:
    assert bucket_start(90_000_000, MINUTE_US) == 60_000_000
    assert bucket_start(-1, MINUTE_US) == -MINUTE_US
