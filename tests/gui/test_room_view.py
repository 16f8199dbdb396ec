"""The room view (display level 2) opened from the plan, its indicators, and the trend
it opens, on the desk as the app builds it (records, alarms, displays) over the
recorded hour of :mod:`tests.gui.test_trends`."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTreeWidgetItem
from pytestqt.qtbot import QtBot

from hal.points import Quality, Sample, Value
from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.live import PointStore
from necstgen_desk.records.lifecycle import RoomStatus
from necstgen_desk.site import Site
from necstgen_desk.site.model import Limits
from tests.gui.alarm_support import TravelClock, nominal
from tests.gui.conftest import run_in_loop
from tests.gui.records_support import FAST_POLICY, OPERATOR, Harness, sqlite_url
from tests.gui.test_trends import CLEANING, DIP, POINT, ROOM, Hour, build_hour
from ui.alarm_desk import AlarmDesk
from ui.horn import Horn, SilentSound
from ui.main_window import MainWindow
from ui.records_desk import RecordsConfig, RecordsDesk
from ui.room_view import AnalogIndicator, DisplayDesk, RoomView, indicator_scale
from ui.timefmt import local_text
from ui.trend_view import MarkerKind, TrendWindow


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Hour:
    return build_hour(tmp_path_factory.mktemp("room-hour") / "desk.sqlite", site)


@dataclass
class Desk(Harness):
    """The main window as the app builds it, on a copy of the recorded hour."""

    displays: DisplayDesk | None = None
    engine: AlarmEngine | None = None
    clock: TravelClock | None = None
    store: PointStore | None = None

    @property
    def shows(self) -> DisplayDesk:
        assert self.displays is not None
        return self.displays

    def open_room(self, room_id: str) -> RoomView:
        self.double_click_room(room_id)
        view_of = self.shows

        def shown() -> bool:
            view = view_of.room_view
            return (
                view is not None
                and view.isVisible()
                and view.room_id == room_id
                and view.reloader.loads > 0
                and not view.reloader.busy
            )

        self.qtbot.waitUntil(shown, timeout=10_000)
        view = view_of.room_view
        assert view is not None
        return view


@pytest.fixture
def desk(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    site: Site,
    store: PointStore,
    recorded: Hour,
    tmp_path: Path,
) -> Iterator[Desk]:
    source = Path(recorded.url.removeprefix("sqlite:///"))
    copy = tmp_path / "desk.sqlite"
    shutil.copyfile(source, copy)
    clock = TravelClock()
    engine = AlarmEngine(site, clock=clock)
    settings = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    window = MainWindow(site, store, settings=settings, remember_geometry=False)
    alarms = AlarmDesk(window, engine, horn=Horn(SilentSound()), banner_refresh_ms=20)
    config = RecordsConfig(db_url=sqlite_url(copy), password_policy=FAST_POLICY)
    records = RecordsDesk(window, site, config, alarms=alarms)
    displays = DisplayDesk(window, engine=engine, settings=settings)
    window.resize(1600, 900)
    window.show()
    harness = Desk(qtbot, qloop, window, records, displays, engine, clock, store)
    assert harness.run(records.start())
    displays.open_records(records)
    detach = engine.attach(store)
    nominal(site, store, clock)
    try:
        yield harness
    finally:
        harness.run(displays.stop())
        harness.run(records.stop())
        harness.run(alarms.stop())
        detach()
        window.close()
        window.deleteLater()


def _publish(
    store: PointStore, clock: TravelClock, *samples: tuple[str, Value | None, Quality]
) -> None:
    store.publish(
        [Sample(point, value, quality, clock(), "test") for point, value, quality in samples]
    )


def _column(
    items: Iterable[QTreeWidgetItem | None], column: int, *, tip: bool = False
) -> list[str]:
    return [
        (item.toolTip(column) if tip else item.text(column)) for item in items if item is not None
    ]


# ------------------------------------------------------------------ the room view


def test_double_click_opens_the_room_view_with_live_indicators(desk: Desk) -> None:
    assert desk.store is not None and desk.clock is not None
    desk.log_in(OPERATOR)
    _publish(desk.store, desk.clock, ("B-04.t", 21.4, Quality.STALE))
    view = desk.open_room(ROOM)
    window = desk.window
    assert desk.desk.panel_dock is not None and not desk.desk.panel_dock.isVisible()
    assert "B-04" in view.windowTitle() and "Cell-processing suite 4" in view.title.text()

    # Live, within limits: a filled pointer on the normal band, the number and unit.
    dp = view.rows[POINT]
    assert dp.indicator.live and dp.indicator.value == pytest.approx(15.0)
    assert dp.indicator.limits == Limits(10.0, 12.0, 25.0, 30.0)
    zones = [(a, b) for a, b, _colour in dp.indicator.zones()]
    assert (12.0, 25.0) in zones and (25.0, 30.0) in zones and (10.0, 12.0) in zones
    assert dp.value_label.text() == "+15.0 Pa" and dp.state_label.text() == ""
    # Stale: never shown as live — a hollow pointer, muted italic number, the word.
    temperature = view.rows["B-04.t"]
    assert temperature.state_label.text() == "STALE"
    assert not temperature.indicator.live and temperature.indicator.value == pytest.approx(21.4)
    assert temperature.value_label.font().italic()
    assert "not live" in temperature.indicator.toolTip()
    # Particles: one-sided limits (at rest), the scale starts at zero.
    particles = view.rows["B-04.p05"]
    assert particles.indicator.limits is not None
    assert particles.indicator.limits.action_high == 3520.0
    assert particles.indicator.scale[0] == 0.0

    # A value beyond the action limit, live: the state says so.
    _publish(desk.store, desk.clock, (POINT, 7.5, Quality.GOOD))
    desk.qtbot.waitUntil(lambda: dp.state_label.text() == "▲ ACTION", timeout=5000)
    assert dp.indicator.live and dp.indicator.value == pytest.approx(7.5)
    # COMM_FAIL: no live value at all.
    _publish(desk.store, desk.clock, ("B-04.rh", None, Quality.COMM_FAIL))
    rh = view.rows["B-04.rh"]
    desk.qtbot.waitUntil(lambda: rh.state_label.text() == "COMM FAIL", timeout=5000)
    assert rh.value_label.text() == "—" and rh.indicator.value is None

    # The records of the hour: status, last cleaning, recent entries, alarm events.
    assert view.status_label.text().startswith("Cleaned")
    assert "Sporicidal" in view.last_cleaning.text()
    assert "verified by otto" in view.last_cleaning.text()
    tree = view.logbook_tree
    entries = _column((tree.topLevelItem(i) for i in range(tree.topLevelItemCount())), 1)
    assert any(e.startswith("Status: Cleaned") for e in entries)
    assert any(e.startswith("Cleaning #") and "verified" in e for e in entries)
    recent = view.alarms_tree.topLevelItem(1)
    assert recent is not None
    events = _column((recent.child(i) for i in range(recent.childCount())), 2, tip=True)
    assert any(e.startswith(f"{POINT}/action: ") for e in events)
    # The last hour as a sparkline.
    sparkline = dp.sparkline.series
    assert sparkline is not None and len(sparkline) > 10
    assert "Doors —" in view.doors_label.text() and "PAL-04-IN" in view.doors_label.text()
    assert window.isVisible()


def test_room_actions_open_the_room_logbook(desk: Desk) -> None:
    desk.log_in(OPERATOR)
    view = desk.open_room(ROOM)
    assert view.logbook_button.isEnabled() and view.cleaning_button.isEnabled()
    desk.click(view.logbook_button)
    panel = desk.panel
    desk.qtbot.waitUntil(
        lambda: (
            desk.desk.panel_dock is not None
            and desk.desk.panel_dock.isVisible()
            and panel.room_id == ROOM
            and panel.snapshot is not None
        ),
        timeout=5000,
    )
    from ui.room_logbook import CleaningDialog  # noqa: PLC0415 - only this test

    desk.click(view.cleaning_button)
    dialog = desk.dialog(CleaningDialog)
    assert panel.room_id == ROOM and panel.tabs.currentIndex() == 1
    dialog.reject()
    desk.no_dialog(CleaningDialog)
    # The menu still opens the logbook too.
    assert desk.desk.room_logbook_action.isEnabled()


def test_trend_button_opens_the_trend_with_alarm_and_cleaning_markers(
    desk: Desk, recorded: Hour
) -> None:
    desk.log_in(OPERATOR)
    view = desk.open_room(ROOM)
    desk.click(view.rows[POINT].trend_button)
    shows = desk.shows

    def opened() -> bool:
        window = shows.trend_window
        return (
            window is not None
            and window.isVisible()
            and window.view.points == (POINT,)
            and window.view.loads > 0
            and not window.view.busy
        )

    desk.qtbot.waitUntil(opened, timeout=10_000)
    trend = shows.trend_window
    assert isinstance(trend, TrendWindow)
    assert trend.view.following and trend.view.span_s == 3600
    raised = recorded.alarms[f"{POINT}/action"]
    assert recorded.at(DIP[0]) < raised
    alarm_marks = trend.view.drawn_markers(MarkerKind.ALARM)
    assert any(abs(t - raised) < 0.5 for t in alarm_marks)
    cleaning_marks = trend.view.drawn_markers(MarkerKind.CLEANING)
    assert any(abs(t - recorded.at(CLEANING[0])) < 0.5 for t in cleaning_marks)
    assert len(trend.view.drawn_markers(MarkerKind.DOOR)) >= 8
    # Trend all: every point of the room.
    desk.click(view.trend_room_button)
    desk.qtbot.waitUntil(lambda: len(trend.view.points) == len(view.rows), timeout=5000)
    # The menu action reaches the same window.
    assert shows.trends_action.isEnabled()


def test_locking_the_screen_closes_the_room_view_and_trend(desk: Desk) -> None:
    desk.log_in(OPERATOR)
    view = desk.open_room(ROOM)
    trend = desk.shows.open_trend([POINT])
    assert trend is not None and trend.isVisible()
    desk.desk.lock()
    desk.qtbot.waitUntil(lambda: not view.isVisible() and not trend.isVisible(), timeout=5000)
    # Covered: the plan cannot open a room view until someone unlocks.
    assert desk.shows.open_room(ROOM) is None


def test_without_records_the_room_view_shows_live_values_only(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    site: Site,
    live_store: PointStore,
    tmp_path: Path,
) -> None:
    """Screenshot mode: no GMP records, no historian — live values, no trends."""
    settings = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    window = MainWindow(site, live_store, settings=settings, remember_geometry=False)
    displays = DisplayDesk(window, settings=settings)
    window.resize(1600, 900)
    window.show()
    try:
        assert not displays.trends_action.isEnabled()
        plan = window.plan
        room = plan.space_item("C-01").bounds
        where = plan.mapFromScene(room.topLeft() + (room.bottomRight() - room.topLeft()) * 0.15)
        QTest.mouseDClick(plan.viewport(), Qt.MouseButton.LeftButton, pos=where)
        qtbot.waitUntil(
            lambda: displays.room_view is not None and displays.room_view.isVisible(),
            timeout=5000,
        )
        view = displays.room_view
        assert view is not None and view.room_id == "C-01"
        assert not view.status_button.isEnabled()
        assert "not open" in view.actions_hint.text()
        assert all(not row.trend_button.isEnabled() for row in view.rows.values())
        assert view.rows["C-01.dp"].indicator.live
        assert displays.open_trend(["C-01.dp"]) is None
    finally:
        run_in_loop(qtbot, qloop, displays.stop())
        window.close()
        window.deleteLater()


# ------------------------------------------------------------------ the indicator itself


def test_indicator_scale_and_zones() -> None:
    assert indicator_scale(Limits(10, 12, 25, 30)) == pytest.approx((10 - 20 / 3, 30 + 20 / 3))
    assert indicator_scale(Limits(alert_high=2000, action_high=3520)) == pytest.approx(
        (0.0, 3520 + 1520 / 3)
    )
    assert indicator_scale(None, 5.0) == (2.5, 7.5)
    indicator = AnalogIndicator()
    try:
        indicator.set_limits(Limits(alert_high=20.0, action_high=29.0))
        colours = [c.name() for _a, _b, c in indicator.zones()]
        assert colours == [
            indicator.normalColor.name(),
            indicator.alertColor.name(),
            indicator.actionColor.name(),
        ]
        indicator.set_value(500.0, live=True)  # far beyond the scale: pinned at the end
        assert indicator.value == 500.0 and indicator.scale[1] < 500.0
        indicator.set_value(float("nan"), live=True)
        after: float | None = indicator.value  # (a fresh read: the number is gone)
        assert after is None and not indicator.live
    finally:
        indicator.deleteLater()


def test_the_room_view_counts_down_the_clean_up(desk: Desk) -> None:
    """Work stopped five minutes ago: 15 minutes of the 20-minute clean-up are left,
    with the moment the at-rest limits apply; when it has run out the line goes."""
    assert desk.engine is not None and desk.clock is not None
    desk.log_in(OPERATOR)
    view = desk.open_room(ROOM)
    now = datetime.fromtimestamp(desk.clock(), UTC)
    desk.engine.set_room_status(ROOM, RoomStatus.IN_OPERATION, now - timedelta(hours=1))
    desk.engine.set_room_status(ROOM, RoomStatus.TO_BE_CLEANED, now - timedelta(minutes=5))
    desk.qtbot.waitUntil(view.countdown.isVisible, timeout=5000)
    text = view.countdown.text()
    assert text.startswith(("⏱ Clean-up: 15:00 left", "⏱ Clean-up: 14:5")), text
    assert f"at-rest limits from {local_text(now + timedelta(minutes=15))}" in text
    desk.clock.travel(16 * 60)
    desk.qtbot.waitUntil(lambda: not view.countdown.isVisible(), timeout=5000)
