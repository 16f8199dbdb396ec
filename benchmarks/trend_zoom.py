"""Zooming a trend from an hour to one minute: is there a visible pause?

The real :class:`ui.trend_view.TrendView` (offscreen, on a qasync loop, its reads
on a :class:`ui.worker.ServiceWorker` as in the app) over one point recorded
every second for a week (the week file of ``benchmarks/historian.py``). For ten
minutes spread over the week, from the hour around each: ``set_range`` to the
minute, measuring

- the axis on the minute (the synchronous part of ``set_range``),
- until the minute is read again (raw tier) and drawn,
- the longest the GUI thread was busy meanwhile (a 2 ms timer on it).

Side by side, the naive redraw a simpler trend would do: read the minute's raw
rows and draw them on the GUI thread; the GUI is busy for all of it.

``python benchmarks/trend_zoom.py`` prints one JSON object (~10 s, most of it
writing the week).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from benchmarks.common import percentile, rounded
from benchmarks.historian import T0, WEEK_S, Plotter, _bulk_week
from necstgen_desk.historian import HistorianQuery, Tier
from necstgen_desk.site import DEFAULT_SITE_PATH, load_site
from necstgen_desk.storage.engine import make_engine
from ui.trend_view import TrendSources, TrendView
from ui.worker import GuiThreadGarbageCollector, ServiceWorker

POINT = "B-04.dp"
ZOOMS = 10
VISIBLE_PAUSE_MS = 100.0  # what an operator notices as a hitch


class StallProbe:
    """A 2 ms timer on the GUI thread: the longest gap between its ticks."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(2)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self._last)
        self._last = now

    def stop(self) -> float:
        self._timer.stop()
        self._tick()
        return self.longest


async def _drawn(view: TrendView, reads: int) -> None:
    while view.loads <= reads or view.busy:  # noqa: ASYNC110 - the view has no event for it
        await asyncio.sleep(0.002)


async def measure(folder: Path) -> dict[str, Any]:
    generated = time.perf_counter()
    url = _bulk_week(folder / "week.sqlite")
    generated = time.perf_counter() - generated
    engine = make_engine(url)
    end = T0 + WEEK_S
    query = HistorianQuery(engine, clock=lambda: end)
    worker = ServiceWorker("zoom benchmark")
    gc_guard = GuiThreadGarbageCollector()
    gc_guard.start()
    view = TrendView(TrendSources(load_site(DEFAULT_SITE_PATH), worker, query))
    view.resize(1500, 800)
    view.show()
    plotter = Plotter()
    axis: list[float] = []
    redraw: list[float] = []
    stalls: list[float] = []
    naive: list[float] = []
    raw_samples: list[int] = []
    try:
        view.set_points([POINT])
        for k in range(ZOOMS):
            centre = T0 + 1800 + k * (WEEK_S - 3600) // ZOOMS
            reads = view.loads
            view.set_range(centre - 1800, centre + 1800)
            await _drawn(view, reads)
            reads = view.loads
            probe = StallProbe()
            started = time.perf_counter()
            view.set_range(centre - 30, centre + 30)
            axis.append(time.perf_counter() - started)
            await _drawn(view, reads)
            redraw.append(time.perf_counter() - started)
            stalls.append(probe.stop())
            series = view.series[POINT]
            assert series.tier is Tier.RAW, series.tier
            raw_samples.append(len(series))

            started = time.perf_counter()
            rows = query.raw(POINT, centre - 30, centre + 30)
            x = array("d", (r.t for r in rows))
            y = array("d", (math.nan if r.value is None else r.value for r in rows))
            plotter.draw([(x, y)])
            naive.append(time.perf_counter() - started)
    finally:
        plotter.close()
        await view.aclose()
        view.close()
        view.deleteLater()
        await worker.call(engine.dispose)
        worker.shutdown()
        gc_guard.stop()

    def ms(values: list[float], q: float) -> float | None:
        return rounded(percentile(values, q) * 1000, 1)

    longest = max(stalls) * 1000
    return {
        "benchmark": "trend_zoom",
        "week_generated_s": round(generated, 1),
        "zooms": ZOOMS,
        "raw_samples_drawn_per_minute": sorted(set(raw_samples)),
        "axis_on_the_minute_ms": {"p50": ms(axis, 50), "max": ms(axis, 100)},
        "minute_read_and_drawn_ms": {"p50": ms(redraw, 50), "max": ms(redraw, 100)},
        "gui_thread_busy_at_most_ms": {"p50": ms(stalls, 50), "max": rounded(longest, 1)},
        "naive_read_and_draw_on_gui_thread_ms": {"p50": ms(naive, 50), "max": ms(naive, 100)},
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "no_visible_pause": longest < VISIBLE_PAUSE_MS,
    }


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # the coroutine decides when to stop, as in ui.app
    import qasync  # noqa: PLC0415 - after QT_API and the PySide6 import, as in ui.app

    def loop_factory() -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
        return loop

    with tempfile.TemporaryDirectory(prefix="necstgen-zoom-") as folder:
        result = asyncio.run(measure(Path(folder)), loop_factory=loop_factory)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
