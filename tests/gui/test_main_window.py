"""The main window: title, actions, PLC link indicators, remembered geometry, theme."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hal.points import LinkState, LinkStatus
from necstgen_desk.live import PointStore
from necstgen_desk.site import Site
from ui.main_window import MainWindow, app_settings
from ui.theme import ICON_PATH, THEME_PATH, load_stylesheet

from .conftest import nominal_samples


def _settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot: QtBot, site: Site, store: PointStore, tmp_path: Path) -> MainWindow:
    w = MainWindow(site, store, settings=_settings(tmp_path))
    qtbot.addWidget(w)
    return w


def test_title_plan_and_actions(window: MainWindow, site: Site) -> None:
    assert site.name in window.windowTitle()
    assert "NECSTGEN Desk" in window.windowTitle()
    assert window.centralWidget() is window.plan
    toolbar_actions = window.view_toolbar.actions()
    plan = window.plan
    assert toolbar_actions == [plan.fit_action, plan.zoom_in_action, plan.zoom_out_action]
    assert window.quit_action.shortcut().toString()  # Ctrl+Q on every platform we ship


def test_quit_closes_the_window_and_says_so(qtbot: QtBot, window: MainWindow) -> None:
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.closed):
        window.quit_action.trigger()
    assert not window.isVisible()
    assert not window.bridge.active


def test_one_link_indicator_per_plc(window: MainWindow, store: PointStore, site: Site) -> None:
    assert list(window.link_indicators) == [plc.id for plc in site.plcs]
    env1 = window.link_indicators["ENV-1"]
    assert env1.link_state == "unknown"
    assert "?" in env1.text()

    now = time.time()
    store.set_link(LinkStatus("ENV-1", LinkState.UP, now, last_scan_s=0.012))
    store.set_link(LinkStatus("DOOR-1", LinkState.DOWN, now, reason="Connection refused"))
    store.set_link(LinkStatus("ENV-2", LinkState.CONNECTING, now))
    window.bridge.poll()

    assert (env1.link_state, env1.text()) == ("up", "✓ ENV-1 UP")
    assert "12 ms" in env1.toolTip()
    door = window.link_indicators["DOOR-1"]
    assert (door.link_state, door.text()) == ("down", "✕ DOOR-1 DOWN")
    assert "Connection refused" in door.toolTip()
    assert door.property("linkState") == "down"  # what the stylesheet keys on
    assert window.link_indicators["ENV-2"].text() == "… ENV-2 CONNECTING"


def test_the_status_bar_counts_live_points(
    window: MainWindow, store: PointStore, site: Site
) -> None:
    assert window.live_label.text() == "Live: 0 of 118 points on the plan"
    store.publish(nominal_samples(site))
    window.bridge.poll()
    assert window.live_label.text() == "Live: 118 of 118 points on the plan"


def test_geometry_is_remembered(
    qtbot: QtBot, site: Site, store: PointStore, tmp_path: Path
) -> None:
    first = MainWindow(site, store, settings=_settings(tmp_path))
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.resize(611, 433)  # the offscreen screen is small; restoring clamps to it
    qtbot.waitUntil(lambda: first.width() == 611)
    first.close()

    second = MainWindow(site, store, settings=_settings(tmp_path))
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (611, 433)

    fresh = MainWindow(site, store, settings=_settings(tmp_path / "elsewhere"))
    qtbot.addWidget(fresh)
    assert fresh.size() == fresh.default_size()
    assert fresh.default_size().width() <= 1600 and fresh.default_size().height() <= 900


def test_screenshot_windows_do_not_touch_the_settings(
    qtbot: QtBot, site: Site, store: PointStore, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    w = MainWindow(site, store, settings=settings, remember_geometry=False)
    qtbot.addWidget(w)
    w.show()
    w.close()
    assert settings.allKeys() == []


def test_default_settings_are_the_apps_and_isolated_in_tests(isolated_settings: Path) -> None:
    settings = app_settings()
    assert settings.organizationName() == "NECSTGEN"
    assert settings.applicationName() == "NECSTGEN Desk"
    assert Path(settings.fileName()).is_relative_to(isolated_settings)


def test_the_theme_applies_without_complaint(
    qtbot: QtBot, qapp: QApplication, site: Site, store: PointStore, tmp_path: Path
) -> None:
    qss = load_stylesheet()
    assert THEME_PATH.exists() and "qproperty-alertColor" in qss
    qapp.setStyleSheet(qss)
    try:
        w = MainWindow(site, store, settings=_settings(tmp_path))
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        store.set_link(LinkStatus("ENV-3", LinkState.DOWN, time.time(), reason="timeout"))
        w.bridge.poll()
        indicator = w.link_indicators["ENV-3"]
        down = indicator.palette().color(indicator.backgroundRole())
        up_colour = w.link_indicators["ENV-1"].palette().color(indicator.backgroundRole())
        assert down != up_colour  # the stylesheet, keyed on linkState, coloured it
        assert w.plan.plan_style.palette.alert.name() == "#f2b600"
    finally:
        qapp.setStyleSheet("")


def test_a_missing_theme_falls_back_to_qt(tmp_path: Path) -> None:
    assert load_stylesheet(tmp_path / "nope.qss") == ""


def test_the_app_icon_loads() -> None:
    assert not QIcon(str(ICON_PATH)).pixmap(64, 64).isNull()
