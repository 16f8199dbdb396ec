"""The historian: ingest with the GUI loop's lag beside it, loading a week, bytes per point-day.

Everything runs on this machine in one process, on temporary SQLite files
(the default database), side by side with its baseline:

- ``ingest``: 10,000 points at 1 Hz (a noisy ΔP each, default deadband
  0.5 Pa, forced sample every 60 s), in poller-sized lists of 500 samples.
  ``burst``: 60 simulated seconds (600,000 samples) submitted at once and
  drained as fast as the writer can; ``realtime``: 10 s of real time, one
  second's 10,000 samples each second, as the pollers deliver them. During
  both, the asyncio loop in the main thread (the GUI thread under qasync)
  runs a lag probe — a 10 ms ``asyncio.sleep`` in a loop, lag = how late it
  wakes — so the GIL contention of the writer thread shows; ``idle`` is the
  same probe with no writer. Target: sustained 1 Hz with lag p99 < 20 ms.
- ``load_week``: one point over 7 days at 1 Hz (604,800 raw samples, all
  recorded, plus their roll-ups) generated straight into a file;
  ``HistorianQuery.series`` (2,000 points, from the 1-minute roll-ups)
  against the naive way — every raw row, then a min/max decimation in
  Python (:func:`downsample_minmax`) — and, when PySide6 is there, drawing
  each in a pyqtgraph plot offscreen (``setData`` + a rendered frame).
  Target: load + draw under 300 ms.
- ``size``: bytes per point-day after ``VACUUM`` (SQLite ``dbstat``): a day
  of 1 Hz samples of 20 points through the real writer (ΔP, T, RH,
  particles, doors, with the default deadbands), per tier; and the raw
  record with every sample kept (the week above) for comparison.

``python benchmarks/historian.py`` prints one JSON object (about 1–2 min).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from hal.points import Quality, Quantity, Sample
from necstgen_desk.historian import (
    DEFAULT_DEADBANDS,
    HistorianQuery,
    HistorianSettings,
    HistorianWriter,
    PointPolicy,
    Series,
    downsample_minmax,
)
from necstgen_desk.historian.recording import Bucket
from necstgen_desk.storage.engine import make_engine
from necstgen_desk.storage.migrate import upgrade_database

POINTS = 10_000
PER_LIST = 500
BURST_S = 60
REALTIME_S = 10
WEEK_S = 7 * 86_400
MAX_POINTS = 2_000
TARGET_LAG_P99_MS = 20.0
TARGET_LOAD_MS = 300.0
T0 = 1_800_000_000.0  # a whole minute, UTC

type Second = list[list[Sample]]


# ---------------------------------------------------------------- figures


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def rounded(value: float, digits: int = 2) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def lag_summary(lags_s: list[float]) -> dict[str, Any]:
    ms = [1000 * lag for lag in lags_s]
    return {
        "samples": len(ms),
        "p50_ms": rounded(percentile(ms, 50)),
        "p99_ms": rounded(percentile(ms, 99)),
        "max_ms": rounded(max(ms) if ms else math.nan),
    }


class LagProbe:
    """How late a 10 ms ``asyncio.sleep`` wakes, over and over, while it runs."""

    def __init__(self, period_s: float = 0.01) -> None:
        self.period_s = period_s
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        clock = time.perf_counter
        while True:
            started = clock()
            await asyncio.sleep(self.period_s)
            self.lags.append(max(0.0, clock() - started - self.period_s))

    def __enter__(self) -> LagProbe:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


# ---------------------------------------------------------------- signals


class Noise:
    """An Ornstein-Uhlenbeck process sampled every ``dt``: the simulator's ΔP noise
    (sd 0.25 Pa, 2 s correlation) on a slowly wandering level."""

    def __init__(self, rng: random.Random, level: float, sd: float, tau_s: float = 2.0) -> None:
        self.rng = rng
        self.level = level
        self.sd = sd
        self.decay = math.exp(-1.0 / tau_s)
        self.step_sd = sd * math.sqrt(1 - self.decay**2)
        self.noise = 0.0

    def next(self) -> float:
        self.noise = self.noise * self.decay + self.rng.gauss(0.0, self.step_sd)
        return round(self.level + self.noise, 3)


def dp_seconds(ids: list[str], seconds: int, start: float) -> list[Second]:
    rng = random.Random(1)
    signals = [Noise(rng, 45.0 + rng.uniform(-15, 15), 0.25) for _ in ids]
    out: list[Second] = []
    for k in range(seconds):
        t = start + k
        flat = [Sample(p, s.next(), Quality.GOOD, t) for p, s in zip(ids, signals, strict=True)]
        out.append([flat[i : i + PER_LIST] for i in range(0, len(flat), PER_LIST)])
    return out


def fast_settings() -> HistorianSettings:
    return HistorianSettings(retention_every_s=None, batch_samples=20_000, batch_interval_s=1.0)


# ---------------------------------------------------------------- (a) ingest


async def _idle(seconds: float) -> dict[str, Any]:
    with LagProbe() as probe:
        await asyncio.sleep(seconds)
    return lag_summary(probe.lags)


async def _ready(writer: HistorianWriter) -> None:
    while not writer.status().ready:  # noqa: ASYNC110 - another thread's state, polled
        await asyncio.sleep(0.05)


async def _burst(url: str, ids: list[str], policies: dict[str, PointPolicy]) -> dict[str, Any]:
    seconds = dp_seconds(ids, BURST_S, T0)
    total = sum(len(lst) for second in seconds for lst in second)
    newest = [T0]
    writer = HistorianWriter(
        url, policies=policies, settings=fast_settings(), clock=lambda: newest[0]
    )
    writer.start()
    await _ready(writer)  # registration of 10,000 points and the crash repair
    gc.collect()
    depth = 0
    with LagProbe() as probe:
        started = time.perf_counter()
        submit_s = 0.0
        for k, second in enumerate(seconds):
            t = time.perf_counter()
            for samples in second:
                writer.submit(samples)
            submit_s += time.perf_counter() - t
            newest[0] = T0 + k
        while True:
            status = writer.status()
            depth = max(depth, status.queue_depth)
            if status.processed >= total:
                break
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
    final = writer.stop()
    return {
        "samples": total,
        "seconds": round(elapsed, 2),
        "samples_per_s": round(total / elapsed),
        "x_realtime": round(total / elapsed / POINTS, 1),
        "raw_rows": final.raw_rows,
        "recorded_fraction": round(final.raw_rows / total, 3),
        "max_queue_depth": depth,
        "submit_us_per_list": round(1e6 * submit_s / (total / PER_LIST), 2),
        "loop_lag": lag_summary(probe.lags),
    }


async def _realtime(url: str, ids: list[str], policies: dict[str, PointPolicy]) -> dict[str, Any]:
    start = math.floor(time.time())
    seconds = dp_seconds(ids, REALTIME_S, start)
    writer = HistorianWriter(url, policies=policies, settings=fast_settings())
    writer.start()
    await _ready(writer)
    gc.collect()
    depth = 0
    oldest = 0.0
    lists = 0
    loop = asyncio.get_running_loop()
    with LagProbe() as probe:
        began = loop.time()
        for k, second in enumerate(seconds):
            # The pollers' lists of one scan arrive over the second, not at once.
            for i, samples in enumerate(second):
                await asyncio.sleep(max(0.0, began + k + i / len(second) - loop.time()))
                writer.submit(samples)
                lists += 1
                status = writer.status()
                depth = max(depth, status.queue_depth)
                oldest = max(oldest, status.oldest_wait_s)
        await asyncio.sleep(max(0.0, began + REALTIME_S - loop.time()))
    final = writer.stop()
    return {
        "seconds": REALTIME_S,
        "samples": final.received,
        "kept_up": final.processed == final.received and oldest < 3.0,
        "max_queue_depth": depth,
        "max_oldest_wait_s": round(oldest, 2),
        "raw_rows": final.raw_rows,
        "loop_lag": lag_summary(probe.lags),
    }


async def ingest(folder: Path) -> dict[str, Any]:
    ids = [f"P{i:05d}.dp" for i in range(POINTS)]
    policies = dict.fromkeys(ids, PointPolicy(deadband=0.5, forced_s=60.0))
    idle = await _idle(3.0)
    url = f"sqlite:///{folder / 'ingest.sqlite'}"
    upgrade_database(url)
    burst = await _burst(url, ids, policies)
    realtime = await _realtime(url, ids, policies)
    return {
        "points": POINTS,
        "idle_loop_lag": idle,
        "burst": burst,
        "realtime_1hz": realtime,
        "meets_target": bool(
            realtime["kept_up"] and (realtime["loop_lag"]["p99_ms"] or math.inf) < TARGET_LAG_P99_MS
        ),
    }


# ---------------------------------------------------------------- (b) a week


def _bulk_week(path: Path) -> str:
    """604,800 one-second samples of one point, all recorded, and their roll-ups."""
    url = f"sqlite:///{path}"
    upgrade_database(url)
    rng = random.Random(7)
    noise = Noise(rng, 45.0, 0.25)
    spike = WEEK_S // 3
    raw: list[tuple[int, int, float | None, int, None]] = []
    minute: dict[int, Bucket] = {}
    quarter: dict[int, Bucket] = {}
    for k in range(WEEK_S):
        t = (int(T0) + k) * 1_000_000
        value = 80.0 if k == spike else noise.next()
        raw.append((1, t, value, 0, None))
        for buckets, width in ((minute, 60_000_000), (quarter, 900_000_000)):
            start = t - t % width
            bucket = buckets.get(start)
            if bucket is None:
                buckets[start] = Bucket(start, t, value, 0)
            else:
                bucket.add(t, value, 0)

    def rows(buckets: dict[int, Bucket]) -> list[tuple[Any, ...]]:
        return [
            (
                1,
                b.start,
                b.count,
                b.good,
                b.minimum,
                b.maximum,
                b.mean,
                b.worst,
                b.last_quality,
                b.first_t,
                b.last_t,
            )
            for b in buckets.values()
        ]

    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute(
                "INSERT INTO hist_points (id, point_id, critical, created_at) "
                "VALUES (1, 'B-04.dp', 1, '2027-01-15T08:00:00.000000+00:00')"
            )
            connection.executemany("INSERT INTO hist_raw VALUES (?, ?, ?, ?, ?)", raw)
            for table, buckets in (("hist_1m", minute), ("hist_15m", quarter)):
                connection.executemany(
                    f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows(buckets)
                )
    finally:
        connection.close()
    return url


def _median_ms(action: Callable[[], object], runs: int) -> tuple[float, object]:
    times: list[float] = []
    result: object = None
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        result = action()
        times.append(1000 * (time.perf_counter() - started))
    return sorted(times)[len(times) // 2], result


class Plotter:
    """A pyqtgraph plot offscreen: how long ``setData`` and one rendered frame take."""

    def __init__(self) -> None:
        self.app = QApplication.instance() or QApplication([])
        self.widget = pg.PlotWidget()
        self.widget.resize(1600, 500)
        self.curves = [self.widget.plot() for _ in range(3)]

    def draw(self, curves: list[tuple[array[float], array[float]]]) -> None:
        for item, (x, y) in zip(self.curves, curves, strict=False):
            item.setData(
                np.frombuffer(x, dtype=float), np.frombuffer(y, dtype=float), connect="finite"
            )
        for item in self.curves[len(curves) :]:
            item.setData([], [])
        self.widget.grab()  # renders one frame

    def close(self) -> None:
        self.widget.close()
        self.widget.deleteLater()
        self.app.processEvents()


def load_week(folder: Path) -> dict[str, Any]:
    generated = time.perf_counter()
    url = _bulk_week(folder / "week.sqlite")
    generated = time.perf_counter() - generated
    engine = make_engine(url)
    start, end = T0, T0 + WEEK_S
    try:
        query = HistorianQuery(engine, clock=lambda: end)

        def via_rollups() -> Series:
            return query.series("B-04.dp", start, end, max_points=MAX_POINTS)

        def naive() -> tuple[array[float], array[float]]:
            rows = query.raw("B-04.dp", start, end)
            times = [r.t for r in rows]
            values = [math.nan if r.value is None else r.value for r in rows]
            return downsample_minmax(times, values, MAX_POINTS // 2)

        cold_ms, _ = _median_ms(via_rollups, 1)
        rollup_ms, series = _median_ms(via_rollups, 7)
        naive_ms, decimated = _median_ms(naive, 3)
        rows_ms, rows = _median_ms(lambda: query.raw("B-04.dp", start, end), 3)
        assert isinstance(rows, list)
        times = [r.t for r in rows]
        values = [math.nan if r.value is None else r.value for r in rows]
        decimate_ms, _ = _median_ms(lambda: downsample_minmax(times, values, MAX_POINTS // 2), 3)
        assert isinstance(series, Series)
        assert isinstance(decimated, tuple)
        result: dict[str, Any] = {
            "raw_samples": WEEK_S,
            "generated_s": round(generated, 1),
            "series": {
                "tier": series.tier.value,
                "entries": len(series),
                "bucket_s": series.bucket_s,
                "spike_kept": max(v for v in series.maximum if not math.isnan(v)) == 80.0,
                "load_ms_cold": round(cold_ms, 1),
                "load_ms": round(rollup_ms, 1),
            },
            "naive": {
                "rows": WEEK_S,
                "entries": len(decimated[0]),
                "spike_kept": max(decimated[1]) == 80.0,
                "load_ms": round(naive_ms, 1),
                "of_which_query_ms": round(rows_ms, 1),
                "of_which_decimation_ms": round(decimate_ms, 1),
            },
            "load_speedup": round(naive_ms / rollup_ms, 1),
        }
        plotter = Plotter()
        try:
            envelope = [
                (series.times, series.minimum),
                (series.times, series.maximum),
                (series.times, series.mean),
            ]
            draw_ms, _ = _median_ms(lambda: plotter.draw(envelope), 5)
            naive_draw_ms, _ = _median_ms(lambda: plotter.draw([decimated]), 3)
            full_rows = query.raw("B-04.dp", start, end)
            full = (
                array("d", (r.t for r in full_rows)),
                array("d", (math.nan if r.value is None else r.value for r in full_rows)),
            )
            raw_draw_ms, _ = _median_ms(lambda: plotter.draw([full]), 3)
        finally:
            plotter.close()
        total = rollup_ms + draw_ms
        result["draw"] = {
            "envelope_ms": round(draw_ms, 1),
            "naive_decimated_ms": round(naive_draw_ms, 1),
            "all_604800_points_ms": round(raw_draw_ms, 1),
        }
        result["load_and_draw_ms"] = round(total, 1)
        result["naive_load_and_draw_ms"] = round(naive_ms + naive_draw_ms, 1)
        result["meets_target"] = total < TARGET_LOAD_MS
    finally:
        engine.dispose()
    return result


# ---------------------------------------------------------------- (c) size


def _table_bytes(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        connection.execute("VACUUM")
        rows = connection.execute(
            "SELECT name, sum(pgsize) FROM dbstat WHERE name IN "
            "('hist_raw', 'hist_1m', 'hist_15m') GROUP BY name"
        ).fetchall()
    finally:
        connection.close()
    return {name: int(size) for name, size in rows}


def _day_of_a_site(points: int) -> tuple[list[Second], dict[str, PointPolicy]]:
    """One day at 1 Hz of a room-like mix, one list per second."""
    rng = random.Random(3)
    quantities = [
        Quantity.DIFFERENTIAL_PRESSURE,
        Quantity.DIFFERENTIAL_PRESSURE,
        Quantity.TEMPERATURE,
        Quantity.HUMIDITY,
        Quantity.PARTICLES_0_5,
    ]
    specs: list[tuple[str, Quantity, Noise]] = []
    for i in range(points):
        quantity = quantities[i % len(quantities)]
        noise = {
            Quantity.DIFFERENTIAL_PRESSURE: Noise(rng, 45.0, 0.25),
            Quantity.TEMPERATURE: Noise(rng, 21.0, 0.25, tau_s=600.0),
            Quantity.HUMIDITY: Noise(rng, 45.0, 1.2, tau_s=600.0),
            Quantity.PARTICLES_0_5: Noise(rng, 800.0, 32.0, tau_s=5.0),
        }[quantity]
        specs.append((f"S{i:02d}.{quantity.value}", quantity, noise))
    policies = {
        name: PointPolicy(deadband=DEFAULT_DEADBANDS[q], forced_s=60.0) for name, q, _ in specs
    }
    seconds: list[Second] = []
    for k in range(86_400):
        t = T0 + k
        seconds.append([[Sample(name, noise.next(), Quality.GOOD, t) for name, _, noise in specs]])
    return seconds, policies


def size(folder: Path, week_path: Path) -> dict[str, Any]:
    points = 20
    seconds, policies = _day_of_a_site(points)
    path = folder / "day.sqlite"
    url = f"sqlite:///{path}"
    upgrade_database(url)
    newest = [T0]
    writer = HistorianWriter(
        url, policies=policies, settings=fast_settings(), clock=lambda: newest[0]
    )
    writer.start()
    for k, second in enumerate(seconds):
        for samples in second:
            writer.submit(samples)
        newest[0] = T0 + k
        if k % 3600 == 0:
            writer.flush(60)
    status = writer.stop()
    by_table = _table_bytes(path)
    per_point_day = {
        name: round(by_table.get(name, 0) / points) for name in ("hist_raw", "hist_1m", "hist_15m")
    }
    week_tables = _table_bytes(week_path)
    return {
        "points": points,
        "samples": status.received,
        "recorded_fraction": round(status.raw_rows / status.received, 3),
        "bytes_per_point_day": {
            **per_point_day,
            "total": sum(per_point_day.values()),
            "raw_every_sample": round(week_tables["hist_raw"] / 7),
        },
        "bytes_per_raw_row": round(by_table.get("hist_raw", 0) / max(1, status.raw_rows), 1),
    }


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--keep", type=Path, help="keep the databases in this folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="necstgen-historian-") as temporary:
        folder: Path = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        report: dict[str, Any] = {
            "benchmark": "historian",
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
            "sqlite": sqlite3.sqlite_version,
        }
        report["ingest"] = asyncio.run(ingest(folder))
        report["load_week"] = load_week(folder)
        report["size"] = size(folder, folder / "week.sqlite")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
