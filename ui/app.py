"""The GUI entry point: Qt application, asyncio loop, facility, main window.

Everything after the site file is read runs as coroutines on one qasync loop
on the Qt event loop, so starting the simulator child, connecting to PLCs and
waiting for values never freeze the window. The alarm engine judges the
facility's samples from the start (:mod:`ui.alarm_desk`: banner, list, plan
marks, horn), in screenshot mode too. When people use the window (not in
screenshot mode) the GMP records open next (:mod:`ui.records_desk`: schema
upgrade with a backup, audit chain check, the alarm journal restored, then the
first administrator or the log-in before the window can be used); with them the
historian records every sample in the same database from its own thread, and
the room views and trends (:mod:`ui.room_view`, :mod:`ui.trend_view`) read it.
Exit codes, for scripts and CI:

0 closed normally or screenshot written · 1 unexpected failure (e.g. PNG not
written) · 2 bad site file · 3 no PLC reachable (or the demo simulator did not
start) · 4 PLCs reachable but not every room showed live values in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import logging.handlers
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QMessageBox, QSplashScreen

from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.model import AlarmKind
from necstgen_desk.clock import MIN_TICK_S, WALL_CLOCK, FacilityClock
from necstgen_desk.historian import HistorianWriter, historian_settings, policies_for_site
from necstgen_desk.historian.model import OverflowEpisode
from necstgen_desk.live import PointStore
from necstgen_desk.options import AppOptions
from necstgen_desk.runtime import Facility
from necstgen_desk.site import DEFAULT_SITE_PATH, Site, SiteError, load_site
from necstgen_desk.storage.engine import default_db_url
from necstgen_desk.timelapse import resume_at
from ui.alarm_desk import AlarmDesk
from ui.historian_status import HistorianIndicator
from ui.main_window import APPLICATION, ORGANISATION, MainWindow
from ui.records_desk import RecordsConfig, RecordsDesk
from ui.room_view import DisplayDesk
from ui.theme import ICON_PATH, load_stylesheet
from ui.timefmt import use_clock
from ui.worker import freeze_startup_objects

if TYPE_CHECKING:
    from necstgen_desk.simprocess import SimulatorProcess

log = logging.getLogger(__name__)

HISTORIAN_SOURCE = "historian"  # the source of the historian's system alarm

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_SITE = 2
EXIT_NO_PLC = 3
EXIT_NO_LIVE_VALUES = 4

LOG_NAME = "necstgen-desk.log"
_LOG_HANDLER_NAME = "necstgen-desk-file"
_READY_POLL_S = 0.25
SCREENSHOT_SIZE = (1600, 900)
TICK_S = 0.25  # the alarm engine's tick on the facility's clock (delays, shelves, countdown)


# ------------------------------------------------------------------ logging


def configure_logging(log_dir: Path | None = None, level: int = logging.INFO) -> Path:
    """Log to a rotating file in the user's log folder; returns the file's path.

    Kept out of the core so the core never decides where a desktop user's
    logs go. Idempotent: a second call does not add a second handler.
    """
    folder = log_dir if log_dir is not None else Path(platformdirs.user_log_dir("necstgen-desk"))
    path = folder / LOG_NAME
    root = logging.getLogger()
    for handler in root.handlers:
        if handler.get_name() == _LOG_HANDLER_NAME:
            return path
    target: logging.Handler
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = logging.handlers.RotatingFileHandler(
            path, maxBytes=5_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError as error:
        print(f"necstgen-desk: cannot write the log {path}: {error}", file=sys.stderr)
        target = logging.StreamHandler(sys.stderr)
    target.set_name(_LOG_HANDLER_NAME)
    target.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root.addHandler(target)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    # The pollers log a lost link once and its recovery; pymodbus would log
    # every failed request of an unreachable PLC at ERROR. Keep its criticals.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    return path


# ------------------------------------------------------------------ entry


def run(options: AppOptions) -> int:
    """Start the GUI and block until the window closes (or the screenshot is saved)."""
    log_path = configure_logging()
    log.info("starting %s (%s); log %s", APPLICATION, options, log_path)
    screenshot = options.screenshot is not None
    if screenshot and sys.platform.startswith("linux"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setDesktopFileName("necstgen-desk")  # matches packaging/necstgen-desk.desktop
    app.setWindowIcon(QIcon(str(ICON_PATH)))
    # The coroutine decides when to stop: closing the window must not end the
    # Qt loop under it before the facility and the simulator are stopped.
    app.setQuitOnLastWindowClosed(False)
    app.setStyleSheet(load_stylesheet())

    try:
        site = load_site(options.site_path or DEFAULT_SITE_PATH)
    except SiteError as error:
        _report(f"The site file cannot be used:\n\n{error}", gui=not screenshot)
        return EXIT_BAD_SITE

    os.environ.setdefault("QT_API", "pyside6")  # qasync reads it at import
    import qasync  # noqa: PLC0415 - must follow QT_API and the PySide6 import

    def loop_factory() -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
        return loop

    try:
        return asyncio.run(_Session(app, options, site).run(), loop_factory=loop_factory)
    except Exception:
        log.exception("%s stopped on an unexpected error", APPLICATION)
        _report(
            f"{APPLICATION} stopped on an unexpected error. Details are in the log:\n{log_path}",
            gui=not screenshot,
        )
        return EXIT_FAILED


def _report(message: str, *, gui: bool) -> None:
    """Tell the user why we stop: on stderr always, in a message box when interactive.

    Only for use outside the asyncio loop: a modal box runs a nested Qt loop.
    """
    print(f"necstgen-desk: {message}", file=sys.stderr, flush=True)
    log.error("%s", message)
    if gui:
        QMessageBox.critical(None, APPLICATION, message)


async def _report_async(message: str, *, gui: bool) -> None:
    """As :func:`_report`, but the box is window-modal and awaited, not a nested loop."""
    print(f"necstgen-desk: {message}", file=sys.stderr, flush=True)
    log.error("%s", message)
    if not gui:
        return
    box = QMessageBox(QMessageBox.Icon.Critical, APPLICATION, message)
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def finished(_result: int) -> None:
        if not done.done():
            done.set_result(None)

    box.finished.connect(finished)
    box.open()
    try:
        await done
    finally:
        box.deleteLater()


@dataclass
class _Readiness:
    any_link_up: bool
    waiting_for: list[str]


class _Session:
    """One run of the app: owns the simulator child, the facility and the window."""

    def __init__(self, app: QApplication, options: AppOptions, site: Site) -> None:
        self.app = app
        self.options = options
        self.site = site
        self.screenshot = options.screenshot
        # The wall clock, or a time-lapse demo's plant clock (set in _run, ADR 0006).
        self.clock: FacilityClock = WALL_CLOCK
        self.simulator: SimulatorProcess | None = None
        self.facility: Facility | None = None
        self.window: MainWindow | None = None
        self.desk: RecordsDesk | None = None
        self.alarms: AlarmDesk | None = None
        self.displays: DisplayDesk | None = None
        self.historian: HistorianWriter | None = None
        self._detach_historian: Callable[[], None] | None = None
        self.historian_indicator: HistorianIndicator | None = None
        self._alarm_ticks: asyncio.Task[None] | None = None
        self._detach_alarms: Callable[[], None] | None = None
        self._closed = asyncio.Event()

    async def run(self) -> int:
        self.app.aboutToQuit.connect(self._closed.set)
        loop = asyncio.get_running_loop()

        def on_signal(signum: int, _frame: object) -> None:
            """Ctrl+C or a service stop closes the app cleanly (the simulator child too)."""
            log.info("signal %s received; closing", signal.Signals(signum).name)
            loop.call_soon_threadsafe(self._closed.set)

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            return await self._run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            await self._shutdown()

    async def _run(self) -> int:
        site = self.site
        demo = self.options.site_path is None
        if demo and self.options.speed != 1.0:
            self.clock = await self._time_lapse_clock()
            use_clock(self.clock.utc)  # the forms' and dialogs' "now" too
        if demo:
            started = await self._start_simulator()
            if started is None:
                return EXIT_NO_PLC
            site = started
        clock = self.clock
        self.facility = Facility(site, clock=clock)
        engine = AlarmEngine(site, clock=clock, time_lapse=clock.speed)
        subtitle = "demo: simulated plant" if demo else ""
        if clock.time_lapse:
            subtitle += f", time-lapse ×{clock.speed:g}"
        window = MainWindow(
            site,
            self.facility.store,
            remember_geometry=self.screenshot is None,
            subtitle=subtitle,
            time_note=clock.describe(),
        )
        self.window = window
        self.alarms = AlarmDesk(window, engine)
        self.displays = DisplayDesk(window, engine=engine, clock=clock)  # room views and trends
        window.closed.connect(self._closed.set)
        if self.screenshot is not None:
            window.resize(*SCREENSHOT_SIZE)  # the same picture on every machine
        window.show()
        if self.screenshot is None:
            # People use the window: open the GMP records (and the alarm journal,
            # restored before the first sample) and ask who is there.
            config = self._records_config()
            self.desk = RecordsDesk(
                window,
                site,
                config,
                alarms=self.alarms,
                coil_writer=self.facility,
            )
            if await self.desk.start():
                self.displays.open_records(self.desk)
                self._start_historian(site, config.db_url)
        self._detach_alarms = engine.attach(self.facility.store)
        self._alarm_ticks = asyncio.get_running_loop().create_task(
            engine.run(clock.paced(TICK_S, MIN_TICK_S)), name="alarm engine ticks"
        )
        await self.facility.start()
        frozen = freeze_startup_objects()  # full collections on the GUI thread stay short
        log.info("start-up done: %d long-lived objects left out of garbage collection", frozen)
        if self.screenshot is not None:
            return await self._take_screenshot(window, self.screenshot)
        await self._closed.wait()
        return EXIT_OK

    def _start_historian(self, site: Site, db_url: str) -> None:
        """Record every sample in the records database, from the historian's own thread."""
        assert self.facility is not None
        writer = HistorianWriter(
            db_url,
            policies=policies_for_site(site, time_lapse=self.clock.speed),
            settings=historian_settings(site),
            on_overflow=self._historian_overflow,
            clock=self.clock,
        )
        writer.start()
        self.historian = writer
        self._detach_historian = self.facility.store.on_samples(writer.submit)
        if self.window is not None:  # the status bar says when it falls behind or fails
            self.historian_indicator = HistorianIndicator(writer.status, self.window)
            self.window.statusBar().addPermanentWidget(self.historian_indicator)

    def _historian_overflow(self, episode: OverflowEpisode) -> None:
        """Samples were dropped: a HIGH system alarm that stays until acknowledged.

        Called on the asyncio loop's thread (the submitter), where the engine lives.
        """
        alarms = self.alarms
        if alarms is None:
            return
        if episode.ended:
            alarms.engine.clear_system(
                AlarmKind.HISTORIAN_OVERFLOW, HISTORIAN_SOURCE, episode.describe()
            )
        else:
            alarms.engine.raise_system(
                AlarmKind.HISTORIAN_OVERFLOW, HISTORIAN_SOURCE, episode.describe()
            )

    def _db_url(self) -> str:
        """``--db`` first, then the site file's ``[records] db_url``, then the default."""
        return self.options.db_url or self.site.records.db_url or default_db_url()

    def _records_config(self) -> RecordsConfig:
        policy = self.site.records
        return RecordsConfig(
            db_url=self._db_url(),
            idle_lock=timedelta(minutes=policy.idle_lock_minutes),
            clean_hold=timedelta(hours=policy.clean_hold_hours),
            sporicidal_rotation=timedelta(days=policy.sporicidal_rotation_days),
            qualification_months=policy.qualification_months,
            clock=self.clock.utc,
        )

    async def _time_lapse_clock(self) -> FacilityClock:
        """The plant's clock for ``--speed``: it starts at the wall time, or where
        the records database's time ends if a time-lapse ran ahead of it before."""
        wall = time.time()
        start = wall
        if self.screenshot is None:  # the screenshot opens no records
            try:
                start = await asyncio.to_thread(resume_at, self._db_url(), wall)
            except Exception:
                log.exception("time-lapse: could not read where the records' time ends")
        if start > wall:
            log.info("time-lapse continues %.0f s ahead of the wall clock", start - wall)
        return FacilityClock(self.options.speed, origin=wall, start=start)

    async def _start_simulator(self) -> Site | None:
        """Start the plant simulator child; the site with its endpoints, or None."""
        from necstgen_desk.simprocess import (  # noqa: PLC0415 - only the demo needs it
            SimulatorProcess,
            SimulatorStartError,
            paced_scans,
            with_endpoints,
        )

        splash = None
        if self.screenshot is None:
            pixmap = QPixmap(460, 120)
            pixmap.fill(QColor("#d5d7d9"))
            splash = QSplashScreen(pixmap)
            splash.showMessage(
                f"{APPLICATION}\n\nStarting the simulated plant…",
                Qt.AlignmentFlag.AlignCenter,
                QColor("#1b1d1f"),
            )
            splash.show()
        simulator = SimulatorProcess()
        self.simulator = simulator
        try:
            endpoints = await simulator.start(
                DEFAULT_SITE_PATH, speed=self.options.speed, scenario=self.options.scenario
            )
        except SimulatorStartError as error:
            await _report_async(
                f"The demo plant simulator did not start, so no PLC is reachable:\n\n{error}",
                gui=self.screenshot is None,
            )
            return None
        finally:
            if splash is not None:
                splash.close()
                splash.deleteLater()
        log.info("demo simulator listening: %s", endpoints)
        # In a time-lapse the PLCs are scanned as often in the plant's time as on
        # a real site, so a door's 10 s dip is still seen (within MIN_SCAN_PERIOD_S).
        return paced_scans(with_endpoints(self.site, endpoints), self.clock)

    async def _take_screenshot(self, window: MainWindow, path: Path) -> int:
        """Wait for live values in every room (at most ``after`` s), then save the PNG."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.after
        ever_up = False
        while True:
            window.bridge.poll()
            ready = _readiness(window, self.facility.store if self.facility else None)
            ever_up = ever_up or ready.any_link_up
            if ever_up and not ready.waiting_for:
                break
            if loop.time() >= deadline:
                return self._not_ready(window, ever_up=ever_up, waiting_for=ready.waiting_for)
            await asyncio.sleep(_READY_POLL_S)
        # One more tick so the picture shows the freshest values, then paint it.
        window.bridge.poll()
        pixmap = window.grab()
        if not pixmap.save(str(path), "PNG"):
            _report(f"Could not write the screenshot to {path}.", gui=False)
            return EXIT_FAILED
        print(f"screenshot written to {path}", flush=True)
        log.info("screenshot written to %s", path)
        return EXIT_OK

    def _not_ready(self, window: MainWindow, *, ever_up: bool, waiting_for: list[str]) -> int:
        after = self.options.after
        if not ever_up:
            reasons = [
                f"{status.plc_id}: {status.state.value} ({status.reason or 'no reason given'})"
                for status in window.store.links
            ] or ["no PLC reported a link state"]
            _report(
                f"No PLC became reachable within {after:g} s; no screenshot taken.\n"
                + "\n".join(reasons),
                gui=False,
            )
            return EXIT_NO_PLC
        _report(
            f"Not every room showed live values within {after:g} s; no screenshot taken. "
            f"Waiting for: {', '.join(waiting_for)}",
            gui=False,
        )
        return EXIT_NO_LIVE_VALUES

    async def _shutdown(self) -> None:
        """Stop in reverse order of start; each step runs even if an earlier one failed."""
        displays, self.displays = self.displays, None
        if displays is not None:
            try:
                await displays.stop()  # its reads run on the records' worker
            except Exception:
                log.exception("closing the room view and trends failed")
        desk, self.desk = self.desk, None
        if desk is not None:
            try:
                await desk.stop()
            except Exception:
                log.exception("closing the GMP records failed")
        ticks, self._alarm_ticks = self._alarm_ticks, None
        if ticks is not None:
            ticks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticks
        detach, self._detach_alarms = self._detach_alarms, None
        if detach is not None:
            detach()
        alarms, self.alarms = self.alarms, None
        if alarms is not None:
            try:
                await alarms.stop()
            except Exception:
                log.exception("stopping the alarm screens failed")
        indicator, self.historian_indicator = self.historian_indicator, None
        if indicator is not None:
            indicator.stop()
        window, self.window = self.window, None
        if window is not None:
            window.bridge.stop()
            window.closed.disconnect(self._closed.set)
            if window.isVisible():
                window.close()
            window.deleteLater()
        facility, self.facility = self.facility, None
        if facility is not None:
            try:
                await facility.stop()
            except Exception:
                log.exception("stopping the facility failed")
        detach_historian, self._detach_historian = self._detach_historian, None
        if detach_historian is not None:
            detach_historian()
        historian, self.historian = self.historian, None
        if historian is not None:
            try:  # writes what is queued and the open roll-ups, off the loop
                await asyncio.to_thread(historian.stop)
            except Exception:
                log.exception("stopping the historian failed")
        simulator, self.simulator = self.simulator, None
        if simulator is not None:
            try:
                await simulator.stop()
            except Exception:
                log.exception("stopping the demo simulator failed")
        use_clock(None)
        gc.unfreeze()  # what start-up froze can be collected again
        self.app.aboutToQuit.disconnect(self._closed.set)


def _readiness(window: MainWindow, store: PointStore | None) -> _Readiness:
    return _Readiness(
        any_link_up=store is not None and store.any_link_up(),
        waiting_for=window.plan.spaces_without_live_values(),
    )
