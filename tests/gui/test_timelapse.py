"""The trends issue's acceptance, for real: an hour of the simulated plant at speed 60.

The demo's simulator child plays ``resources/scenarios/b04-hour.toml`` sixty
times faster than real time with its airlock traffic on; the app's parts run on
the time-lapse clock (ADR 0006) exactly as the demo wires them: pollers over
real Modbus TCP at the paced scan period, the alarm engine (its changes into
the alarm journal), the historian writer on its own thread, and the records
services, where a person logs and verifies B-04's cleaning while the hour runs.
A minute later the real :class:`TrendWindow` shows B-04's differential over
that hour: each opening of the airlock's inner door is a dip, the scenario's
alarms and the cleaning are on the same axis, and zooming from the hour to one
minute reads the minute again and draws every recorded sample.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QSettings, QTimer
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

import resources
from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.journal import AlarmJournal
from necstgen_desk.clock import MIN_TICK_S, FacilityClock
from necstgen_desk.historian import (
    HistorianQuery,
    HistorianSettings,
    HistorianWriter,
    Tier,
    policies_for_site,
)
from necstgen_desk.records.lifecycle import RoomAction
from necstgen_desk.runtime import Facility
from necstgen_desk.services import Records
from necstgen_desk.simprocess import SimulatorProcess, paced_scans, with_endpoints
from necstgen_desk.site import DEFAULT_SITE_PATH, Site
from necstgen_desk.storage.engine import make_engine
from necstgen_desk.storage.migrate import upgrade_database
from tests.gui.conftest import run_in_loop
from tests.gui.records_support import FAST_POLICY, OPERATOR, OPERATOR_2, sqlite_url
from tests.gui.test_trends import _people, _sign, journal_recorder
from tests.integration.alarms.conftest import FAST_BACKOFF
from tests.integration.services.helpers import cleaning_entry
from ui.trend_view import MarkerKind, TrendSources, TrendWindow, shown_gaps
from ui.worker import GuiThreadGarbageCollector, ServiceWorker

log = logging.getLogger(__name__)

SPEED = 60.0
HOUR_S = 3600.0
SCENARIO = resources.path("scenarios", "b04-hour.toml")
POINT = "B-04.dp"
ROOM = "B-04"
INNER = "PAL-04-IN"
PROPPED = (1200.0, 1290.0)  # the scenario's propped inner door
SENSOR_DIP = (1800.0, 1860.0)  # the scenario's 7.5 Pa reading
WORK_STOPS = 2400.0
CLEANING = (2460.0, 2700.0)  # what the operator logs
NOMINAL_PA = 15.0


class _Hour:
    """What the test saw happen, in the facility's epoch seconds."""

    def __init__(self, origin: float) -> None:
        self.origin = origin
        self.raised: dict[str, float] = {}  # alarm id -> first raised

    def at(self, offset: float) -> float:
        return self.origin + offset


def _await(qtbot: QtBot, clock: FacilityClock, t: float, margin_s: float = 30.0) -> None:
    """Let the plant and the app run until the facility's clock reads ``t``."""
    wall = clock.wall_seconds(t - clock()) + margin_s
    qtbot.waitUntil(lambda: clock() >= t, timeout=max(1000, int(wall * 1000)))


class _StallProbe:
    """A 2 ms timer on the GUI thread: the longest gap between its ticks (measured
    and logged, never asserted: timings are the benchmarks' business)."""

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
        return self.longest * 1000


@pytest.mark.timeout(240)
def test_an_hour_at_speed_60_shows_door_dips_alarms_and_the_cleaning(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    site: Site,
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path / "desk.sqlite")
    upgrade_database(url)
    db = make_engine(url)
    journal = AlarmJournal(db)
    # As in the app, the records and the alarm journal are written on one worker
    # thread: the GUI thread only polls, judges and queues (at 60× a 0.3 s stall
    # of it would be 18 s of the plant unread).
    gc_guard = GuiThreadGarbageCollector()
    gc_guard.start()
    worker = ServiceWorker("time-lapse records")
    try:
        _the_hour_and_its_trend(qtbot, qloop, site, tmp_path, url, db, journal, worker)
    finally:
        run_in_loop(qtbot, qloop, worker.call(db.dispose))
        worker.shutdown()
        gc_guard.stop()


def _the_hour_and_its_trend(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    site: Site,
    tmp_path: Path,
    url: str,
    db: Engine,
    journal: AlarmJournal,
    worker: ServiceWorker,
) -> None:
    def run[T](coro: Coroutine[Any, Any, T]) -> T:
        return run_in_loop(qtbot, qloop, coro)

    sim = SimulatorProcess()  # the demo's own: the plant in a child process
    endpoints = run(sim.start(DEFAULT_SITE_PATH, speed=SPEED, scenario=SCENARIO))
    clock = FacilityClock(SPEED)  # the plant's t=0 is now, to a scan or so
    hour = _Hour(clock.origin)
    live = paced_scans(with_endpoints(site, endpoints), clock)
    assert {plc.scan_period_s for plc in live.plcs} == {
        max(plc.scan_period_s / SPEED, 0.05) for plc in site.plcs
    }
    facility = Facility(live, backoff=FAST_BACKOFF, clock=clock)
    alarms = AlarmEngine(live, clock=clock, time_lapse=clock.speed)

    record = journal_recorder(journal, hour.raised)
    journal_writes: list[asyncio.Task[None]] = []
    alarms.on_change(
        lambda changes: journal_writes.append(qloop.create_task(worker.call(record, changes)))
    )
    writer = HistorianWriter(
        url,
        policies=policies_for_site(live, time_lapse=SPEED),
        settings=HistorianSettings(retention_every_s=None),
        clock=clock,
    )
    writer.start()
    detach_historian = facility.store.on_samples(writer.submit)
    detach_alarms = alarms.attach(facility.store)
    ticks = qloop.create_task(alarms.run(clock.paced(0.25, MIN_TICK_S)))
    records = Records(db, site=live, clock=clock.utc, password_policy=FAST_POLICY)
    people = run(worker.call(_people, records))  # accounts made at the start of the hour
    olga, otto = people[OPERATOR[0]], people[OPERATOR_2[0]]
    started = time.monotonic()
    run(facility.start())
    try:
        # Work stops at 00:40: the operator takes the room into cleaning, cleans,
        # logs it (signed) and a colleague verifies it; then cleaning is finished.
        _await(qtbot, clock, hour.at(WORK_STOPS + 30))
        run(
            worker.call(
                records.rooms.change,
                olga,
                ROOM,
                RoomAction.START_CLEANING,
                reason="End of campaign",
            )
        )
        _await(qtbot, clock, hour.at(CLEANING[1] + 10))
        entry = cleaning_entry(
            clock.utc(),
            ROOM,
            OPERATOR[0],
            period=(
                datetime.fromtimestamp(hour.at(CLEANING[0]), UTC),
                datetime.fromtimestamp(hour.at(CLEANING[1]), UTC),
            ),
            contact_min=(3.0, 3.5),
        )
        cleaning = run(
            worker.call(records.cleaning.log, olga, entry, signature=_sign(olga, OPERATOR[2]))
        )
        _await(qtbot, clock, hour.at(CLEANING[1] + 60))
        verify = records.cleaning.verify
        run(worker.call(verify, otto, cleaning.id, signature=_sign(otto, OPERATOR_2[2])))
        change = records.rooms.change
        run(worker.call(change, olga, ROOM, RoomAction.FINISH_CLEANING, reason="Cleaning done"))
        _await(qtbot, clock, hour.at(HOUR_S))
    finally:
        ticks.cancel()
        qtbot.waitUntil(ticks.done, timeout=5000)
        detach_alarms()
        run(facility.stop())
        detach_historian()
        run(sim.stop())
        qtbot.waitUntil(lambda: all(t.done() for t in journal_writes), timeout=10_000)
        for write in journal_writes:
            write.result()  # every alarm change is in the journal
        assert writer.flush(30.0)
        status = writer.stop()
    wall_s = time.monotonic() - started
    log.info("the simulated hour took %.1f s of wall time", wall_s)
    for alarm_id, at in sorted(hour.raised.items(), key=lambda item: item[1]):
        log.info("raised +%6.0f s %s", at - hour.origin, alarm_id)
    assert status.dropped == 0 and status.raw_rows > 0
    end = clock()
    assert end - hour.origin >= HOUR_S

    # ---------------------------------------------------------------- the trend
    sources = TrendSources(
        live,
        worker,
        HistorianQuery(db, policies=policies_for_site(live, time_lapse=SPEED), clock=clock),
        journal,
        records,
    )
    settings = QSettings(str(tmp_path / "trends.ini"), QSettings.Format.IniFormat)
    window = TrendWindow(sources, settings=settings, username=lambda: OPERATOR[0], clock=clock)
    window.resize(1500, 860)
    window.show()
    view = window.view
    try:
        before = view.loads
        view.set_points([POINT])
        view.set_range(hour.origin, hour.at(HOUR_S))
        qtbot.waitUntil(lambda: view.loads > before and not view.busy, timeout=15_000)
        window.grab().save(str(tmp_path / "hour.png"))
        # The record is whole: a forced sample at least every 15 s and a read every
        # 3 s of the plant's time, so no hole is drawn after the first sample. A
        # busy machine shows: at 60× a GUI thread held up 0.3 s is 18 s of the
        # plant unread, a true hole (and a STALE stretch, a read late, is a fact
        # drawn as such). So: holes, if any, add up to under 1 % of the hour.
        first = sources.historian.raw(POINT, hour.origin, hour.at(HOUR_S))[0].t
        holes = [
            (g.start - hour.origin, g.end - hour.origin)
            for g in shown_gaps(view.series[POINT])
            if g.quality is None and g.end > first
        ]
        if holes:
            log.warning("holes in the record (plant seconds into the hour): %s", holes)
        assert sum(b - a for a, b in holes) < 0.01 * HOUR_S, holes

        # Each opening of the inner door that the historian saw is a door marker
        # and a dip of the differential in what is drawn (peak-preserving).
        doors = [m for m in view.markers if m.kind is MarkerKind.DOOR and m.source == INNER]
        traffic = [m for m in doors if not (PROPPED[0] - 5 <= m.at - hour.origin <= PROPPED[1])]
        # Five scripted passages (the scenario) and the random traffic besides.
        assert len(traffic) >= 4, f"only {len(traffic)} passages through {INNER} in the hour"
        x, y = view.envelope(POINT)
        if not len(x):
            x, y = view.plotted(POINT)
        # (An opening seen by a single read of the door may fall between two reads
        # of the differential on the other PLC: the ones of two reads or more.)
        # The sensor's forced 7.5 Pa minute shows no door: leave out openings in it.
        long_enough = [
            m
            for m in doors
            if (m.until is None or m.until - m.at >= 6.0)
            and not (SENSOR_DIP[0] - 10 <= m.at - hour.origin <= SENSOR_DIP[1] + 5)
        ]
        assert len(long_enough) >= 4
        for marker in long_enough:
            until = marker.until if marker.until is not None else marker.at + 10
            inside = (x >= marker.at - 3) & (x <= until + 3)
            assert inside.any(), f"nothing drawn while {INNER} was open at {marker.at:.0f}"
            assert np.nanmin(y[inside]) < NOMINAL_PA / 2, (
                f"no dip drawn for the opening at +{marker.at - hour.origin:.0f} s"
            )
        drawn_doors = view.drawn_markers(MarkerKind.DOOR)
        assert len(drawn_doors) >= len(doors)
        # Away from doors the differential holds its setpoint.
        quiet = (x > hour.at(60)) & (x < hour.at(HOUR_S - 60))
        for marker in view.markers:
            if marker.kind is MarkerKind.DOOR:
                until = marker.until if marker.until is not None else marker.at + 10
                quiet &= ~((x >= marker.at - 5) & (x <= until + 20))
        quiet &= ~((x >= hour.at(SENSOR_DIP[0]) - 5) & (x <= hour.at(SENSOR_DIP[1]) + 20))
        assert quiet.sum() > 100
        assert np.nanmin(y[quiet]) > 10.0

        # The scenario's alarms: the propped door and the differential's action alarm.
        held = f"{INNER}/door_held_open"
        assert held in hour.raised, sorted(hour.raised)
        assert hour.at(PROPPED[0] + 55) <= hour.raised[held] <= hour.at(PROPPED[0] + 90)
        action = f"{POINT}/action"
        assert action in hour.raised, sorted(hour.raised)
        # (on-delay 10 s; later if a passage's door hold-off fell into the minute)
        assert hour.at(SENSOR_DIP[0]) < hour.raised[action] <= hour.at(SENSOR_DIP[1])
        alarm_marks = view.drawn_markers(MarkerKind.ALARM)
        for alarm_id in (held, action):
            assert any(abs(t - hour.raised[alarm_id]) < 1.0 for t in alarm_marks), alarm_id
        # The cleaning and the room-status changes around it.
        (clean,) = [m for m in view.markers if m.kind is MarkerKind.CLEANING]
        assert clean.at == pytest.approx(hour.at(CLEANING[0]))
        assert clean.until == pytest.approx(hour.at(CLEANING[1]))
        assert "Sporicidal" in clean.detail and "verified by otto" in clean.detail
        assert any(
            abs(t - hour.at(CLEANING[0])) < 1.0 for t in view.drawn_markers(MarkerKind.CLEANING)
        )
        statuses = view.drawn_markers(MarkerKind.STATUS)
        assert any(hour.at(WORK_STOPS + 30) <= t <= hour.at(WORK_STOPS + 40) for t in statuses)

        # Zoom from the hour to the minute around a passage: the axis is on the
        # minute at once, then the minute is read again from the raw tier and
        # every recorded sample is drawn, the dip with it.
        opened = long_enough[len(long_enough) // 2]
        start, stop = opened.at - 30, opened.at + 30
        reads = view.loads
        stalls = _StallProbe()  # how long the GUI thread was ever busy meanwhile
        zoom_started = time.perf_counter()
        view.set_range(start, stop)
        rescaled_ms = (time.perf_counter() - zoom_started) * 1000
        assert view.x_range() == pytest.approx((start, stop))
        qtbot.waitUntil(lambda: view.loads > reads and not view.busy, timeout=10_000)
        redrawn_ms = (time.perf_counter() - zoom_started) * 1000
        longest_ms = stalls.stop()
        log.info(
            "hour -> minute: axis rescaled in %.1f ms, minute read and drawn in %.1f ms "
            "(GUI thread busy at most %.1f ms at a time)",
            rescaled_ms,
            redrawn_ms,
            longest_ms,
        )
        series = view.series[POINT]
        assert series.tier is Tier.RAW
        recorded = sources.historian.raw(POINT, start, stop)
        shown = [t for t in series.times if start <= t < stop]
        assert shown == [r.t for r in recorded] and len(shown) >= 5
        mx, my = view.plotted(POINT)
        until = opened.until if opened.until is not None else opened.at + 10
        dip = (mx >= opened.at - 3) & (mx <= until + 3)
        assert np.nanmin(my[dip]) < NOMINAL_PA / 2
        assert np.nanmax(my[(mx >= start) & (mx <= stop)]) > 12.0
        window.grab().save(str(tmp_path / "minute.png"))
    finally:
        run(window.aclose())
        window.close()
        window.deleteLater()
