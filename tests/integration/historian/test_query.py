"""Series: the tier chosen by the span, envelopes that keep every spike, gaps
shown explicitly, the open minutes filled from the raw record."""

from __future__ import annotations

import math
import random

import pytest
from sqlalchemy import Engine

from hal.points import Quality, Sample
from necstgen_desk.historian import NO_DATA, QUALITY_CODE, HistorianQuery, PointPolicy, Tier
from tests.integration.historian.conftest import Clock, WriterFactory
from tests.unit.historian.strategies import T0

DAY = 86_400
DAYS = 8
STEP = 20  # seconds between samples
SPIKE_AT = T0 + 3 * DAY + 4321 * STEP
OUTAGE = (T0 + 5 * DAY, T0 + 5 * DAY + 2 * 3600)  # PLC down: one COMM_FAIL, then nothing
PAUSE = (T0 + 6 * DAY, T0 + 6 * DAY + 3 * 3600)  # the app was not running
END = T0 + DAYS * DAY
POLICY = PointPolicy(deadband=0.5, forced_s=60)


@pytest.fixture
def week(make_writer: WriterFactory) -> Clock:
    """Eight days of a noisy ΔP every 20 s with one spike, an outage and a pause;
    the writer still runs (its open buckets are not stored yet)."""
    rng = random.Random(8)
    clock = Clock(T0)
    writer = make_writer(policies={"B-04.dp": POLICY}, clock=clock)
    level = 45.0
    t = float(T0)
    batch: list[Sample] = []
    while t < END:
        if PAUSE[0] <= t < PAUSE[1]:
            t += STEP
            continue
        if OUTAGE[0] <= t < OUTAGE[1]:
            if t == OUTAGE[0]:
                batch.append(Sample("B-04.dp", None, Quality.COMM_FAIL, t, "connection refused"))
            t += STEP
            continue
        level += rng.gauss(0, 0.4) + (45.0 - level) * 0.05
        value = 95.0 if t == SPIKE_AT else round(level, 2)
        batch.append(Sample("B-04.dp", value, Quality.GOOD, t))
        clock.now = t
        if len(batch) >= 500:
            writer.submit(batch)
            batch = []
        t += STEP
    writer.submit(batch)
    assert writer.flush(30)
    return clock


def _query(engine: Engine, clock: Clock) -> HistorianQuery:
    return HistorianQuery(engine, policies={"B-04.dp": POLICY}, clock=clock)


def _finite(values: list[float]) -> list[float]:
    return [v for v in values if not math.isnan(v)]


@pytest.mark.parametrize(
    ("span_s", "max_points", "tier"),
    [
        (3600, 2000, Tier.RAW),  # an hour: every recorded sample
        (DAY, 2000, Tier.RAW),  # a day of change-based samples is still few
        (DAYS * DAY, 2000, Tier.MINUTE),  # a week: the minute roll-ups
        (DAYS * DAY, 300, Tier.QUARTER_HOUR),  # coarser still
    ],
)
def test_the_tier_follows_the_span_and_spikes_survive(
    week: Clock, engine: Engine, span_s: int, max_points: int, tier: Tier
) -> None:
    start = SPIKE_AT - span_s // 2
    series = _query(engine, week).series("B-04.dp", start, start + span_s, max_points=max_points)
    assert series.tier is tier
    assert len(series) <= max_points + 1 + len(series.gaps)
    assert max(_finite(list(series.maximum))) == 95.0  # the spike, whatever the zoom
    assert min(_finite(list(series.minimum))) < 50
    assert list(series.times) == sorted(series.times)
    if tier is not Tier.RAW:
        assert series.bucket_s >= tier.width_us / 1e6
        # min <= mean <= max in every bucket with a value
        for lo, mean, hi in zip(series.minimum, series.mean, series.maximum, strict=True):
            if not math.isnan(mean):
                assert lo <= mean + 1e-9 and mean <= hi + 1e-9


@pytest.mark.parametrize("max_points", [2000, 300])
def test_gaps_are_explicit_in_every_tier(week: Clock, engine: Engine, max_points: int) -> None:
    series = _query(engine, week).series("B-04.dp", T0, END, max_points=max_points)
    outage = [g for g in series.gaps if g.quality is Quality.COMM_FAIL]
    pause = [g for g in series.gaps if g.quality is None and g.end - g.start > 3600]
    assert len(outage) == 1 and len(pause) == 1
    width = Tier.QUARTER_HOUR.width_us / 1e6  # bucket resolution at worst
    assert abs(outage[0].start - OUTAGE[0]) <= width and abs(outage[0].end - OUTAGE[1]) <= width
    assert abs(pause[0].start - PAUSE[0]) <= width and abs(pause[0].end - PAUSE[1]) <= width
    # A marker with NaN at each gap's start breaks the line there.
    for gap in (outage[0], pause[0]):
        i = list(series.times).index(gap.start)
        assert math.isnan(series.mean[i])
        assert series.worst[i] in (QUALITY_CODE[Quality.COMM_FAIL], NO_DATA)


def test_the_series_reaches_the_present(week: Clock, engine: Engine) -> None:
    """The last minutes are in the writer's open buckets; the query rolls them up from raw."""
    query = _query(engine, week)
    last = END - STEP
    stored = query.rollups("B-04.dp", Tier.MINUTE, END - 3600, END)
    assert stored[-1][0] / 1e6 < last - last % 60  # the last minute is not stored yet
    series = query.series("B-04.dp", END - 2 * DAY, END, max_points=2000)
    assert series.tier is Tier.MINUTE
    assert series.times[-1] == last - last % series.bucket_s
    assert series.count[-1] > 0 and not math.isnan(series.mean[-1])
    assert not [g for g in series.gaps if g.end > END - 600]


def test_raw_gaps_and_the_empty_point(week: Clock, engine: Engine) -> None:
    query = _query(engine, week)
    series = query.series("B-04.dp", OUTAGE[0] - 600, OUTAGE[1] + 600)
    assert series.tier is Tier.RAW
    assert [(g.start, g.end, g.quality) for g in series.gaps] == [
        (OUTAGE[0], OUTAGE[1], Quality.COMM_FAIL)
    ]
    gaps = query.gaps("B-04.dp", T0, END, 30)
    assert len(gaps) == 2, gaps
    assert (gaps[0].start, gaps[0].end, gaps[0].quality) == (*OUTAGE, Quality.COMM_FAIL)
    # A pause is seen from the last recorded sample plus the forced interval.
    assert gaps[1].quality is None and gaps[1].end == PAUSE[1]
    assert abs(gaps[1].start - PAUSE[0]) <= POLICY.forced_s
    assert query.gaps("B-04.dp", T0, END, 4 * 3600) == []  # none that long
    empty = query.series("nobody", T0, T0 + 3600)
    assert len(empty) == 1 and math.isnan(empty.mean[0])
    assert [(g.start, g.end, g.quality) for g in empty.gaps] == [(T0, T0 + 3600, None)]
    with pytest.raises(ValueError, match="after its start"):
        query.series("B-04.dp", T0, T0)
