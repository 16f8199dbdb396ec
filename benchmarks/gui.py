"""The whole app on a 10,000-point site at 1 Hz: event-loop lag, CPU, latency, memory.

The main window (floor plan, bridge, status bar) and the facility's pollers
run on one qasync loop, offscreen, exactly as ``necstgen-desk`` composes them,
against the simulator in its own process (:mod:`benchmarks.simchild`:
20 PLCs × 25 rooms × 20 points, doors opening now and then). Measured after
every room shows live values:

- event-loop lag: an asyncio probe asks to wake every 20 ms and records how
  late it woke (p50, p99, max);
- CPU: this process's CPU seconds per wall second (``time.process_time``,
  all threads), and the simulator child's for information;
- end-to-end latency: every ~1.5 s the benchmark makes the simulator serve a new
  value for one ΔP point (rotating over the PLCs) and times, on the shared
  monotonic clock, until the floor plan's value item shows it;
- memory: RSS (``/proc/self/status``) one minute into the run and at its end;
- full garbage collections: how long each generation-2 collection took
  (``gc.callbacks``). Once every room is live the benchmark, like the app,
  freezes the start-up objects (:func:`ui.worker.freeze_startup_objects`);
  ``--no-freeze`` is the baseline without it.

With ``--historian`` the alarm engine (attached to the store and ticking) and
the historian writer (its own thread, a temporary SQLite file, the site's
recording policies) run too, as the app wires them once the records are
open: the issue-5 target "10,000 points at 1 Hz ingested with the GUI thread's
loop lag p99 under 20 ms", inside the whole app. The writer's queue and its
rows are reported.

``python benchmarks/gui.py [--duration 180] [--zoom 0.5] [--historian]`` prints one
JSON object (offscreen unless ``QT_QPA_PLATFORM`` says otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtWidgets import QApplication

from benchmarks.common import ControlledSimulator, percentile, rounded
from benchmarks.sitegen import POINTS_PER_ROOM, write_site
from hal.points import Quantity
from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.historian import HistorianWriter, policies_for_site
from necstgen_desk.runtime import Facility
from necstgen_desk.simprocess import with_endpoints
from necstgen_desk.site import Site, load_site
from necstgen_desk.storage.migrate import upgrade_database
from ui.main_window import MainWindow
from ui.point_display import format_number
from ui.theme import load_stylesheet
from ui.worker import freeze_startup_objects

PROBE_S = 0.02
LATENCY_EVERY_S = 1.5
LATENCY_TIMEOUT_S = 10.0
WINDOW_SIZE = (1600, 900)


def rss_bytes() -> int:
    """Resident set size of this process (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def float32(value: float) -> float:
    import struct  # noqa: PLC0415

    return float(struct.unpack(">f", struct.pack(">f", value))[0])


@dataclass
class _Probe:
    """One injected change being waited for on the plan."""

    point_id: str
    text: str
    applied_at: float = 0.0
    in_store_at: float | None = None


@dataclass
class _Run:
    lags: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    store_latencies: list[float] = field(default_factory=list)
    missed: int = 0
    probe: _Probe | None = None
    seen: asyncio.Event = field(default_factory=asyncio.Event)
    full_gcs: list[float] = field(default_factory=list)  # seconds each full collection took


class _FullCollections:
    """Times Python's full (generation 2) garbage collections while active."""

    def __init__(self, into: list[float]) -> None:
        self._into = into
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self._into.append(time.perf_counter() - self._started)

    def __enter__(self) -> None:
        gc.callbacks.append(self)

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self)


async def _lag_probe(run: _Run, until: float) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        before = time.monotonic()
        await asyncio.sleep(PROBE_S)
        run.lags.append(max(0.0, time.monotonic() - before - PROBE_S))


def _dp_points(site: Site) -> Iterator[str]:
    """The drawn ΔP point of every room, one PLC after another, round robin."""
    by_plc = [
        [
            p.id
            for p in site.points
            if p.plc == plc.id
            and p.hal.quantity is Quantity.DIFFERENTIAL_PRESSURE
            and p.id.endswith(".dp")
        ]
        for plc in site.plcs
    ]
    i = 0
    while True:
        for ids in by_plc:
            yield ids[i % len(ids)]
        i += 1


async def _latency_probes(
    run: _Run, sim: ControlledSimulator, site: Site, until: float, rng: random.Random
) -> None:
    loop = asyncio.get_running_loop()
    points = _dp_points(site)
    k = 0
    while loop.time() + LATENCY_TIMEOUT_S < until:
        await asyncio.sleep(LATENCY_EVERY_S * rng.uniform(0.5, 1.5))  # random phase to the scans
        point_id = next(points)
        value = 60.0 + (k % 300) / 10  # outside anything the physics serves: a new text
        k += 1
        probe = _Probe(point_id, format_number(Quantity.DIFFERENTIAL_PRESSURE, float32(value)))
        run.seen.clear()
        run.probe = probe
        answer = await sim.call(op="set", point=point_id, value=value)
        probe.applied_at = float(answer["t"])
        try:
            await asyncio.wait_for(run.seen.wait(), LATENCY_TIMEOUT_S)
        except TimeoutError:
            run.missed += 1
        run.probe = None
        await sim.call(op="release", point=point_id)


@dataclass
class _Extras:
    """The alarm engine and the historian writer, wired as ``ui.app`` wires them."""

    engine: AlarmEngine
    ticks: asyncio.Task[None]
    writer: HistorianWriter
    detach: list[Callable[[], None]]
    max_queue: int = 0
    watch: asyncio.Task[None] | None = None

    @classmethod
    def start(cls, site: Site, facility: Facility, folder: Path) -> _Extras:
        url = f"sqlite:///{folder / 'desk.sqlite'}"
        upgrade_database(url)
        engine = AlarmEngine(site)
        writer = HistorianWriter(url, policies=policies_for_site(site))
        writer.start()
        detach = [engine.attach(facility.store), facility.store.on_samples(writer.submit)]
        ticks = asyncio.get_running_loop().create_task(engine.run())
        extras = cls(engine, ticks, writer, detach)
        extras.watch = asyncio.get_running_loop().create_task(extras._watch())
        return extras

    async def _watch(self) -> None:
        while True:
            self.max_queue = max(self.max_queue, self.writer.status().queue_depth)
            await asyncio.sleep(0.5)

    def report(self) -> dict[str, Any]:
        status = self.writer.status()
        return {
            "received": status.received,
            "raw_rows": status.raw_rows,
            "rollup_rows": status.rollup_rows,
            "recorded_share": rounded(status.raw_rows / max(1, status.received), 3),
            "queue_max": self.max_queue,
            "queue_at_end": status.queue_depth,
            "behind_at_end": status.behind,
            "dropped": status.dropped,
            "alarms_listed_at_end": self.engine.counts().listed,
        }

    async def stop(self) -> None:
        for detach in self.detach:
            detach()
        for task in (self.ticks, self.watch):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await asyncio.to_thread(self.writer.stop)


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory(prefix="necstgen-bench-") as folder:
        site_path = Path(folder) / "site.toml"
        shape = write_site(site_path, args.plcs, args.rooms, args.points_per_room)
        started = time.monotonic()
        base = load_site(site_path)
        load_s = time.monotonic() - started
        async with ControlledSimulator(site_path, traffic=args.traffic) as sim:
            site = with_endpoints(base, sim.endpoints)
            started = time.monotonic()
            facility = Facility(site)
            window = MainWindow(site, facility.store, remember_geometry=False)
            window.resize(*WINDOW_SIZE)
            window.show()
            if args.zoom is not None:  # zoomed in on the middle of the site
                plan = window.plan
                plan.zoom_by(args.zoom / plan.zoom)
                plan.centerOn(plan.sceneRect().center())
            build_s = time.monotonic() - started
            run = _Run()
            plan = window.plan
            zoom = plan.zoom

            def on_points_changed(changed: frozenset[str]) -> None:
                probe = run.probe
                if (
                    probe is not None
                    and probe.point_id in changed
                    and plan.value_item(probe.point_id).text == probe.text
                ):
                    run.latencies.append(time.monotonic() - probe.applied_at)
                    if probe.in_store_at is not None:
                        run.store_latencies.append(probe.in_store_at - probe.applied_at)
                    run.seen.set()

            def on_samples(samples: list[Any]) -> None:
                probe = run.probe
                if probe is None or probe.in_store_at is not None or not probe.applied_at:
                    return
                for sample in samples:
                    if sample.point_id == probe.point_id and sample.value is not None:
                        text = format_number(Quantity.DIFFERENTIAL_PRESSURE, sample.value)
                        if text == probe.text:
                            probe.in_store_at = time.monotonic()

            # Connected after the plan's own slot, so the plan has refreshed when it runs.
            window.bridge.points_changed.connect(on_points_changed)
            unsubscribe = facility.store.on_samples(on_samples)
            extras = _Extras.start(site, facility, Path(folder)) if args.historian else None
            await facility.start()
            try:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 120
                while plan.spaces_without_live_values():
                    if loop.time() > deadline:
                        raise RuntimeError("not every room showed live values within 120 s")
                    await asyncio.sleep(0.1)
                live_s = time.monotonic() - started
                # As ui.app does once started (--no-freeze: the baseline without it).
                frozen = 0 if args.no_freeze else freeze_startup_objects()

                rss_start = rss_bytes()
                cpu0, wall0, sim_cpu0 = time.process_time(), time.monotonic(), await sim.cpu_s()
                until = loop.time() + args.duration
                rng = random.Random(1)
                lag = asyncio.create_task(_lag_probe(run, until))
                latency = asyncio.create_task(_latency_probes(run, sim, site, until, rng))
                with _FullCollections(run.full_gcs):
                    await asyncio.sleep(min(60.0, args.duration / 3))
                    rss_minute = rss_bytes()
                    await asyncio.gather(lag, latency)
                rss_end = rss_bytes()
                wall = time.monotonic() - wall0
                cpu = time.process_time() - cpu0
                sim_cpu = await sim.cpu_s() - sim_cpu0
                live, total = plan.live_count()
                recording = extras.report() if extras is not None else None
            finally:
                if extras is not None:
                    await extras.stop()
                unsubscribe()
                window.bridge.points_changed.disconnect(on_points_changed)
                await facility.stop()
                window.bridge.stop()
                window.close()
                window.deleteLater()

    period = site.plcs[0].scan_period_s
    lag_p99 = percentile(run.lags, 99)
    latency_p95 = percentile(run.latencies, 95)
    growth = (rss_end - rss_minute) / rss_minute
    return {
        "benchmark": "gui",
        "site": {
            "plcs": shape.plcs,
            "rooms": shape.plcs * shape.rooms_per_plc,
            "points": shape.points,
            "values_on_plan": len(plan.value_items),
            "scan_period_s": period,
        },
        "view_scale": rounded(zoom, 3),
        "objects_frozen_after_startup": frozen,
        "duration_s": rounded(wall, 1),
        "startup_s": {
            "load_site": rounded(load_s, 2),
            "build_window": rounded(build_s, 2),
            "until_all_rooms_live": rounded(live_s, 2),
        },
        "event_loop_lag_ms": {
            "probes": len(run.lags),
            "p50": rounded(percentile(run.lags, 50) * 1000, 2),
            "p99": rounded(lag_p99 * 1000, 2),
            "max": rounded(max(run.lags, default=float("nan")) * 1000, 2),
        },
        "full_gc_ms": {
            "count": len(run.full_gcs),
            "p50": rounded(percentile(run.full_gcs, 50) * 1000, 1),
            "max": rounded(max(run.full_gcs, default=float("nan")) * 1000, 1),
        },
        "cpu_share_of_one_core": rounded(cpu / wall),
        "simulator_cpu_share": rounded(sim_cpu / wall),
        "latency_s": {
            "changes": len(run.latencies),
            "missed": run.missed,
            "p50": rounded(percentile(run.latencies, 50)),
            "p95": rounded(latency_p95),
            "max": rounded(max(run.latencies, default=float("nan"))),
            "to_store_p50": rounded(percentile(run.store_latencies, 50)),
            "to_store_p95": rounded(percentile(run.store_latencies, 95)),
        },
        "rss_mb": {
            "start": rounded(rss_start / 2**20, 1),
            "after_1_min": rounded(rss_minute / 2**20, 1),
            "end": rounded(rss_end / 2**20, 1),
            "growth_after_1_min_pct": rounded(growth * 100, 2),
        },
        "live_points_on_plan_at_end": f"{live} of {total}",
        "historian": recording,
        "targets": {
            "lag_p99_under_20_ms": lag_p99 < 0.020,
            "cpu_under_25pct": cpu / wall < 0.25,
            "latency_p95_under_period_plus_150_ms": latency_p95 < period + 0.150,
            "rss_growth_under_5pct": growth < 0.05,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="GUI benchmark on a large site (prints JSON).")
    parser.add_argument("--duration", type=float, default=180.0, help="seconds (default 180)")
    parser.add_argument("--plcs", type=int, default=20)
    parser.add_argument("--rooms", type=int, default=25, help="rooms per PLC")
    parser.add_argument("--points-per-room", type=int, default=POINTS_PER_ROOM)
    parser.add_argument(
        "--traffic", type=float, default=6.0, help="door passages per door per hour (default 6)"
    )
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="baseline: leave the start-up objects in the garbage collector's generations",
    )
    parser.add_argument(
        "--historian",
        action="store_true",
        help="also run the alarm engine and the historian writer (temporary SQLite file)",
    )
    parser.add_argument(
        "--zoom",
        type=float,
        help="view scale, 1 = one scene pixel per screen pixel (default: the whole site fitted)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyleSheet(load_stylesheet())
    app.setQuitOnLastWindowClosed(False)  # the coroutine decides when to stop, as in ui.app
    import qasync  # noqa: PLC0415 - after QT_API and the PySide6 import, as in ui.app

    def loop_factory() -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
        return loop

    result = asyncio.run(measure(args), loop_factory=loop_factory)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
