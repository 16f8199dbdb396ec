"""The alarm engine's cost per sample: 10,000 points changing every second, 3,000 alarms active.

A generated site (:mod:`benchmarks.sitegen`: 20 PLCs × 25 rooms × 20 points =
10,020 points, 10,000 of them polled values with limits or doors) is judged
by one :class:`~necstgen_desk.alarms.engine.AlarmEngine` with a hand-driven
clock, no simulator and no network: what is measured is the engine alone.

- Every point gets a new value every simulated second, in batches of one
  PLC scan (about 500 samples), as the pollers deliver them. The samples are
  built before the clock starts.
- 3,000 limit points sit between their alert and action limits the whole
  time, so 3,000 alert alarms are active (and stay so: the steady state the
  engine sees most of the time); the other values wander inside their limits.
- ``churn``: the same, with 1 % of the points crossing a limit and back each
  second, so alarms are raised and cleared (changes, listeners, flood count).
- Baseline, in the same run over the same batches: a bare loop storing each
  sample in a dict by point id (what the point store does, without listeners).

Reported: µs per sample (median and best of the rounds) for the engine and the
baseline, their ratio, ``tick()`` cost per second, and whether the engine
stays under the 10 µs per sample target. The alarm-list half of the
benchmark (the Qt view of 3,000 alarms) comes with the UI.

``python benchmarks/alarms.py [--seconds 30]`` prints one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import percentile, rounded
from benchmarks.sitegen import generate_site
from hal.points import Access, Quality, Quantity, Sample, Value
from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.model import AlarmChange
from necstgen_desk.site import Site, parse_site
from necstgen_desk.site.model import Limits, PointConfig

TARGET_US = 10.0
ACTIVE_ALARMS = 3_000
T0 = 1_800_000_000.0

Batch = list[Sample]
Second = list[Batch]


def _band(point: PointConfig) -> tuple[float, float] | None:
    """The range a point's value wanders in when all is well (inside its alert limits)."""
    limits: Limits = point.limits_at_rest or point.limits
    lo = limits.alert_low if limits.alert_low is not None else limits.action_low
    hi = limits.alert_high if limits.alert_high is not None else limits.action_high
    if lo is None and hi is None:
        return None
    if lo is None:
        assert hi is not None
        lo = hi * 0.1
    if hi is None:
        hi = lo + 10.0
    return (lo, hi)


def _alerting(point: PointConfig) -> float | None:
    """A value between the alert and the action limit (high side), or None."""
    limits = point.limits_at_rest or point.limits
    if limits.alert_high is None or limits.action_high is None:
        return None
    return (limits.alert_high + limits.action_high) / 2


def build_seconds(
    site: Site, seconds: int, *, churn: float, seed: int = 1
) -> tuple[list[Second], int]:
    """``seconds`` seconds of samples, batched per PLC; and how many points alert."""
    rng = random.Random(seed)
    polled = [p for p in site.points if p.hal.access is Access.READ]
    alerting: dict[str, float] = {}
    for point in polled:
        if len(alerting) >= ACTIVE_ALARMS:
            break
        value = _alerting(point)
        if value is not None and point.hal.quantity is Quantity.TEMPERATURE:
            alerting[point.id] = value
    for point in polled:  # then any other limit point, if the temperatures did not suffice
        if len(alerting) >= ACTIVE_ALARMS:
            break
        value = _alerting(point)
        if value is not None and point.id not in alerting:
            alerting[point.id] = value
    bands = {p.id: _band(p) for p in polled}
    by_plc: dict[str, list[PointConfig]] = {}
    for point in polled:
        by_plc.setdefault(point.plc, []).append(point)
    churners = [p.id for p in polled if bands[p.id] is not None and p.id not in alerting]
    rng.shuffle(churners)
    churn_count = round(len(polled) * churn)

    out: list[Second] = []
    for second in range(seconds):
        now = T0 + second
        flipping = set(churners[:churn_count]) if second % 2 else set()
        batches: Second = []
        for points in by_plc.values():
            batch: Batch = []
            for point in points:
                batch.append(
                    Sample(
                        point.id, _value(point, bands, alerting, flipping, rng), Quality.GOOD, now
                    )
                )
            batches.append(batch)
        out.append(batches)
    return out, len(alerting)


def _value(
    point: PointConfig,
    bands: dict[str, tuple[float, float] | None],
    alerting: dict[str, float],
    flipping: set[str],
    rng: random.Random,
) -> Value:
    q = point.hal.quantity
    if q is Quantity.DOOR_CLOSED:
        return True
    if q is Quantity.DOOR_LOCKED:
        return False
    if q is Quantity.HEARTBEAT:
        return int(rng.random() * 65535)
    if q is Quantity.INTERLOCK_FAULT:
        return 0
    if point.id in alerting:
        return alerting[point.id] * (1 + rng.uniform(-0.001, 0.001))
    band = bands[point.id]
    if band is None:
        return rng.random() * 100
    lo, hi = band
    if point.id in flipping:
        return hi + (hi - lo)  # beyond the alert and action limits, for one second
    return lo + (hi - lo) * rng.uniform(0.3, 0.7)


def _time_engine(engine: AlarmEngine, seconds: list[Second]) -> tuple[list[float], list[float]]:
    """Seconds spent in ``feed`` per simulated second, and in ``tick``."""
    feeds: list[float] = []
    ticks: list[float] = []
    clock = time.perf_counter
    for index, batches in enumerate(seconds):
        now = T0 + 1000 + index
        started = clock()
        for batch in batches:
            engine.feed(batch, now)
        middle = clock()
        engine.tick(now)
        ticks.append(clock() - middle)
        feeds.append(middle - started)
    return feeds, ticks


def _time_baseline(seconds: list[Second]) -> list[float]:
    latest: dict[str, Sample] = {}
    out: list[float] = []
    clock = time.perf_counter
    for batches in seconds:
        started = clock()
        for batch in batches:
            for sample in batch:
                latest[sample.point_id] = sample
        out.append(clock() - started)
    return out


def _per_sample_us(durations: list[float], samples: int) -> dict[str, float | None]:
    per = [d / samples * 1e6 for d in durations]
    return {
        "median": rounded(percentile(per, 50), 3),
        "best": rounded(min(per), 3),
        "p99": rounded(percentile(per, 99), 3),
    }


def measure(seconds: int, churn: float) -> dict[str, Any]:
    site = parse_site(generate_site(20, 25), source="generated")
    data, alerting = build_seconds(site, seconds + 1, churn=churn)
    warm, rounds = data[0], data[1:]
    samples = sum(len(b) for b in warm)

    changes: list[AlarmChange] = []
    engine = AlarmEngine(site, clock=lambda: T0)
    engine.on_change(changes.extend)
    for batch in warm:
        engine.feed(batch, T0)
    engine.tick(T0 + 1)
    active = len(engine.active_alarms())
    changes.clear()

    gc.collect()
    gc.disable()
    try:
        baseline = _time_baseline(rounds)
        feeds, ticks = _time_engine(engine, rounds)
        baseline_again = _time_baseline(rounds)
    finally:
        gc.enable()
    baseline = [min(a, b) for a, b in zip(baseline, baseline_again, strict=True)]
    engine_us = _per_sample_us(feeds, samples)
    baseline_us = _per_sample_us(baseline, samples)
    median = engine_us["median"]
    assert median is not None and baseline_us["median"] is not None
    return {
        "points": len(site.points),
        "samples_per_second": samples,
        "alarm_definitions": len(engine.definitions),
        "active_alarms": active,
        "alerting_points": alerting,
        "seconds": len(rounds),
        "churn_fraction": churn,
        "alarm_changes": len(changes),
        "engine_us_per_sample": engine_us,
        "baseline_dict_update_us_per_sample": baseline_us,
        "ratio_engine_to_baseline": rounded(median / baseline_us["median"], 2),
        "tick_ms_per_second": rounded(percentile([t * 1e3 for t in ticks], 50), 3),
        "target_us_per_sample": TARGET_US,
        "meets_target": median < TARGET_US,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=30, help="simulated seconds per run")
    parser.add_argument("--churn", type=float, default=0.01, help="fraction of points flipping")
    args = parser.parse_args(argv)
    if args.seconds < 2 or not (0 <= args.churn < 1) or math.isnan(args.churn):
        parser.error("--seconds must be at least 2 and --churn within [0, 1)")
    # Floods come and go with the churn; the report says how the engine fares, not the log.
    logging.getLogger("necstgen_desk.alarms").setLevel(logging.ERROR)
    report = {
        "benchmark": "alarm engine, 10,000 points at 1 Hz, 3,000 alarms active",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "steady": measure(args.seconds, 0.0),
        "churn": measure(args.seconds, args.churn),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
