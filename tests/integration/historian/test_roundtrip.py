"""Round trips: what the writer stores equals a reference computed from the same samples.

Raw samples (deadband, forced samples, qualities, late and repeated samples,
the last sample flushed at stop) and the roll-ups of EVERY sample (min, max,
mean, counts, worst and last quality), also when the stream is split across a
restart (partial buckets merged, nothing counted twice).
"""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from hal.points import Quality, Sample
from necstgen_desk.historian import HistorianQuery, PointPolicy, Tier
from necstgen_desk.historian.model import to_us
from necstgen_desk.live import PointStore
from necstgen_desk.storage.engine import make_engine
from tests.integration.historian.conftest import Clock, WriterFactory
from tests.unit.historian import reference
from tests.unit.historian.strategies import T0, streams

FAR = T0 + 10 * 86_400
_examples = itertools.count()


def _feed(
    writer_factory: WriterFactory, samples: Sequence[Sample], policies: dict[str, PointPolicy]
) -> None:
    """One writer run: the samples in poller-sized lists, the clock following them."""
    clock = Clock(T0)
    writer = writer_factory(policies=policies, clock=clock)
    for i in range(0, len(samples), 7):
        chunk = list(samples[i : i + 7])
        clock.now = max(clock.now, *(s.timestamp for s in chunk))
        writer.submit(chunk)
        if i % 35 == 0:
            assert writer.flush(10)
    status = writer.stop()
    assert status.dropped == 0 and status.processed == len(samples) and status.queue_depth == 0


def _check(
    engine: Engine,
    samples: Sequence[Sample],
    runs: Sequence[Sequence[Sample]],
    policies: dict[str, PointPolicy],
) -> None:
    query = HistorianQuery(engine, policies=policies, clock=lambda: FAR)
    by_point: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_point[s.point_id].append(s)
    for point_id, policy in policies.items():
        expected_rows: list[reference.Row] = []
        for run in runs:
            expected_rows += reference.recorded([s for s in run if s.point_id == point_id], policy)
        expected = reference.stored_raw(expected_rows)
        got = [
            (to_us(r.t), r.value, reference.CODES[r.quality], r.reason)
            for r in query.raw(point_id, T0 - 3600, FAR)
        ]
        assert got == expected, point_id
        for tier, width in (
            (Tier.MINUTE, reference.MINUTE_US),
            (Tier.QUARTER_HOUR, reference.QUARTER_US),
        ):
            ref = reference.rollups(by_point[point_id], width)
            rows = query.rollups(point_id, tier, T0 - 3600, FAR)
            assert [r[0] for r in rows] == sorted(ref), (point_id, tier)
            for bucket, count, good, lo, hi, mean, worst, last_q, first_t, last_t in rows:
                b = ref[bucket]
                assert (count, good, lo, hi) == (b.count, b.good, b.minimum, b.maximum), (
                    point_id,
                    tier,
                    bucket,
                )
                assert reference.close(mean, b.mean), (mean, b.mean)
                assert (worst, last_q, first_t, last_t) == (
                    b.worst,
                    b.last_quality,
                    b.first_t,
                    b.last_t,
                )


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    samples=streams(points=3, min_size=1, max_size=250),
    split=st.floats(min_value=0, max_value=1),
    deadband=st.sampled_from([0.0, 0.5, math.inf]),
    forced_s=st.sampled_from([0.0, 10.0, 60.0]),
)
def test_raw_and_rollups_equal_the_reference(
    make_writer: WriterFactory,
    migrated_url: str,
    samples: list[Sample],
    split: float,
    deadband: float,
    forced_s: float,
) -> None:
    # Every example writes its own points into the test's database.
    prefix = f"x{next(_examples)}"
    samples = [
        Sample(f"{prefix}.{s.point_id}", s.value, s.quality, s.timestamp, s.reason) for s in samples
    ]
    policy = PointPolicy(deadband=deadband, forced_s=forced_s)
    policies = {p: policy for p in dict.fromkeys(s.point_id for s in samples)}
    cut = round(split * len(samples))
    runs = [samples[:cut], samples[cut:]]  # a stop and a restart in between
    for run in runs:
        _feed(make_writer, run, policies)
    engine = make_engine(migrated_url)
    try:
        _check(engine, samples, runs, policies)
    finally:
        engine.dispose()


def test_hours_of_a_realistic_signal(make_writer: WriterFactory, engine: Engine) -> None:
    """Three points at 1 Hz for a few hours with a PLC outage and a pause; the
    default deadband; series and gaps from every tier agree with the record."""
    rng = random.Random(117)
    points = [f"R{i}.dp" for i in range(3)]
    policy = PointPolicy(deadband=0.5, forced_s=15.0, critical=True)
    policies = {p: policy for p in points}
    samples: list[Sample] = []
    level = dict.fromkeys(points, 45.0)
    hours = 4
    for second in range(hours * 3600):
        t = T0 + second
        if 3600 <= second < 3600 + 600:  # app not running: nothing at all
            continue
        for p in points:
            if 7200 <= second < 7200 + 300:  # PLC down: one COMM_FAIL, then silence
                if second == 7200:
                    samples.append(Sample(p, level[p], Quality.COMM_FAIL, t, "connection refused"))
                continue
            level[p] += rng.gauss(0, 0.15) + (45.0 - level[p]) * 0.01
            samples.append(Sample(p, round(level[p], 3), Quality.GOOD, t))
    runs = [samples]
    _feed(make_writer, samples, policies)
    _check(engine, samples, runs, policies)

    query = HistorianQuery(engine, policies=policies, clock=lambda: T0 + hours * 3600)
    gaps = query.gaps("R0.dp", T0, T0 + hours * 3600, 30)
    assert [(g.end - T0, g.quality) for g in gaps] == [
        (4200, None),
        (7200 + 300, Quality.COMM_FAIL),
    ]
    # The pause shows from the last recorded sample plus the forced interval: at
    # most forced_s before it really began (the last value was within the deadband).
    assert 3599 - 15 <= gaps[0].start - T0 <= 3599 + 15
    assert gaps[1].start == T0 + 7200
    for span, tier, max_points in ((1800, Tier.RAW, 2000), (hours * 3600, Tier.MINUTE, 100)):
        series = query.series("R0.dp", T0, T0 + span, max_points=max_points)
        assert series.tier is tier
        assert len(series) <= max_points + len(series.gaps)
        raw = [
            r.value
            for r in query.raw("R0.dp", T0, T0 + span)
            if r.value is not None and r.quality is Quality.GOOD
        ]
        finite_max = max(v for v in series.maximum if not math.isnan(v))
        finite_min = min(v for v in series.minimum if not math.isnan(v))
        assert finite_max >= max(raw) and finite_min <= min(raw)


def test_the_point_store_feeds_the_writer(make_writer: WriterFactory, engine: Engine) -> None:
    store = PointStore(["A", "B"], ["P"])
    writer = make_writer(policies={"A": PointPolicy(forced_s=0), "B": PointPolicy(forced_s=0)})
    unsubscribe = store.on_samples(writer.submit)
    store.publish([Sample("A", 1.0, Quality.GOOD, T0), Sample("B", True, Quality.GOOD, T0)])
    store.publish([Sample("A", None, Quality.BAD, T0 + 1, "exception 2")])
    assert writer.flush(10)
    unsubscribe()
    query = HistorianQuery(engine)
    assert [(r.value, r.quality, r.reason) for r in query.raw("A", T0, T0 + 2)] == [
        (1.0, Quality.GOOD, None),
        (None, Quality.BAD, "exception 2"),
    ]
    last = query.last_sample("B")
    assert last is not None and last.value == 1.0
    assert query.point_ids() == ["A", "B"]
    assert query.last_sample("nobody") is None and query.raw("nobody", T0, T0 + 1) == []
