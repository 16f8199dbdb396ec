"""The room view (display level 2): one room at a glance, reached by double-clicking it
on the plan.

:class:`RoomView` shows, for the room:

- an analog indicator per measured point (:class:`AnalogIndicator`): the action,
  alert and normal bands of its limits and a pointer at the live value; a value
  that is not live (STALE, COMM_FAIL, BAD, nothing yet) is drawn as a hollow,
  dashed pointer with its quality in words — never as a live value;
- a sparkline of the last hour per point (from the historian) and a Trend button;
- the room's status, the clean-up countdown and the last cleaning;
- its doors, its alarms now (from the engine) and recent alarm events (journal);
- its recent logbook entries (status changes, cleanings, gowning);
- its actions (change status, log cleaning, log gowning), which open the
  existing room logbook on the main window, where the role checks and
  signatures live.

:class:`DisplayDesk` adds the room view and the trends to the main window:
double-clicking a room opens its room view (the room logbook stays one click
away, in the view and in the Records menu), View → Trends… opens the trend
window, and each point's Trend button opens it on that point. With the GMP
records open (:meth:`DisplayDesk.open_records`) every read — historian, alarm
journal, records — runs on the records' worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Property, QObject, QPointF, QRectF, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QFont,
    QHideEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QToolBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hal.points import Quantity, Sample
from necstgen_desk.alarms.engine import AlarmEngine, AlarmNotFound
from necstgen_desk.alarms.journal import AlarmJournal
from necstgen_desk.alarms.model import Alarm, AlarmEvent, Occupancy
from necstgen_desk.clock import WALL_CLOCK, FacilityClock
from necstgen_desk.historian import HistorianQuery, Series, historian_settings, policies_for_site
from necstgen_desk.live import PointStore
from necstgen_desk.records.lifecycle import RoomStatus
from necstgen_desk.services import Records, UserSession
from necstgen_desk.site.model import Limits, PointConfig, Priority, Site
from ui.alarm_look import PRIORITY_WORDS, STATE_WORDS, priority_icon, priority_text
from ui.bridge import LiveBridge
from ui.main_window import MainWindow, app_settings
from ui.point_display import (
    DISPLAYED,
    UNITS,
    ValueState,
    door_view,
    format_number,
    value_label,
    value_state,
)
from ui.records_desk import RecordsDesk
from ui.room_logbook import RoomSnapshot, load_room
from ui.room_marks import short_status
from ui.timefmt import local_text
from ui.trend_view import (
    DEFAULT_SPAN_S,
    TrendSources,
    TrendWindow,
    new_plot_item,
    release_plot_item,
)
from ui.worker import Reloader, TaskSet

__all__ = [
    "AnalogIndicator",
    "DisplayDesk",
    "RoomData",
    "RoomView",
    "indicator_scale",
    "load_room_data",
]

log = logging.getLogger(__name__)

SPARK_SPAN_S = 3600.0
SPARK_POINTS = 240
SPARK_REFRESH_MS = 30_000
TICK_MS = 1000
RECENT_ENTRIES = 12
RECENT_ALARM_EVENTS = 12

_STATE_WORDS = {
    ValueState.NORMAL: "",
    ValueState.ALERT: "◆ ALERT",
    ValueState.ACTION: "▲ ACTION",
    ValueState.STALE: "STALE",
    ValueState.COMM_FAIL: "COMM FAIL",
    ValueState.BAD: "BAD",
    ValueState.NO_DATA: "NO DATA",
}
_STATE_TIPS = {
    ValueState.NORMAL: "Live, within the alert limits",
    ValueState.ALERT: "Live, outside the alert limits",
    ValueState.ACTION: "Live, outside the action limits",
    ValueState.STALE: "STALE: no fresh reading — the value shown is old, not live",
    ValueState.COMM_FAIL: "COMM FAIL: the PLC is unreachable — no live value",
    ValueState.BAD: "BAD: the reading failed — no live value",
    ValueState.NO_DATA: "No reading received yet",
}


def _font(points: float, *, bold: bool = False, italic: bool = False) -> QFont:
    font = QFont()
    font.setFamilies(["Segoe UI", "DejaVu Sans", "Noto Sans", "Liberation Sans", "Arial"])
    font.setPointSizeF(points)
    font.setBold(bold)
    font.setItalic(italic)
    return font


# ------------------------------------------------------------------ the analog indicator


def indicator_scale(limits: Limits | None, value: float | None = None) -> tuple[float, float]:
    """The range an indicator spans: the limits with room either side (a third of
    the span between the outermost limits), from 0 for one-sided (particle) limits."""
    values = [
        v
        for v in (
            (limits.action_low, limits.alert_low, limits.alert_high, limits.action_high)
            if limits is not None
            else ()
        )
        if v is not None
    ]
    if not values:
        if value is None or not math.isfinite(value):
            return 0.0, 1.0
        pad = abs(value) * 0.5 or 1.0
        return value - pad, value + pad
    lo, hi = min(values), max(values)
    assert limits is not None
    one_sided = limits.action_low is None and limits.alert_low is None
    span = hi - lo if hi > lo else abs(hi) or 1.0
    low = 0.0 if one_sided and lo >= 0 else lo - span / 3
    high = hi + span / 3
    return low, high


def _colour_property(name: str) -> Any:
    attr = f"_{name}"

    def getter(self: AnalogIndicator) -> QColor:
        return QColor(getattr(self, attr))

    def setter(self: AnalogIndicator, colour: QColor) -> None:
        setattr(self, attr, QColor(colour))
        self.update()

    return Property(QColor, getter, setter)


class AnalogIndicator(QWidget):
    """A horizontal bar with the action, alert and normal bands of a point's limits
    and a pointer at its value (ISA-101 analog indicator).

    Live: a filled pointer. Not live (STALE, COMM_FAIL, BAD, no data): a hollow
    dashed pointer at the last value, if there is one, and the bar's track
    greyed — the quality is written beside the value by the room view. A value
    beyond the scale is shown by a pointer at the end with an arrow. Colours are
    Qt properties (PyDM-style: the stylesheet may set them).
    """

    backgroundColor = _colour_property("background")
    normalColor = _colour_property("normal")
    alertColor = _colour_property("alert")
    actionColor = _colour_property("action")
    pointerColor = _colour_property("pointer")
    mutedColor = _colour_property("muted")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("analogIndicator")
        self._background = QColor("#eceded")
        self._normal = QColor("#c4c6c8")
        self._alert = QColor("#e6dcb6")
        self._action = QColor("#e3c6c6")
        self._pointer = QColor("#1b1d1f")
        self._muted = QColor("#7d8185")
        self.limits: Limits | None = None
        self.value: float | None = None
        self.live = False
        self.scale = (0.0, 1.0)
        self.setMinimumSize(160, 30)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(260, 34)

    def set_limits(self, limits: Limits | None) -> None:
        self.limits = limits if limits is not None and not limits.empty else None
        self.scale = indicator_scale(self.limits, self.value)
        self.update()

    def set_value(self, value: float | None, *, live: bool) -> None:
        self.value = value if value is not None and math.isfinite(value) else None
        self.live = live and self.value is not None
        if self.limits is None:
            self.scale = indicator_scale(None, self.value)
        self.update()

    def _x(self, value: float, left: float, width: float) -> float:
        low, high = self.scale
        return left + (value - low) / (high - low) * width

    def zones(self) -> list[tuple[float, float, QColor]]:
        """(from, to, colour) across the scale: action, alert and normal bands."""
        low, high = self.scale
        limits = self.limits
        if limits is None:
            return [(low, high, self._normal)]
        below = (
            self._action
            if limits.action_low is not None
            else self._alert
            if limits.alert_low is not None
            else self._normal
        )
        edges: list[tuple[float, QColor]] = []
        if limits.action_low is not None:
            edges.append(
                (limits.action_low, self._alert if limits.alert_low is not None else self._normal)
            )
        if limits.alert_low is not None:
            edges.append((limits.alert_low, self._normal))
        if limits.alert_high is not None:
            edges.append((limits.alert_high, self._alert))
        if limits.action_high is not None:
            edges.append((limits.action_high, self._action))
        edges.sort(key=lambda e: e[0])
        out: list[tuple[float, float, QColor]] = []
        bottom, colour = low, below
        for value, above in edges:
            out.append((bottom, min(value, high), colour))
            bottom, colour = max(bottom, value), above
        out.append((bottom, high, colour))
        return [(a, b, c) for a, b, c in out if b > a]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        margin = 8.0
        left, width = margin, max(10.0, self.width() - 2 * margin)
        bar = QRectF(left, 12.0, width, 10.0)
        painter.fillRect(bar, self._background)
        for a, b, colour in self.zones():
            x0, x1 = self._x(a, left, width), self._x(b, left, width)
            fill = QColor(colour)
            if not self.live:
                fill = QColor(fill.lightness(), fill.lightness(), fill.lightness())  # greyed
            painter.fillRect(QRectF(x0, bar.top(), x1 - x0, bar.height()), fill)
        painter.setPen(QPen(self._muted, 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(bar)
        value = self.value
        if value is None:
            painter.end()
            return
        low, high = self.scale
        beyond = value < low or value > high
        x = self._x(min(max(value, low), high), left, width)
        pointer = QPolygonF([QPointF(x - 6, 2.0), QPointF(x + 6, 2.0), QPointF(x, bar.top() - 1)])
        if self.live:
            painter.setPen(QPen(self._pointer, 1.0))
            painter.setBrush(self._pointer)
            painter.drawPolygon(pointer)
            painter.setPen(QPen(self._pointer, 2.0))
            painter.drawLine(QPointF(x, bar.top()), QPointF(x, bar.bottom() + 4))
        else:
            pen = QPen(self._muted, 1.4, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPolygon(pointer)
            painter.drawLine(QPointF(x, bar.top()), QPointF(x, bar.bottom() + 4))
        if beyond:
            tip = 6.0 if value > high else -6.0
            y = bar.bottom() + 4
            painter.setPen(QPen(self._pointer if self.live else self._muted, 1.4))
            painter.drawLine(QPointF(x, y), QPointF(x + tip, y))
            painter.drawLine(QPointF(x + tip, y), QPointF(x + tip * 0.5, y - 3))
            painter.drawLine(QPointF(x + tip, y), QPointF(x + tip * 0.5, y + 3))
        painter.end()


# ------------------------------------------------------------------ loading (worker thread)


@dataclass(frozen=True, slots=True)
class AlarmEventRow:
    at: datetime
    alarm_id: str
    event: AlarmEvent
    priority: Priority
    message: str


@dataclass(frozen=True, slots=True)
class RoomData:
    """What the room view reads from the database in one go."""

    snapshot: RoomSnapshot | None
    alarm_events: tuple[AlarmEventRow, ...]
    sparklines: dict[str, Series]
    problems: tuple[str, ...] = ()


def load_room_data(
    records: Records | None,
    journal: AlarmJournal | None,
    historian: HistorianQuery | None,
    session: UserSession | None,
    room_id: str,
    point_ids: Sequence[str],
    now: float,
) -> RoomData:
    """Runs on the worker: the room's records, recent alarm events and last hour."""
    problems: list[str] = []
    snapshot: RoomSnapshot | None = None
    events: list[AlarmEventRow] = []
    sparklines: dict[str, Series] = {}
    if records is not None:
        try:
            snapshot = load_room(records, session, room_id)
        except Exception as error:
            log.warning("room view of %s: records not read: %s", room_id, error)
            problems.append(f"logbook not read: {error}")
    if journal is not None:
        try:
            for entry in journal.history(room_id=room_id, limit=RECENT_ALARM_EVENTS * 3):
                if entry.event in (AlarmEvent.CONDITION_ACTIVE, AlarmEvent.CONDITION_CLEARED) or (
                    entry.username is not None
                ):
                    events.append(
                        AlarmEventRow(
                            entry.at,
                            entry.alarm_id,
                            entry.event,
                            entry.priority,
                            entry.message,
                        )
                    )
        except Exception as error:
            log.warning("room view of %s: alarm journal not read: %s", room_id, error)
            problems.append(f"alarm events not read: {error}")
    if historian is not None:
        try:
            for point_id in point_ids:
                sparklines[point_id] = historian.series(
                    point_id, now - SPARK_SPAN_S, now, max_points=SPARK_POINTS
                )
        except Exception as error:
            log.warning("room view of %s: last hour not read: %s", room_id, error)
            problems.append(f"last hour not read: {error}")
    return RoomData(snapshot, tuple(events[:RECENT_ALARM_EVENTS]), sparklines, tuple(problems))


# ------------------------------------------------------------------ one point's row


class _Sparkline:
    """The last hour of a point: its mean line with the limits as faint lines."""

    def __init__(self, parent: QWidget, limits: Limits | None) -> None:
        plot = new_plot_item()
        self.widget = pg.PlotWidget(parent, background="#f4f4f4", plotItem=plot)
        self.widget.setObjectName("sparkline")
        self.widget.setFixedSize(200, 40)
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.setMouseEnabled(x=False, y=False)
        plot.vb.disableAutoRange()
        plot.setContentsMargins(0, 0, 0, 0)
        self.plot = plot
        self.limits = limits
        for value, colour, style in _limit_lines(limits):
            line = pg.InfiniteLine(
                pos=value, angle=0, pen=pg.mkPen(colour, width=1, style=style), movable=False
            )
            plot.addItem(line, ignoreBounds=True)
        self.curve = pg.PlotCurveItem(pen=pg.mkPen("#23272b", width=1.3), connect="finite")
        plot.addItem(self.curve)
        self.empty = pg.TextItem("no record in the last hour", color="#7d8185", anchor=(0.5, 0.5))
        self.empty.setFont(_font(7.5, italic=True))
        plot.addItem(self.empty, ignoreBounds=True)
        self.empty.hide()
        self.series: Series | None = None

    def release(self) -> None:
        release_plot_item(self.plot)

    def show(self, series: Series, now: float) -> None:
        self.series = series
        t = np.frombuffer(series.times, dtype=np.float64) if len(series) else np.empty(0)
        y = np.frombuffer(series.mean, dtype=np.float64) if len(series) else np.empty(0)
        if series.bucket_s <= 0 and len(t):  # single samples hold until the next one
            x2 = np.empty(2 * len(t))
            x2[0::2] = t
            x2[1:-1:2] = t[1:]
            x2[-1] = max(t[-1], min(now, series.end))
            t, y = x2, np.repeat(y, 2)
        self.curve.setData(t, y)
        lo, hi = math.inf, -math.inf
        finite = y[np.isfinite(y)]
        if len(finite):
            lo, hi = float(finite.min()), float(finite.max())
        limits = self.limits
        if limits is not None:
            for v in (limits.alert_low, limits.alert_high):
                if v is not None:
                    lo, hi = min(lo, v), max(hi, v)
        if lo > hi:
            lo, hi = 0.0, 1.0
        pad = (hi - lo) * 0.1 or 1.0
        self.plot.setYRange(lo - pad, hi + pad, padding=0)
        self.plot.setXRange(now - SPARK_SPAN_S, now, padding=0)
        self.empty.setVisible(not len(finite))
        self.empty.setPos(now - SPARK_SPAN_S / 2, (lo + hi) / 2)


def _limit_lines(limits: Limits | None) -> list[tuple[float, str, Qt.PenStyle]]:
    if limits is None:
        return []
    lines: list[tuple[float, str, Qt.PenStyle]] = []
    for value in (limits.action_low, limits.action_high):
        if value is not None:
            lines.append((value, "#c98a8d", Qt.PenStyle.SolidLine))
    for value in (limits.alert_low, limits.alert_high):
        if value is not None:
            lines.append((value, "#c9b16a", Qt.PenStyle.DashLine))
    return lines


class PointRow:
    """One point in the room view: label, value with its state, indicator, sparkline,
    Trend button (widgets placed in the view's grid)."""

    def __init__(self, parent: QWidget, config: PointConfig, on_trend: Callable[[str], None]):
        self.config = config
        quantity = config.hal.quantity
        self.unit = config.hal.unit or UNITS.get(quantity, "")
        self.label = QLabel(value_label(quantity, config.hal.reference), parent)
        self.label.setObjectName("pointLabel")
        self.label.setToolTip(config.id)
        self.value_label = QLabel("—", parent)
        self.value_label.setObjectName("pointValue")
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value_label.setMinimumWidth(110)
        self.state_label = QLabel("", parent)
        self.state_label.setObjectName("pointState")
        self.state_label.setMinimumWidth(86)
        self.indicator = AnalogIndicator(parent)
        self.indicator.setObjectName(f"indicator_{config.id}")
        self.sparkline = _Sparkline(parent, config.limits)
        self.trend_button = QPushButton("Trend", parent)
        self.trend_button.setObjectName(f"trend_{config.id}")
        self.trend_button.setToolTip(f"Open the trend of {config.id}")
        self.trend_button.clicked.connect(lambda _checked=False: on_trend(config.id))
        self.state = ValueState.NO_DATA
        self.sample: Sample | None = None
        self.limits: Limits = config.limits

    @property
    def point_id(self) -> str:
        return self.config.id

    def set_limits(self, limits: Limits) -> None:
        self.limits = limits
        self.indicator.set_limits(limits)
        self.sparkline.limits = limits

    def show(self, sample: Sample | None) -> None:
        self.sample = sample
        state = value_state(sample, self.limits)
        self.state = state
        number: float | None = None
        if (
            sample is not None
            and isinstance(sample.value, int | float)
            and not isinstance(sample.value, bool)
        ):
            number = float(sample.value)
            if math.isnan(number):
                number = None
        live = state.is_live
        # A reading that is not live keeps its last value only when there is one, muted.
        text = "—" if number is None else f"{format_number(self.config.hal.quantity, number)}"
        self.value_label.setText(f"{text} {self.unit}" if number is not None else "—")
        font = _font(12, bold=live and state is not ValueState.NORMAL, italic=not live)
        self.value_label.setFont(font)
        colour = "#1b1d1f" if live else "#7d8185"
        self.value_label.setStyleSheet(f"color: {colour};")
        word = _STATE_WORDS[state]
        self.state_label.setText(word)
        if state.is_live:
            self.state_label.setStyleSheet("font-weight: bold; color: #1b1d1f;" if word else "")
        else:
            self.state_label.setStyleSheet(
                "border: 1px dashed #7d8185; padding: 0px 4px; color: #4a4e52; font-weight: bold;"
            )
        tip = _STATE_TIPS[state]
        if sample is not None and sample.reason:
            tip += f"\nReason: {sample.reason}"
        if sample is not None:
            tip += f"\nSample time: {local_text(datetime.fromtimestamp(sample.timestamp, UTC))}"
        for widget in (self.value_label, self.state_label, self.indicator):
            widget.setToolTip(tip)
        self.indicator.set_value(number, live=live)

    def widgets(self) -> tuple[QWidget, ...]:
        return (
            self.label,
            self.value_label,
            self.state_label,
            self.indicator,
            self.sparkline.widget,
            self.trend_button,
        )


# ------------------------------------------------------------------ the room view


class RoomView(QWidget):
    """Level 2: one room — indicators, status, countdown, logbook, alarms, actions.

    ``trend_requested`` carries a tuple of point ids; ``logbook_requested`` a
    room id and what to do there: ``""`` (just open), ``"status"``,
    ``"cleaning"`` or ``"gowning"``.
    """

    trend_requested = Signal(object)
    logbook_requested = Signal(str, str)
    closed = Signal()

    def __init__(
        self,
        site: Site,
        store: PointStore,
        bridge: LiveBridge | None = None,
        *,
        engine: AlarmEngine | None = None,
        parent: QWidget | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("roomView")
        self.site = site
        self.store = store
        self.engine = engine
        self._clock = clock
        self.sources: TrendSources | None = None
        self._session: Callable[[], UserSession | None] = lambda: None
        self.tasks = TaskSet("room view")
        self.reloader = Reloader(self.tasks, self._load, "room view")
        self.room_id = ""
        self.rows: dict[str, PointRow] = {}
        self.data: RoomData | None = None
        self.status_view_since: datetime | None = None
        self._cleanup_ends: float | None = None
        self._alarms_shown: object = None

        self.title = QLabel(self)
        self.title.setObjectName("roomTitle")
        self.title.setFont(_font(15, bold=True))
        self.subtitle = QLabel(self)
        self.subtitle.setObjectName("roomSubtitle")

        status_box = QGroupBox("Status", self)
        self.status_label = QLabel("…", status_box)
        self.status_label.setObjectName("roomViewStatus")
        self.status_label.setFont(_font(12, bold=True))
        self.status_detail = QLabel(status_box)
        self.status_detail.setObjectName("roomViewStatusDetail")
        self.status_detail.setWordWrap(True)
        self.countdown = QLabel(status_box)
        self.countdown.setObjectName("cleanupCountdown")
        self.countdown.setFont(_font(11, bold=True))
        self.last_cleaning = QLabel(status_box)
        self.last_cleaning.setObjectName("lastCleaning")
        self.last_cleaning.setWordWrap(True)
        self.doors_label = QLabel(status_box)
        self.doors_label.setObjectName("roomDoors")
        self.doors_label.setWordWrap(True)
        status_layout = QVBoxLayout(status_box)
        for widget in (
            self.status_label,
            self.status_detail,
            self.countdown,
            self.last_cleaning,
            self.doors_label,
        ):
            status_layout.addWidget(widget)
        status_layout.addStretch(1)

        self.status_button = self._button("Change status…", "roomChangeStatus", "status")
        self.cleaning_button = self._button("Log cleaning…", "roomLogCleaning", "cleaning")
        self.gowning_button = self._button("Log gowning…", "roomLogGowning", "gowning")
        self.logbook_button = self._button("Room logbook…", "roomOpenLogbook", "")
        self.trend_room_button = QPushButton("Trend all", self)
        self.trend_room_button.setObjectName("roomTrendAll")
        self.trend_room_button.setToolTip("Open a trend of every point of this room")
        self.trend_room_button.clicked.connect(
            lambda _checked=False: self.trend_requested.emit(tuple(self.rows))
        )
        self.actions_hint = QLabel(self)
        self.actions_hint.setObjectName("hint")
        actions = QHBoxLayout()
        for button in (
            self.status_button,
            self.cleaning_button,
            self.gowning_button,
            self.logbook_button,
        ):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.trend_room_button)

        self.points_box = QGroupBox("Measurements (live) and the last hour", self)
        self.points_grid = QGridLayout(self.points_box)
        self.points_grid.setHorizontalSpacing(10)
        self.points_grid.setColumnStretch(3, 1)
        self.no_points = QLabel("This space has no measured points.", self.points_box)
        self.no_points.setObjectName("hint")

        self.alarms_tree = QTreeWidget(self)
        self.alarms_tree.setObjectName("roomAlarms")
        self.alarms_tree.setHeaderLabels(["Priority", "State", "Alarm", "Since"])
        self.alarms_tree.setRootIsDecorated(True)
        self.logbook_tree = QTreeWidget(self)
        self.logbook_tree.setObjectName("roomRecentEntries")
        self.logbook_tree.setHeaderLabels(["Time", "Entry", "By"])
        self.logbook_tree.setRootIsDecorated(False)
        for tree, widths in ((self.alarms_tree, (120, 150, 320)), (self.logbook_tree, (215, 380))):
            for column, px in enumerate(widths):
                tree.setColumnWidth(column, px)
        alarms_box = QGroupBox("Alarms", self)
        QVBoxLayout(alarms_box).addWidget(self.alarms_tree)
        logbook_box = QGroupBox("Recent logbook entries", self)
        QVBoxLayout(logbook_box).addWidget(self.logbook_tree)
        self.problems = QLabel(self)
        self.problems.setObjectName("hint")
        self.problems.setWordWrap(True)
        self.problems.hide()

        top = QHBoxLayout()
        top.addWidget(status_box, 1)
        top.addWidget(self.points_box, 3)
        lower = QSplitter(Qt.Orientation.Horizontal, self)
        lower.addWidget(alarms_box)
        lower.addWidget(logbook_box)
        lower.setSizes([600, 600])
        header = QVBoxLayout()
        header.setSpacing(0)
        header.addWidget(self.title)
        header.addWidget(self.subtitle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(header)
        layout.addLayout(actions)
        layout.addWidget(self.actions_hint)
        layout.addLayout(top)
        layout.addWidget(self.problems)
        layout.addWidget(lower, 1)

        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self._on_tick)
        self._spark_timer = QTimer(self)
        self._spark_timer.setInterval(SPARK_REFRESH_MS)
        self._spark_timer.timeout.connect(self.reload)
        if bridge is not None:
            bridge.points_changed.connect(self._points_changed)
        self.set_records(None, lambda: None)
        self.resize(1280, 820)

    def _button(self, text: str, name: str, what: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.clicked.connect(
            lambda _checked=False: self.logbook_requested.emit(self.room_id, what)
        )
        return button

    # -------------------------------------------------------------- records

    def set_records(
        self, sources: TrendSources | None, session: Callable[[], UserSession | None]
    ) -> None:
        """Where the view reads its records and history (None: live values only)."""
        self.sources = sources
        self._session = session
        self.update_actions()

    def update_actions(self) -> None:
        records = self.sources is not None and self.sources.records is not None
        logged_in = records and self._session() is not None
        for button in (
            self.status_button,
            self.cleaning_button,
            self.gowning_button,
            self.logbook_button,
        ):
            button.setEnabled(logged_in)
        historian = self.sources is not None
        self.trend_room_button.setEnabled(historian and bool(self.rows))
        for row in self.rows.values():
            row.trend_button.setEnabled(historian)
            if not historian:
                row.trend_button.setToolTip("Trends need the records database (not open)")
        if not records:
            hint = "The GMP records are not open: live values only."
        elif not logged_in:
            hint = "Log in to change the status or log cleaning and gowning."
        else:
            hint = ""
        self.actions_hint.setText(hint)
        self.actions_hint.setVisible(bool(hint))

    # -------------------------------------------------------------- the room

    def set_room(self, room_id: str) -> None:
        space = self.site.space_by_id[room_id]
        changed = room_id != self.room_id
        self.room_id = room_id
        self.setWindowTitle(f"{room_id} — {space.name} — Room view")
        self.title.setText(f"{room_id} — {space.name}")
        setpoint = format_number(Quantity.DIFFERENTIAL_PRESSURE, space.setpoint_pa)
        self.subtitle.setText(f"Grade {space.grade.value} · setpoint {setpoint} Pa")
        if changed:
            self.data = None
            self._cleanup_ends = None
            self._build_rows()
            self._show_data(None)
        self.refresh_live()
        self.reload()

    def _build_rows(self) -> None:
        grid = self.points_grid
        for row in self.rows.values():
            row.sparkline.release()
            for widget in row.widgets():
                grid.removeWidget(widget)
                widget.deleteLater()
        self.rows = {}
        configs = [p for p in self.site.points_of(self.room_id) if p.hal.quantity in DISPLAYED]
        configs.sort(key=lambda p: DISPLAYED.index(p.hal.quantity))
        for i, config in enumerate(configs):
            row = PointRow(self.points_box, config, self._trend_point)
            for column, widget in enumerate(row.widgets()):
                grid.addWidget(widget, i, column)
            self.rows[config.id] = row
        self.no_points.setVisible(not configs)
        if not configs:
            grid.addWidget(self.no_points, 0, 0, 1, 6)
        self.update_actions()

    def _trend_point(self, point_id: str) -> None:
        self.trend_requested.emit((point_id,))

    def _occupancy(self) -> Occupancy:
        if self.engine is None:
            return Occupancy.AT_REST
        try:
            return self.engine.occupancy(self.room_id)
        except AlarmNotFound:
            return Occupancy.AT_REST

    def refresh_live(self) -> None:
        """Indicators from the point store; limits by the room's occupancy."""
        at_rest = self._occupancy() is Occupancy.AT_REST
        for row in self.rows.values():
            config = row.config
            limits = (
                config.limits_at_rest
                if at_rest and config.limits_at_rest is not None
                else config.limits
            )
            if limits != row.limits or row.indicator.limits is None:
                row.set_limits(limits)
            row.show(self.store.latest(row.point_id))
        self._show_doors()
        self._show_alarms()
        self._show_countdown()

    def _points_changed(self, changed: object) -> None:
        if not self.isVisible() or not self.room_id:
            return
        ids = changed if isinstance(changed, frozenset | set) else set()
        doors = {d.id for d in self.site.doors if self.room_id in d.between}
        if any(p in self.rows for p in ids) or any(
            self.site.point_by_id[p].hal.target in doors for p in ids if p in self.site.point_by_id
        ):
            self.refresh_live()

    def _show_doors(self) -> None:
        parts: list[str] = []
        for door in self.site.doors:
            if self.room_id not in door.between and door.airlock != self.room_id:
                continue
            closed = self.site.point_for(door.id, Quantity.DOOR_CLOSED)
            locked = self.site.point_for(door.id, Quantity.DOOR_LOCKED)
            fault = (
                self.site.point_for(door.airlock, Quantity.INTERLOCK_FAULT)
                if door.airlock is not None
                else None
            )
            view = door_view(
                self.store.latest(closed.id) if closed else None,
                self.store.latest(locked.id) if locked else None,
                self.store.latest(fault.id) if fault else None,
                has_fault_point=fault is not None,
            )
            parts.append(f"{door.id}: {view.state.value.upper()}")
        self.doors_label.setText("Doors — " + " · ".join(parts) if parts else "")

    def _show_alarms(self) -> None:
        alarms: list[Alarm] = []
        if self.engine is not None and self.room_id:
            try:
                alarms = self.engine.room_alarms(self.room_id)
            except AlarmNotFound:
                alarms = []
        events = self.data.alarm_events if self.data is not None else ()
        shown = (
            tuple((a.id, a.state, a.message, a.raised_at) for a in alarms),
            events,
            self.sources is not None,
        )
        if shown == self._alarms_shown:
            return  # unchanged: keep the list as the operator left it (scroll, selection)
        self._alarms_shown = shown
        tree = self.alarms_tree
        tree.clear()
        now_item = QTreeWidgetItem(tree, ["Now", "", "", ""])
        for alarm in alarms:
            state = STATE_WORDS[alarm.state]
            item = QTreeWidgetItem(
                now_item,
                [
                    PRIORITY_WORDS[alarm.priority],
                    state,
                    alarm.message or alarm.definition.title,
                    local_text(alarm.raised_at),
                ],
            )
            item.setToolTip(2, f"{alarm.id}: {alarm.message}")
            item.setIcon(0, priority_icon(alarm.priority, filled=alarm.state.needs_acknowledgement))
        if not alarms:
            QTreeWidgetItem(now_item, ["", "", "No alarm of this room is active or waiting.", ""])
        recent = QTreeWidgetItem(tree, ["Recent events", "", "", ""])
        for event in events:
            row = QTreeWidgetItem(
                recent,
                [
                    PRIORITY_WORDS[event.priority],
                    event.event.value.replace("_", " "),
                    event.message,
                    local_text(event.at),
                ],
            )
            row.setIcon(0, priority_icon(event.priority, filled=False))
            row.setToolTip(0, priority_text(event.priority))
            row.setToolTip(2, f"{event.alarm_id}: {event.message}")
        if not events:
            QTreeWidgetItem(
                recent,
                [
                    "",
                    "",
                    "None on record." if self.sources is not None else "Alarm journal not open.",
                    "",
                ],
            )
        for group in (now_item, recent):
            group.setFirstColumnSpanned(True)
            group.setExpanded(True)

    def _show_countdown(self) -> None:
        remaining: float | None = None
        if self.engine is not None:
            remaining = self.engine.cleanup_remaining().get(self.room_id)  # its own clock
        if remaining is None and self._cleanup_ends is not None:
            remaining = max(0.0, self._cleanup_ends - self._clock())
        if remaining is None or remaining <= 0:
            self.countdown.setText("")
            self.countdown.hide()
            return
        minutes, seconds = divmod(round(remaining), 60)
        ends = datetime.fromtimestamp(self._clock() + remaining, UTC)
        self.countdown.setText(
            f"⏱ Clean-up: {minutes:02d}:{seconds:02d} left — at-rest limits from {local_text(ends)}"
        )
        self.countdown.show()

    def _on_tick(self) -> None:
        if self.room_id:
            self._show_countdown()
            self._show_alarms()

    # -------------------------------------------------------------- reading

    def reload(self) -> None:
        if self.room_id and self.isVisible():
            self.reloader.request()

    async def _load(self) -> None:
        sources = self.sources
        room_id = self.room_id
        if sources is None or not room_id:
            return
        try:
            data = await sources.worker.call(
                load_room_data,
                sources.records,
                sources.journal,
                sources.historian,
                self._session(),
                room_id,
                tuple(self.rows),
                self._clock(),
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("room view of %s not read: %s", room_id, error)
            self.problems.setText(f"ℹ Not read: {error}")
            self.problems.show()
            return
        if room_id == self.room_id:
            self._show_data(data)

    def _show_data(self, data: RoomData | None) -> None:
        self.data = data
        snapshot = data.snapshot if data is not None else None
        if data is not None:
            now = self._clock()
            for point_id, series in data.sparklines.items():
                row = self.rows.get(point_id)
                if row is not None:
                    row.sparkline.show(series, now)
            self.problems.setText("ℹ " + "; ".join(data.problems) if data.problems else "")
            self.problems.setVisible(bool(data.problems))
        self._show_status(snapshot)
        self._show_logbook(snapshot)
        self._show_alarms()

    def _show_status(self, snapshot: RoomSnapshot | None) -> None:
        if snapshot is None:
            self.status_label.setText("Status not known" if self.sources is None else "…")
            self.status_detail.setText(
                "The GMP records are not open." if self.sources is None else ""
            )
            self.last_cleaning.setText("")
            self._cleanup_ends = None
            self._show_countdown()
            return
        view = snapshot.current
        status = view.status
        marked = status not in (RoomStatus.IN_OPERATION, RoomStatus.RELEASED, RoomStatus.CLEANED)
        self.status_label.setText(
            f"{status.display_name}  [{short_status(status)}]" + ("  ◼" if marked else "")
        )
        lines = []
        if view.never_logged:
            lines.append("No status recorded yet: counts as To be cleaned.")
        else:
            lines.append(f"Since {local_text(view.since)} by {view.by or '?'}")
        if view.product or view.batch:
            lines.append(f"Product {view.product or '–'} · batch {view.batch or '–'}")
        if view.hold_expires_at is not None:
            lines.append(f"Clean hold expires {local_text(view.hold_expires_at)}")
        if snapshot.sporicidal_overdue:
            days = snapshot.sporicidal_days
            lines.append(
                "▲ SPOR! No sporicidal clean on record"
                if days is None
                else f"▲ SPOR! Sporicidal clean overdue by {days} day(s)"
            )
        self.status_detail.setText("\n".join(lines))
        self._cleanup_ends = (
            view.cleanup_ends_at.timestamp() if view.cleanup_ends_at is not None else None
        )
        self._show_countdown()
        current = [c for c in snapshot.cleanings if c.current]
        if current:
            last = max(current, key=lambda c: c.started_at)
            verified = (
                f", verified by {last.verified_by}" if last.verified_by else ", not verified yet"
            )
            self.last_cleaning.setText(
                f"Last cleaning: {last.cleaning_type.display_name}, "
                f"{local_text(last.started_at)} to {local_text(last.ended_at) or '…'}, "
                f"by {last.performed_by}{verified}"
            )
        else:
            self.last_cleaning.setText("Last cleaning: none on record")

    def _show_logbook(self, snapshot: RoomSnapshot | None) -> None:
        tree = self.logbook_tree
        tree.clear()
        if snapshot is None:
            return
        entries: list[tuple[datetime, str, str]] = []
        for view in snapshot.history:
            if view.since is not None:
                reason = f" — {view.reason}" if view.reason else ""
                entries.append(
                    (view.since, f"Status: {view.status.display_name}{reason}", view.by or "")
                )
        for cleaning in snapshot.cleanings:
            if not cleaning.current:
                continue
            state = "verified" if cleaning.verified else "not verified"
            entries.append(
                (
                    cleaning.started_at,
                    f"Cleaning #{cleaning.id}: {cleaning.cleaning_type.display_name}, "
                    f"{cleaning.agent} ({state})",
                    cleaning.performed_by,
                )
            )
        for gowning in snapshot.gowning:
            if not gowning.current:
                continue
            out = f", out {local_text(gowning.time_out)}" if gowning.time_out else " (inside)"
            entries.append(
                (gowning.time_in, f"Gowning: {gowning.person} in{out}", gowning.logged_by)
            )
        entries.sort(key=lambda e: e[0], reverse=True)
        for at, text, by in entries[:RECENT_ENTRIES]:
            QTreeWidgetItem(tree, [local_text(at), text, by])
        if not entries:
            QTreeWidgetItem(tree, ["", "No logbook entry for this room yet.", ""])

    # -------------------------------------------------------------- window

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._tick.start()
        self._spark_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._tick.stop()
        self._spark_timer.stop()
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._tick.stop()
        self._spark_timer.stop()
        self.tasks.cancel_all()
        super().closeEvent(event)
        self.closed.emit()

    async def aclose(self) -> None:
        """Stop, wait for the reads, and let go of the sparklines' menus (the view is going)."""
        self._tick.stop()
        self._spark_timer.stop()
        await self.tasks.close()
        for row in self.rows.values():
            row.sparkline.release()


# ------------------------------------------------------------------ the desk


class DisplayDesk(QObject):
    """Adds the room view and the trends to the main window (module docstring)."""

    def __init__(
        self,
        window: MainWindow,
        *,
        engine: AlarmEngine | None = None,
        settings: QSettings | None = None,
        clock: FacilityClock = WALL_CLOCK,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent if parent is not None else window)
        self.window = window
        self.site = window.site
        self.engine = engine
        self.settings = settings if settings is not None else app_settings()
        self._clock = clock
        self.sources: TrendSources | None = None
        self.desk: RecordsDesk | None = None  # once the records are open
        self.room_view: RoomView | None = None
        self.trend_window: TrendWindow | None = None
        self._stopped = False

        self.trends_action = QAction("&Trends…", window)
        self.trends_action.setObjectName("trends")
        self.trends_action.setShortcut(QKeySequence("Ctrl+T"))
        self.trends_action.triggered.connect(lambda _checked=False: self.open_trend(()))
        self.room_view_action = QAction("&Room view…", window)
        self.room_view_action.setObjectName("roomView")
        self.room_view_action.setShortcut(QKeySequence("Ctrl+Shift+V"))
        self.room_view_action.setToolTip("The selected room's view (or double-click a room)")
        self.room_view_action.triggered.connect(lambda _checked=False: self._open_focused())
        for action in (self.room_view_action, self.trends_action):
            window.addAction(action)
        menu = _view_menu(window)
        if menu is not None:
            menu.addSeparator()
            menu.addAction(self.room_view_action)
            menu.addAction(self.trends_action)
        toolbar = getattr(window, "view_toolbar", None)
        if isinstance(toolbar, QToolBar):
            toolbar.addSeparator()
            toolbar.addAction(self.trends_action)
        window.plan.space_activated.connect(self.open_room)
        self._update_actions()

    # -------------------------------------------------------------- records

    def open_records(self, desk: RecordsDesk) -> None:
        """Read through the records desk's worker; its room logbook opens from the view.

        ``desk`` is the :class:`~ui.records_desk.RecordsDesk`, after a successful
        start: the plan's double-click then opens the room view instead of the
        logbook, which stays in the Records menu and the room view.
        """
        records = desk.records
        context = desk.context
        if records is None or context is None:
            return
        engine = records.core.engine
        self.desk = desk
        self.sources = TrendSources(
            self.site,
            desk.worker,
            HistorianQuery(
                engine,
                policies=policies_for_site(self.site, time_lapse=self._clock.speed),
                settings=historian_settings(self.site),
                clock=self._clock,
            ),
            AlarmJournal(engine),
            records,
        )
        self.window.plan.space_activated.disconnect(desk.open_room_logbook)
        desk.locked.connect(self.close_windows)
        desk.logged_out.connect(self.close_windows)
        desk.logged_in.connect(self._session_changed)
        context.session_changed.connect(self._session_changed)
        context.changed.connect(self._records_changed)
        if self.room_view is not None:
            self.room_view.set_records(self.sources, self._session)
        self._update_actions()

    def _session(self) -> UserSession | None:
        return self.desk.session if self.desk is not None else None

    def _username(self) -> str | None:
        session = self._session()
        return session.user.username if session is not None else None

    def _session_changed(self, *_args: object) -> None:
        if self.room_view is not None:
            self.room_view.update_actions()
            self.room_view.reload()
        if self.trend_window is not None:
            self.trend_window.refresh_sets()

    def _records_changed(self, _changes: object) -> None:
        if self.room_view is not None and self.room_view.isVisible():
            self.room_view.reload()

    def _update_actions(self) -> None:
        self.trends_action.setEnabled(self.sources is not None and not self._stopped)
        self.trends_action.setToolTip(
            "Trends of any point over any period"
            if self.sources is not None
            else "Trends need the records database, which is not open"
        )

    # -------------------------------------------------------------- windows

    def _covered(self) -> bool:
        desk = self.desk
        return desk is not None and desk.cover.covering

    def _open_focused(self) -> None:
        room = self.window.plan.focused_space or self.site.spaces[0].id
        self.open_room(room)

    def open_room(self, room_id: str) -> RoomView | None:
        """Show the room view of ``room_id`` (one window, reused)."""
        if self._stopped or self._covered() or room_id not in self.site.space_by_id:
            return None
        view = self.room_view
        if view is None:
            view = RoomView(
                self.site,
                self.window.store,
                self.window.bridge,
                engine=self.engine,
                parent=self.window,
                clock=self._clock,
            )
            view.set_records(self.sources, self._session)
            view.trend_requested.connect(self._trend_requested)
            view.logbook_requested.connect(self.open_logbook)
            self.room_view = view
        view.show()
        view.set_room(room_id)
        view.raise_()
        view.activateWindow()
        return view

    def _trend_requested(self, points: object) -> None:
        ids = tuple(str(p) for p in points) if isinstance(points, tuple | list) else ()
        self.open_trend(ids)

    def open_trend(
        self, point_ids: Sequence[str], *, span_s: float = DEFAULT_SPAN_S
    ) -> TrendWindow | None:
        """The trend window on these points over the last ``span_s`` (None: no historian)."""
        sources = self.sources
        if sources is None or self._stopped or self._covered():
            return None
        window = self.trend_window
        if window is None:
            window = TrendWindow(
                sources,
                settings=self.settings,
                username=self._username,
                parent=self.window,
                clock=self._clock,
            )
            self.trend_window = window
        if point_ids:
            window.show_points(point_ids, span_s=span_s)
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    def open_logbook(self, room_id: str, what: str = "") -> None:
        """The room logbook on the main window, on this room; then the step asked for."""
        desk = self.desk
        if desk is None or self._covered():
            return
        desk.open_room_logbook(room_id)
        panel = desk.panel
        if panel is None:
            return
        self.window.raise_()
        self.window.activateWindow()
        if what == "cleaning":
            panel.tabs.setCurrentIndex(1)
            if panel.log_cleaning_button.isEnabled():
                panel.log_cleaning_button.click()
        elif what == "gowning":
            panel.tabs.setCurrentIndex(2)
            if panel.gowning_entry_button.isEnabled():
                panel.gowning_entry_button.click()
        elif what == "status":
            panel.tabs.setCurrentIndex(0)

    def close_windows(self) -> None:
        """Close the room view and the trend window (lock, switch user)."""
        if self.trend_window is not None:
            self.trend_window.shutdown()
            self.trend_window.close()
        if self.room_view is not None:
            self.room_view.close()

    async def stop(self) -> None:
        """Close the windows and wait for their reads (before the worker stops)."""
        if self._stopped:
            return
        self._stopped = True
        self._update_actions()
        trend, self.trend_window = self.trend_window, None
        if trend is not None:
            trend.shutdown()
            trend.close()
            await trend.aclose()
            trend.deleteLater()
        view, self.room_view = self.room_view, None
        if view is not None:
            view.close()
            await view.aclose()
            view.deleteLater()


def _view_menu(window: MainWindow) -> QMenu | None:
    """The main window's View menu (where the plan's zoom actions are)."""
    found = getattr(window, "view_menu", None)
    if isinstance(found, QMenu):
        return found
    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and action.text().replace("&", "") == "View":
            return menu
    return None
