"""The main window: the floor plan, its view actions, and the PLC links.

The status bar answers the operator's first question when values go grey —
is it the room or the link? — with one indicator per PLC whose state is a
Qt property (``linkState``) that the stylesheet colours, PyDM-style.
"""

from __future__ import annotations

import time
from html import escape as esc

from PySide6.QtCore import Property, QByteArray, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QToolBar, QWidget

from hal.points import LinkState, LinkStatus, PlcDef
from necstgen_desk.live import PointStore
from necstgen_desk.site.model import Site
from ui.bridge import LiveBridge
from ui.floorplan import FloorPlan

ORGANISATION = "NECSTGEN"
APPLICATION = "NECSTGEN Desk"
DEFAULT_SIZE = (1600, 900)

_GEOMETRY_KEY = "main_window/geometry"
_STATE_KEY = "main_window/state"

_LINK_TEXT = {
    # (shape, word): the state reads without colour.
    LinkState.UP: ("✓", "UP"),
    LinkState.CONNECTING: ("…", "CONNECTING"),
    LinkState.DOWN: ("✕", "DOWN"),
}


def app_settings() -> QSettings:
    """The user's settings for the app (tests point QSettings at a temporary folder)."""
    return QSettings(ORGANISATION, APPLICATION)


class LinkIndicator(QLabel):
    """One PLC's link: '✓ ENV-1 UP', '… ENV-1 CONNECTING', '✕ ENV-1 DOWN'."""

    def __init__(self, plc: PlcDef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plc = plc
        self.status: LinkStatus | None = None
        self._state = "unknown"
        self.setObjectName(f"link_{plc.id}")
        self.set_status(None)

    def _get_link_state(self) -> str:
        return self._state

    def _set_link_state(self, state: str) -> None:
        if state == self._state:
            return
        self._state = state
        # Re-polish so the stylesheet's [linkState="…"] rules apply to the new value.
        self.style().unpolish(self)
        self.style().polish(self)
        self.update()

    linkState = Property(str, _get_link_state, _set_link_state)

    @property
    def link_state(self) -> str:
        """'up', 'connecting', 'down', or 'unknown' before the first report."""
        return self._state

    def set_status(self, status: LinkStatus | None) -> None:
        self.status = status
        plc = self.plc
        lines = [f"<b>PLC {esc(plc.id)}</b> at {esc(plc.host)}:{plc.port}"]
        if status is None:
            shape, word = "?", "NO STATUS"
            self._set_link_state("unknown")
            lines.append("No report from its poller yet")
        else:
            shape, word = _LINK_TEXT[status.state]
            self._set_link_state(status.state.value)
            since = time.strftime("%H:%M:%S", time.localtime(status.since))
            lines.append(f"{word} since {since}")
            if status.reason:
                lines.append(f"Reason: {esc(status.reason)}")
            if status.last_scan_s is not None:
                lines.append(f"Last scan took {status.last_scan_s * 1000:.0f} ms")
            lines.append(f"Scan period {plc.scan_period_s:g} s")
        self.setText(f"{shape} {plc.id} {word}")
        self.setToolTip("<br>".join(lines))


class MainWindow(QMainWindow):
    """Level-1 overview: the plan, zoom actions, PLC links; remembers its geometry."""

    closed = Signal()

    def __init__(
        self,
        site: Site,
        store: PointStore,
        *,
        settings: QSettings | None = None,
        remember_geometry: bool = True,
        subtitle: str = "",
        time_note: str = "",
        parent: QWidget | None = None,
    ) -> None:
        """``time_note``: said in the status bar when the app's clock is not the
        wall clock (a time-lapse demo, ADR 0006)."""
        super().__init__(parent)
        self.site = site
        self.store = store
        self._settings = settings if settings is not None else app_settings()
        self._remember = remember_geometry
        title = f"{site.name} — {APPLICATION}"
        self.setWindowTitle(f"{title} ({subtitle})" if subtitle else title)
        self.setObjectName("mainWindow")

        self.bridge = LiveBridge(store, self)
        self.plan = FloorPlan(site, store, self.bridge, self)
        self.setCentralWidget(self.plan)

        self.quit_action = QAction("&Quit", self)
        self.quit_action.setObjectName("quit")
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setToolTip("Close the window and stop polling the PLCs")
        self.quit_action.triggered.connect(self.close)
        self._build_menus()

        self.link_indicators: dict[str, LinkIndicator] = {}
        bar = self.statusBar()
        bar.setObjectName("statusBar")
        self.live_label = QLabel(self)
        self.live_label.setObjectName("liveCount")
        bar.addWidget(self.live_label)
        self.time_label: QLabel | None = None
        if time_note:
            self.time_label = QLabel(f"▶▶ {time_note}", self)
            self.time_label.setObjectName("timeLapse")
            self.time_label.setToolTip(
                "Every time on screen and in the records is the simulated plant's"
            )
            bar.addPermanentWidget(self.time_label)
        for plc in site.plcs:
            indicator = LinkIndicator(plc, self)
            self.link_indicators[plc.id] = indicator
            bar.addPermanentWidget(indicator)
        self._update_links()
        self._update_live_count()
        self.bridge.points_changed.connect(self._update_live_count)
        self.bridge.links_changed.connect(self._update_links)

        self.resize(self.default_size())
        if remember_geometry:
            self._restore()
        self.bridge.start()

    def _build_menus(self) -> None:
        plan = self.plan
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.quit_action)
        view_menu = self.menuBar().addMenu("&View")
        for action in (plan.fit_action, plan.zoom_in_action, plan.zoom_out_action):
            view_menu.addAction(action)
        toolbar = QToolBar("View", self)
        toolbar.setObjectName("viewToolBar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (plan.fit_action, plan.zoom_in_action, plan.zoom_out_action):
            toolbar.addAction(action)
        self.addToolBar(toolbar)
        self.view_toolbar = toolbar

    # -------------------------------------------------------------- live state

    def _update_links(self) -> None:
        for plc_id, indicator in self.link_indicators.items():
            status = self.store.link(plc_id)
            if status is not indicator.status:
                indicator.set_status(status)

    def _update_live_count(self) -> None:
        live, total = self.plan.live_count()
        self.live_label.setText(f"Live: {live} of {total} points on the plan")

    # -------------------------------------------------------------- geometry

    def default_size(self) -> QSize:
        """1600×900 (the whole facility legible), or 90 % of a smaller screen."""
        size = QSize(*DEFAULT_SIZE)
        screen = self.screen()
        if screen is not None:
            available = screen.availableGeometry().size() * 0.9
            size = size.boundedTo(available)
        return size

    def _restore(self) -> None:
        geometry = self._settings.value(_GEOMETRY_KEY)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = self._settings.value(_STATE_KEY)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)

    def save_geometry(self) -> None:
        self._settings.setValue(_GEOMETRY_KEY, self.saveGeometry())
        self._settings.setValue(_STATE_KEY, self.saveState())
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._remember:
            self.save_geometry()
        self.bridge.stop()
        super().closeEvent(event)
        self.closed.emit()
