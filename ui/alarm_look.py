"""How an alarm reads everywhere on screen: priority shapes, words and colours.

ISA-101: colour is kept for abnormal states and never carries meaning alone.
Each priority has its own shape and word — ▲ HIGH (red), ◆ MEDIUM (amber),
▼ LOW (blue) — in the banner, the alarm list, the interlock view and on the
floor plan. An unacknowledged alarm's shape is filled; an acknowledged one is
an outline: the difference reads without colour too.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap, QPolygonF

from necstgen_desk.alarms.model import Alarm, AlarmKind, AlarmState
from necstgen_desk.site.model import Priority

PRIORITY_WORDS: Mapping[Priority, str] = MappingProxyType(
    {Priority.HIGH: "HIGH", Priority.MEDIUM: "MEDIUM", Priority.LOW: "LOW"}
)
PRIORITY_SHORT: Mapping[Priority, str] = MappingProxyType(
    {Priority.HIGH: "HIGH", Priority.MEDIUM: "MED", Priority.LOW: "LOW"}
)
PRIORITY_SHAPES: Mapping[Priority, str] = MappingProxyType(
    {Priority.HIGH: "▲", Priority.MEDIUM: "◆", Priority.LOW: "▼"}
)
PRIORITY_COLOURS: Mapping[Priority, str] = MappingProxyType(
    {Priority.HIGH: "#d71920", Priority.MEDIUM: "#f2b600", Priority.LOW: "#3a7cc9"}
)
#: Priorities, most urgent first.
PRIORITIES = (Priority.HIGH, Priority.MEDIUM, Priority.LOW)

STATE_WORDS: Mapping[AlarmState, str] = MappingProxyType(
    {
        AlarmState.NORMAL: "NORMAL",
        AlarmState.UNACKNOWLEDGED: "UNACK",
        AlarmState.ACKNOWLEDGED: "ACK",
        AlarmState.RETURNED_UNACKNOWLEDGED: "CLEARED · UNACK",
        AlarmState.SHELVED: "SHELVED",
        AlarmState.SUPPRESSED: "SUPPRESSED",
        AlarmState.OUT_OF_SERVICE: "OUT OF SERVICE",
    }
)


def priority_text(priority: Priority) -> str:
    """``▲ HIGH``: the shape and the word."""
    return f"{PRIORITY_SHAPES[priority]} {PRIORITY_WORDS[priority]}"


def priority_colour(priority: Priority) -> QColor:
    return QColor(PRIORITY_COLOURS[priority])


def shape_polygon(priority: Priority, rect: QRectF) -> QPolygonF:
    """The priority's shape inside ``rect``: triangle up, diamond, triangle down."""
    left, right, top, bottom = rect.left(), rect.right(), rect.top(), rect.bottom()
    cx, cy = rect.center().x(), rect.center().y()
    if priority is Priority.HIGH:
        points = [QPointF(cx, top), QPointF(right, bottom), QPointF(left, bottom)]
    elif priority is Priority.MEDIUM:
        points = [QPointF(cx, top), QPointF(right, cy), QPointF(cx, bottom), QPointF(left, cy)]
    else:
        points = [QPointF(left, top), QPointF(right, top), QPointF(cx, bottom)]
    return QPolygonF(points)


def paint_priority(
    painter: QPainter,
    priority: Priority,
    rect: QRectF,
    *,
    filled: bool = True,
    outline: QColor | None = None,
) -> None:
    """Draw the priority's shape: filled in its colour (unacknowledged), or a thick
    outline in its colour (acknowledged)."""
    colour = priority_colour(priority)
    polygon = shape_polygon(priority, rect)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if filled:
        painter.setPen(QPen(outline if outline is not None else QColor("#1b1d1f"), 1.0))
        painter.setBrush(colour)
    else:
        painter.setPen(QPen(colour, 2.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPolygon(polygon)
    painter.restore()


_ICONS: dict[tuple[Priority, bool], QIcon] = {}


def priority_icon(priority: Priority, *, filled: bool = True, size: int = 14) -> QIcon:
    """A small icon of the priority's shape (cached; for tables and buttons)."""
    key = (priority, filled)
    icon = _ICONS.get(key)
    if icon is None:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        paint_priority(painter, priority, QRectF(1, 1, size - 2, size - 2), filled=filled)
        painter.end()
        icon = QIcon(pixmap)
        _ICONS[key] = icon
    return icon


def is_interlock_fault(alarm: Alarm) -> bool:
    return alarm.kind is AlarmKind.INTERLOCK_FAULT


def value_text(alarm: Alarm) -> str:
    value = alarm.value
    if value is None or isinstance(value, bool):
        return ""
    if alarm.kind is AlarmKind.INTERLOCK_FAULT:
        return f"F{value}"
    unit = alarm.definition.unit
    if isinstance(value, float):
        number = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1f}"
    else:
        number = str(value)
    return f"{number} {unit}".strip()
