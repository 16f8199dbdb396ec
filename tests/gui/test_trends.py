"""Trends from a recorded hour: door-opening dips, alarm and cleaning markers, zoom,
quality, peak-preserving drawing, export and trend sets.

The hour is written the way the app writes it: samples of B-04's differential
and its airlock doors go through the alarm engine (its changes into the alarm
journal) and the historian writer; room-status changes and a cleaning go through
the records services with a clock set inside the hour. All in one temporary
SQLite file, read back by the real :class:`TrendWindow` on a worker thread.
"""

from __future__ import annotations

import asyncio
import csv
import math
import random
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hal.points import Quality, Sample
from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.journal import AlarmJournal
from necstgen_desk.alarms.model import AlarmChange, AlarmEvent
from necstgen_desk.historian import (
    HistorianQuery,
    HistorianSettings,
    HistorianWriter,
    Tier,
    policies_for_site,
)
from necstgen_desk.records.lifecycle import RoomAction
from necstgen_desk.services import Records, SignatureRequest, UserSession
from necstgen_desk.site import Site
from necstgen_desk.storage.engine import make_engine
from necstgen_desk.storage.migrate import upgrade_database
from tests.gui.conftest import run_in_loop
from tests.gui.records_support import ADMIN, FAST_POLICY, OPERATOR, OPERATOR_2, QA, sqlite_url
from tests.integration.services.helpers import cleaning_entry
from ui.trend_view import (
    MAX_PENS,
    MarkerKind,
    TrendSet,
    TrendSets,
    TrendSources,
    TrendView,
    TrendWindow,
    line_data,
    offset_text,
    shown_gaps,
)
from ui.worker import GuiThreadGarbageCollector, ServiceWorker

POINT = "B-04.dp"
ROOM = "B-04"
INNER = "PAL-04-IN"
OUTER = "PAL-04-OUT"
DOOR_OPEN_S = 10
#: Offsets into the hour.
DOOR_OFFSETS = tuple(300 + 360 * k for k in range(9))
SPIKE_OFFSET = 1200
DIP = (1800, 1860)  # the HVAC falters, no door open: the action alarm
COMM = (2500, 2620)
STALE = (3000, 3060)
CLEANING = (2705, 2940)
START_CLEANING_OFFSET = 2690
FINISH_CLEANING_OFFSET = 2960
NOMINAL_PA = 15.0


@dataclass
class Hour:
    """What happened in the recorded hour, in epoch seconds."""

    url: str
    start: float
    end: float
    alarms: dict[str, float] = field(default_factory=dict)  # alarm id -> first raised

    def at(self, offset: float) -> float:
        return self.start + offset

    @property
    def door_opens(self) -> list[float]:
        return [self.at(o) for o in DOOR_OFFSETS]


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


_RANDOM = random.Random(4)
_NOISE = [_RANDOM.gauss(0.0, 0.3) for _ in range(3600)]


def dp_value(offset: int) -> float:
    """B-04's differential at ``offset`` s: nominal with a slow wobble and sensor noise
    (the simulator's 0.3 Pa), collapsing while its airlock's inner door is open and
    recovering in a few seconds after."""
    base = NOMINAL_PA + 0.4 * math.sin(offset / 37.0) + _NOISE[offset % 3600]
    for door in DOOR_OFFSETS:
        if door <= offset < door + DOOR_OPEN_S:
            return 1.5 + 0.2 * math.sin(offset)
        closed = door + DOOR_OPEN_S
        if closed <= offset < closed + 8:
            return base - (base - 1.5) * math.exp(-(offset - closed) / 2.0)
    if DIP[0] <= offset < DIP[1]:
        return 6.0
    if offset == SPIKE_OFFSET:
        return 40.0
    return base


def _door_open(offset: int) -> bool:
    return any(d <= offset < d + DOOR_OPEN_S for d in DOOR_OFFSETS)


def _sign(session: UserSession, password: str) -> SignatureRequest:
    return SignatureRequest(password=password, username=session.user.username)


def _people(records: Records) -> dict[str, UserSession]:
    """The admin makes the operators and QA; each logs in and sets their password."""
    accounts = records.accounts
    accounts.create_first_admin(*ADMIN)
    admin = accounts.login(ADMIN[0], ADMIN[2])
    sessions: dict[str, UserSession] = {}
    from necstgen_desk.records.roles import Role  # noqa: PLC0415 - only here

    for user, role in ((OPERATOR, Role.OPERATOR), (OPERATOR_2, Role.OPERATOR), (QA, Role.QA)):
        username, full_name, password = user
        accounts.create_user(admin, username, full_name, role, "temporary pass 1", "new colleague")
        session = accounts.login(username, "temporary pass 1")
        accounts.change_own_password(session, "temporary pass 1", password)
        sessions[username] = session
    accounts.logout(admin)
    return sessions


def journal_recorder(
    journal: AlarmJournal, raised: dict[str, float]
) -> Callable[[list[AlarmChange]], None]:
    """The app's alarm journal writing, noting when each alarm was first raised."""

    def record(changes: list[AlarmChange]) -> None:
        journal.record(changes)
        for change in changes:
            if change.event is AlarmEvent.CONDITION_ACTIVE:
                raised.setdefault(change.alarm_id, change.at.timestamp())

    return record


def build_hour(path: Path, site: Site) -> Hour:
    """Record an hour of B-04 ending now: samples, alarms, status changes, a cleaning."""
    url = sqlite_url(path)
    upgrade_database(url)
    end = float(math.floor(time.time()))
    start = end - 3600
    hour = Hour(url, start, end)
    engine = make_engine(url)
    journal = AlarmJournal(engine)
    now = [start]
    alarms = AlarmEngine(site, clock=lambda: now[0])

    alarms.on_change(journal_recorder(journal, hour.alarms))
    writer = HistorianWriter(
        url,
        policies=policies_for_site(site),
        settings=HistorianSettings(batch_interval_s=0.05, retention_every_s=None),
        clock=lambda: end + 60.0,
    )
    writer.start()
    try:
        for offset in range(3600):
            t = start + offset
            now[0] = t
            if COMM[0] <= offset < COMM[1]:
                dp = Sample(POINT, None, Quality.COMM_FAIL, t, "ENV-1 unreachable")
            elif STALE[0] <= offset < STALE[1]:
                dp = Sample(POINT, dp_value(STALE[0] - 1), Quality.STALE, t, "no fresh read")
            else:
                dp = Sample(POINT, dp_value(offset), Quality.GOOD, t)
            samples = [
                dp,
                Sample(f"{INNER}.closed", not _door_open(offset), Quality.GOOD, t),
                Sample(f"{OUTER}.closed", True, Quality.GOOD, t),
            ]
            alarms.feed(samples, now=t)
            alarms.tick(now=t)
            writer.submit(samples)
        assert writer.flush(60.0)
    finally:
        writer.stop()

    clock = _Clock(datetime.fromtimestamp(start - 600, UTC))
    records = Records(engine, site=site, clock=clock, password_policy=FAST_POLICY)
    people = _people(records)
    olga, otto = people[OPERATOR[0]], people[OPERATOR_2[0]]

    def at(offset: float) -> datetime:
        clock.now = datetime.fromtimestamp(start + offset, UTC)
        return clock.now

    at(START_CLEANING_OFFSET)
    records.rooms.change(olga, ROOM, RoomAction.START_CLEANING, reason="End of campaign")
    at(CLEANING[1] + 3)
    entry = cleaning_entry(
        clock.now,
        ROOM,
        OPERATOR[0],
        period=(
            datetime.fromtimestamp(start + CLEANING[0], UTC),
            datetime.fromtimestamp(start + CLEANING[1], UTC),
        ),
        contact_min=(3.0, 3.5),
    )
    cleaning = records.cleaning.log(olga, entry, signature=_sign(olga, OPERATOR[2]))
    at(CLEANING[1] + 10)
    records.cleaning.verify(otto, cleaning.id, signature=_sign(otto, OPERATOR_2[2]))
    at(FINISH_CLEANING_OFFSET)
    records.rooms.change(olga, ROOM, RoomAction.FINISH_CLEANING, reason="Cleaning done")
    for session in people.values():
        records.accounts.logout(session)
    engine.dispose()
    return hour


@pytest.fixture(scope="module")
def hour(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Hour:
    return build_hour(tmp_path_factory.mktemp("hour") / "desk.sqlite", site)


# ------------------------------------------------------------------ the window under test


@dataclass
class Trends:
    qtbot: QtBot
    loop: asyncio.AbstractEventLoop
    window: TrendWindow
    hour: Hour
    user: list[str | None]
    settings: QSettings

    @property
    def view(self) -> TrendView:
        return self.window.view

    def wait_loaded(self, *, span: float | None = None, timeout: int = 10_000) -> None:
        """Wait for a read started after now (of roughly ``span`` s) to be drawn."""
        before = self.view.loads

        def done() -> bool:
            view = self.view
            if view.loads <= before or view.busy:
                return False
            if span is None:
                return True
            x0, x1 = view.x_range()
            return math.isclose(x1 - x0, span, rel_tol=0.01)

        self.qtbot.waitUntil(done, timeout=timeout)

    def show_hour(self) -> None:
        self.view.set_points([POINT])
        self.view.set_range(self.hour.start, self.hour.end)
        self.wait_loaded(span=3600)

    def run[T](self, coro: Coroutine[Any, Any, T]) -> T:
        return run_in_loop(self.qtbot, self.loop, coro)


@pytest.fixture
def trends(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    hour: Hour,
    site: Site,
    tmp_path: Path,
) -> Iterator[Trends]:
    gc_guard = GuiThreadGarbageCollector()
    gc_guard.start()  # a second thread runs Python code: collect on the GUI thread only
    engine = make_engine(hour.url)
    worker = ServiceWorker("trend-test")
    records = Records(engine, site=site, password_policy=FAST_POLICY)
    sources = TrendSources(
        site,
        worker,
        HistorianQuery(engine, policies=policies_for_site(site)),
        AlarmJournal(engine),
        records,
    )
    settings = QSettings(str(tmp_path / "trends.ini"), QSettings.Format.IniFormat)
    user: list[str | None] = [OPERATOR[0]]
    window = TrendWindow(sources, settings=settings, username=lambda: user[0])
    window.resize(1500, 860)
    window.show()
    harness = Trends(qtbot, qloop, window, hour, user, settings)
    try:
        yield harness
    finally:
        run_in_loop(qtbot, qloop, window.aclose())
        window.close()
        window.deleteLater()
        run_in_loop(qtbot, qloop, worker.call(engine.dispose))
        worker.shutdown()
        gc_guard.stop()


def _wait_for_read(qtbot: QtBot, view: TrendView, reads: int) -> None:
    qtbot.waitUntil(lambda: view.loads > reads and not view.busy, timeout=10_000)


def _near(values: list[float], t: float, tolerance: float) -> bool:
    return any(abs(v - t) <= tolerance for v in values)


# ------------------------------------------------------------------ the hour


def test_the_hour_shows_door_dips_alarms_and_the_cleaning(trends: Trends) -> None:
    hour = trends.hour
    trends.show_hour()
    view = trends.view

    # The door-opening dips are in the drawn data: the envelope of each opening
    # reaches down to the collapsed differential (peak-preserving at this zoom).
    x, y = view.envelope(POINT)
    if not len(x):  # one entry per sample at this width: the line itself
        x, y = view.plotted(POINT)
    for opened in hour.door_opens:
        inside = (x >= opened - 1) & (x <= opened + DOOR_OPEN_S)
        assert inside.any(), f"nothing drawn at the opening {opened - hour.start:.0f} s"
        assert np.nanmin(y[inside]) < 3.0, f"dip at {opened - hour.start:.0f} s not drawn"
    # And nowhere else does the line go that low (apart from the HVAC dip).
    line_x, line_y = view.plotted(POINT)
    quiet = (line_x > hour.at(100)) & (line_x < hour.at(280))
    assert np.nanmin(line_y[quiet]) > 12.0

    # The markers: every door opening, the action alarm of the dip, the cleaning, the statuses.
    doors = view.drawn_markers(MarkerKind.DOOR)
    for opened in hour.door_opens:
        assert _near(doors, opened, 1.5), f"no door marker at {opened - hour.start:.0f} s"
    raised = hour.alarms[f"{POINT}/action"]
    assert hour.at(DIP[0]) < raised <= hour.at(DIP[0] + 12)
    alarm_marks = view.drawn_markers(MarkerKind.ALARM)
    assert _near(alarm_marks, raised, 0.5)
    action = next(m for m in view.markers if m.source == POINT and "action" in m.label)
    assert action.until is not None and hour.at(DIP[1]) <= action.until <= hour.at(DIP[1] + 10)
    assert _near(view.drawn_markers(MarkerKind.CLEANING), hour.at(CLEANING[0]), 0.5)
    cleaning = next(m for m in view.markers if m.kind is MarkerKind.CLEANING)
    assert cleaning.until == pytest.approx(hour.at(CLEANING[1]))
    assert "Sporicidal" in cleaning.detail and "verified by otto" in cleaning.detail
    statuses = view.drawn_markers(MarkerKind.STATUS)
    assert _near(statuses, hour.at(START_CLEANING_OFFSET), 0.5)
    assert _near(statuses, hour.at(FINISH_CLEANING_OFFSET), 0.5)
    # An alarm line in the strip at the raising, in the priority's colour.
    strip = view.strip_of(POINT)
    assert any(abs(t - raised) < 0.5 for t, _colour in strip.alarm_lines.lines)
    # The bands are the point's limits.
    (segment,) = strip.bands.segments
    assert (segment.limits.action_low, segment.limits.action_high) == (10.0, 30.0)
    # Local time with its offset on the axis and in the header.
    assert offset_text(hour.start) in view.lane.plot.getAxis("bottom").labelText
    assert "→" in view.range_label.text()


def test_zoom_from_the_hour_to_a_minute_reads_again_and_draws_it(trends: Trends) -> None:
    hour = trends.hour
    trends.show_hour()
    view = trends.view
    hour_request = view.last_request
    assert hour_request is not None and hour_request.end - hour_request.start > 3600
    reads = view.loads

    opened = hour.door_opens[3]
    start, end = opened - 30, opened + 30
    view.set_range(start, end)
    # At once, before the minute is read: the axis is on the minute (the hour's data rescaled).
    assert view.x_range() == pytest.approx((start, end))
    trends.wait_loaded(span=60)
    assert view.loads > reads
    request = view.last_request
    assert request is not None
    assert request.start < start and request.end > end  # the minute and a margin
    assert request.end - request.start < 300
    series = view.series[POINT]
    assert series.tier is Tier.RAW and series.bucket_s == 0  # one entry per recorded sample
    x, y = view.plotted(POINT)
    assert x.min() >= request.start - 1 and x.max() <= request.end + 1
    in_minute = (x >= start) & (x <= end)
    recorded = view.sources.historian.raw(POINT, start, end)
    shown = [t for t in series.times if start <= t < end]
    assert shown == [r.t for r in recorded] and len(shown) > 10  # every recorded sample
    dip = (x >= opened) & (x < opened + DOOR_OPEN_S)
    assert np.nanmin(y[dip]) < 2.0
    assert np.nanmax(y[in_minute]) > 14.0
    assert _near(view.drawn_markers(MarkerKind.DOOR), opened, 1.5)
    assert view.strip_of(POINT).plot.vb.viewRange()[0] == pytest.approx([start, end])


def test_a_one_second_spike_survives_zooming_out(trends: Trends) -> None:
    hour = trends.hour
    # A narrow view: fewer pixels than recorded samples, so entries become buckets.
    view = TrendView(trends.view.sources)
    view.resize(480, 520)
    view.show()
    try:
        trends.qtbot.waitUntil(lambda: 0 < view.lane.plot.vb.width() < 420, timeout=5000)
        view.set_points([POINT])
        spike = hour.at(SPIKE_OFFSET)
        for span in (3600.0, 7 * 86_400.0):
            before = view.loads
            view.set_range(hour.end - span, hour.end)
            _wait_for_read(trends.qtbot, view, before)
            series = view.series[POINT]
            assert series.bucket_s > 0, f"not bucketed at {span:.0f} s"
            x, y = view.envelope(POINT)
            near = (x >= spike - series.bucket_s) & (x <= spike)
            assert np.nanmax(y[near]) == pytest.approx(40.0), f"spike lost at {span:.0f} s"
            line_x, line_y = view.plotted(POINT)
            line_near = (line_x >= spike - series.bucket_s) & (line_x <= spike)
            assert np.nanmax(line_y[line_near]) < 30.0  # the mean alone would hide it
        assert series.tier is Tier.QUARTER_HOUR  # a week comes from the roll-ups
    finally:
        trends.run(view.aclose())
        view.close()
        view.deleteLater()


def test_quality_gaps_are_shown_as_gaps_and_stale_as_held(trends: Trends) -> None:
    hour = trends.hour
    view = trends.view
    view.set_points([POINT])
    view.set_range(hour.at(COMM[0] - 60), hour.at(STALE[1] + 60))
    trends.wait_loaded()
    strip = view.strip_of(POINT)
    gaps = {quality: (a, b) for a, b, quality in strip.gaps.gaps}
    a, b = gaps[Quality.COMM_FAIL]
    assert a == pytest.approx(hour.at(COMM[0]), abs=1)
    assert b == pytest.approx(hour.at(COMM[1]), abs=1)
    x, y = view.plotted(POINT)
    inside = (x > hour.at(COMM[0]) + 1) & (x < hour.at(COMM[1]) - 1)
    assert np.isnan(y[inside]).all()  # no line through a COMM_FAIL stretch
    a, b = gaps[Quality.STALE]
    assert a == pytest.approx(hour.at(STALE[0]), abs=1)
    inside = (x > hour.at(STALE[0]) + 1) & (x < hour.at(STALE[1]) - 1)
    assert np.isnan(y[inside]).all()  # the stale values are not drawn as measured
    held_x, held_y = strip.pens[POINT].held.getData()
    assert len(held_x) == 2  # the last good value carried, dashed, through the stale minute
    assert held_x[0] == pytest.approx(hour.at(STALE[0]), abs=1)
    assert held_y[0] == pytest.approx(dp_value(STALE[0] - 1), abs=0.6)


def test_manual_zoom_leaves_follow_mode_and_reads_again(trends: Trends) -> None:
    view = trends.view
    view.set_points([POINT])
    view.follow(3600)
    trends.wait_loaded()
    assert view.following and trends.window.follow_button.isChecked()
    x0, x1 = view.x_range()
    assert x1 == pytest.approx(time.time(), abs=5)
    reads = view.loads
    plots = view.graphics
    centre = QPointF(plots.width() / 2, plots.height() / 3)
    for _ in range(3):  # the mouse wheel over the plot zooms in around the pointer
        event = QWheelEvent(
            centre,
            plots.mapToGlobal(centre),
            QPoint(0, 0),
            QPoint(0, 120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(plots.viewport(), event)
    trends.qtbot.waitUntil(lambda: not view.following, timeout=5000)
    assert not trends.window.follow_button.isChecked()
    trends.wait_loaded()
    assert view.loads > reads
    y0, y1 = view.x_range()
    assert y1 - y0 < x1 - x0
    # Follow brings it back to the latest span.
    trends.window.follow_button.click()
    trends.qtbot.waitUntil(lambda: view.following, timeout=5000)
    trends.wait_loaded()
    assert view.x_range()[1] == pytest.approx(time.time(), abs=5)


def test_export_csv_of_the_shown_data_and_png_of_the_plot(trends: Trends, tmp_path: Path) -> None:
    hour = trends.hour
    view = trends.view
    view.set_points([POINT, "B-04.t"])
    start, end = hour.at(600), hour.at(1200)
    view.set_range(start, end)
    trends.wait_loaded(span=600)

    path = tmp_path / "trend.csv"
    rows = trends.run(trends.window.export_csv(path))
    assert rows > 0 and trends.window.last_export == path
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == rows
    assert {r["point"] for r in table} == {POINT}  # B-04.t was never recorded: nothing shown
    times = [datetime.fromisoformat(r["time_utc"]).timestamp() for r in table]
    assert min(times) >= start and max(times) <= end  # only what is shown
    assert all(r["time_local"].endswith(offset_text(start)[3:]) for r in table)
    lows = [float(r["minimum"]) for r in table if r["minimum"]]
    assert min(lows) < 3.0  # the door dips of those ten minutes are in the export
    assert {r["quality"] for r in table} == {"GOOD"}

    picture = tmp_path / "trend.png"
    assert trends.window.export_png(picture)
    image = QImage(str(picture))
    assert not image.isNull() and image.width() == view.width()


def test_trend_sets_are_saved_per_user(trends: Trends) -> None:
    window = trends.window
    window.show_points([POINT, "B-04.t"], span_s=600)
    window.set_combo.setEditText("B-04 pressure")
    window.save_set_button.click()
    assert "saved" in window.message.message
    sets = TrendSets(trends.settings)
    saved = sets.get(OPERATOR[0], "B-04 pressure")
    assert saved == TrendSet("B-04 pressure", (POINT, "B-04.t"), 600.0)
    assert sets.names(OPERATOR_2[0]) == []  # not another person's

    trends.user[0] = OPERATOR_2[0]
    window.refresh_sets()
    assert window.set_combo.count() == 0
    trends.user[0] = OPERATOR[0]
    window.refresh_sets()
    assert [window.set_combo.itemText(i) for i in range(window.set_combo.count())] == [
        "B-04 pressure"
    ]
    window.show_points(["C-COR.dp"], span_s=3600)
    assert window.load_set("B-04 pressure")
    assert window.view.points == (POINT, "B-04.t") and window.view.span_s == 600
    items = window._items.items()
    checked = [p for p, item in items if item.checkState(0) == Qt.CheckState.Checked]
    assert checked == [POINT, "B-04.t"]
    window.set_combo.setEditText("B-04 pressure")
    window.delete_set_button.click()
    assert sets.names(OPERATOR[0]) == []

    trends.user[0] = None  # nobody logged in: no sets
    window.refresh_sets()
    assert not window.save_set_button.isEnabled()


def test_picking_points_adds_pens_and_strips(trends: Trends) -> None:
    window = trends.window
    view = window.view
    window._items[POINT].setCheckState(0, Qt.CheckState.Checked)
    window._items["PAL-04.dp"].setCheckState(0, Qt.CheckState.Checked)
    window._items["B-04.t"].setCheckState(0, Qt.CheckState.Checked)
    assert list(view.points) == [POINT, "PAL-04.dp", "B-04.t"]
    # Same unit and limits share a strip; temperature has its own.
    assert len(view.strips) == 2
    assert set(view.strip_of(POINT).pens) == {POINT, "PAL-04.dp"}
    window._items["PAL-04.dp"].setCheckState(0, Qt.CheckState.Unchecked)
    assert list(view.points) == [POINT, "B-04.t"]
    many = [p for p in window._items if p.endswith(".dp")][: MAX_PENS + 2]
    view.set_points(many)
    assert len(view.points) == MAX_PENS
    trends.wait_loaded()


def test_a_forced_sample_a_scan_late_is_not_drawn_as_a_gap() -> None:
    """The historian reports a stretch without record when a forced sample arrives a
    scan after its interval (0.7 s here); the trend neither hatches nor breaks there."""
    from array import array  # noqa: PLC0415 - only here

    from necstgen_desk.historian import Gap, Series  # noqa: PLC0415

    nan = math.nan
    series = Series(
        point_id=POINT,
        start=0.0,
        end=40.0,
        tier=Tier.RAW,
        bucket_s=0.0,
        times=array("d", [0.0, 15.0, 15.7, 20.0, 30.0]),
        minimum=array("d", [15.0, nan, 15.2, nan, 14.9]),
        maximum=array("d", [15.0, nan, 15.2, nan, 14.9]),
        mean=array("d", [15.0, nan, 15.2, nan, 14.9]),
        worst=array("b", [0, -1, 0, 3, 0]),
        count=array("q", [1, 0, 1, 0, 1]),
        gaps=(Gap(15.0, 15.7, None), Gap(20.0, 30.0, Quality.COMM_FAIL)),
    )
    assert shown_gaps(series) == [Gap(20.0, 30.0, Quality.COMM_FAIL)]
    x, y = line_data(series, hold_until=40.0)
    assert list(x) == [0.0, 15.7, 15.7, 20.0, 20.0, 30.0, 30.0, 40.0]
    assert np.isnan(y[4]) and not np.isnan(y[:4]).any() and y[-1] == pytest.approx(14.9)
