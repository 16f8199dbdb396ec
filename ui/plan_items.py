"""The graphics items of the floor plan: spaces, value lines, doors, legend.

Each item keeps what it shows as plain data (``state``, ``text``, ``view``)
so tests and later views can ask what the operator sees, and paints from a
shared :class:`PlanStyle` whose colours the stylesheet sets (ISA-101: grey
when normal, colour only for abnormal states and always with a shape or text).

Drawing is the expensive part of a large plan, so items repaint only when
what they show changes: a value whose number would be drawn smaller than
:data:`MIN_TEXT_PX` screen pixels (a 500-room site fitted to the window) is
drawn by its state alone (alarm marker, quality box, or a quiet grey bar) and
does not repaint while only its number moves; zoom in and the numbers return.
A tooltip is rebuilt when the state it explains changes, and while the mouse
is on its item.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from enum import StrEnum
from html import escape as esc

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from hal.points import Quantity, Sample
from necstgen_desk.site.model import Door, Grade, Limits, PointConfig, Priority, Space
from ui.alarm_look import PRIORITY_COLOURS, PRIORITY_SHORT, shape_polygon
from ui.point_display import (
    DoorState,
    DoorView,
    ValueState,
    door_view,
    fault_text,
    format_number,
    value_label,
    value_state,
    value_text,
)

PX_PER_M = 20.0  # scene units per metre of the site geometry


def to_scene(x_m: float, y_m: float) -> QPointF:
    return QPointF(x_m * PX_PER_M, y_m * PX_PER_M)


# ------------------------------------------------------------------ style


def _c(name: str) -> QColor:
    return QColor(name)


@dataclass
class PlanPalette:
    """The plan's colours; FloorPlan exposes each as a Qt property for the QSS."""

    background: QColor = field(default_factory=lambda: _c("#c4c6c8"))
    space_fill: QColor = field(default_factory=lambda: _c("#dfe0e1"))
    space_outline: QColor = field(default_factory=lambda: _c("#73777b"))
    text: QColor = field(default_factory=lambda: _c("#1b1d1f"))
    label: QColor = field(default_factory=lambda: _c("#4a4e52"))
    muted: QColor = field(default_factory=lambda: _c("#7d8185"))
    door: QColor = field(default_factory=lambda: _c("#33373b"))
    alert: QColor = field(default_factory=lambda: _c("#f2b600"))
    action: QColor = field(default_factory=lambda: _c("#d71920"))
    fault: QColor = field(default_factory=lambda: _c("#d71920"))
    # Alarm priorities (ui.alarm_look): always drawn with their shape and word.
    high: QColor = field(default_factory=lambda: _c(PRIORITY_COLOURS[Priority.HIGH]))
    medium: QColor = field(default_factory=lambda: _c(PRIORITY_COLOURS[Priority.MEDIUM]))
    low: QColor = field(default_factory=lambda: _c(PRIORITY_COLOURS[Priority.LOW]))

    def priority(self, priority: Priority) -> QColor:
        return {Priority.HIGH: self.high, Priority.MEDIUM: self.medium, Priority.LOW: self.low}[
            priority
        ]


def _font(pixel_size: int, *, bold: bool = False, italic: bool = False) -> QFont:
    font = QFont()
    font.setFamilies(["Segoe UI", "DejaVu Sans", "Noto Sans", "Liberation Sans", "Arial"])
    font.setPixelSize(pixel_size)
    font.setBold(bold)
    font.setItalic(italic)
    # Unhinted metrics stay the same at every zoom, so the layout measured once holds.
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    return font


@dataclass(frozen=True, slots=True)
class FontSet:
    """The fonts of one layout density (rooms, or airlocks and other small spaces)."""

    space_id: QFont
    name: QFont
    label: QFont
    value: QFont
    value_bold: QFont
    value_stale: QFont
    unit: QFont
    tag: QFont


def _font_set(space_id: int, name: int, label: int, value: int, unit: int, tag: int) -> FontSet:
    return FontSet(
        space_id=_font(space_id, bold=True),
        name=_font(name),
        label=_font(label),
        value=_font(value),
        value_bold=_font(value, bold=True),
        value_stale=_font(value, italic=True),
        unit=_font(unit),
        tag=_font(tag, bold=True),
    )


class PlanFonts:
    """Fonts in scene pixels, sized to stay readable when the whole site is fitted
    to a 1600 px wide window (about 0.8 screen px per scene px)."""

    def __init__(self) -> None:
        self.room = _font_set(space_id=17, name=13, label=13, value=16, unit=12, tag=9)
        self.compact = _font_set(space_id=15, name=11, label=12, value=15, unit=11, tag=9)
        self.badge = _font(10, bold=True)
        self.door = _font(11, bold=True)
        self.marker = _font(10, bold=True)
        self.legend = _font(13)
        self.legend_title = _font(14, bold=True)


class PlanStyle:
    """Palette and fonts shared by every item of one plan.

    ``blink_on`` is the phase of the one blink the plan has: the outline of a
    room with an unacknowledged HIGH alarm (the plan's timer flips it).
    """

    def __init__(self) -> None:
        self.palette = PlanPalette()
        self.fonts = PlanFonts()
        self.blink_on = True


def text_width(font: QFont, text: str) -> float:
    return QFontMetricsF(font).horizontalAdvance(text)


def line_height(font: QFont) -> float:
    return QFontMetricsF(font).height()


# ------------------------------------------------------------------ painters

MARKER = 14.0  # size of an alarm marker in scene pixels


def paint_marker(painter: QPainter, state: ValueState, centre: QPointF, style: PlanStyle) -> None:
    """Amber diamond for alert, red triangle with '!' for action, nothing otherwise."""
    pal = style.palette
    half = MARKER / 2
    x, y = centre.x(), centre.y()
    if state is ValueState.ALERT:
        shape = QPolygonF(
            [QPointF(x, y - half), QPointF(x + half, y), QPointF(x, y + half), QPointF(x - half, y)]
        )
        painter.setPen(QPen(pal.text, 1.0))
        painter.setBrush(pal.alert)
        painter.drawPolygon(shape)
    elif state is ValueState.ACTION:
        shape = QPolygonF(
            [
                QPointF(x, y - half - 1),
                QPointF(x + half + 1, y + half),
                QPointF(x - half - 1, y + half),
            ]
        )
        painter.setPen(QPen(pal.text, 1.0))
        painter.setBrush(pal.action)
        painter.drawPolygon(shape)
        painter.setPen(QColor("white"))
        painter.setFont(style.fonts.marker)
        painter.drawText(
            QRectF(x - half, y - half + 2, MARKER, MARKER), Qt.AlignmentFlag.AlignCenter, "!"
        )


def paint_tag(painter: QPainter, tag: str, rect: QRectF, style: PlanStyle, font: QFont) -> None:
    """A dashed box around STALE / COMM / BAD / ?: the value is not live."""
    if not tag:
        return
    pal = style.palette
    pen = QPen(pal.muted, 1.0, Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(rect)
    painter.setPen(pal.label)
    painter.setFont(font)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, tag)


def tag_size(font: QFont, tag: str) -> tuple[float, float]:
    return text_width(font, tag) + 6, line_height(font) + 1


BADGE_H = 15.0


def badge_width(grade: Grade, style: PlanStyle) -> float:
    if grade is Grade.CNC:
        return text_width(style.fonts.badge, "CNC") + 8
    return BADGE_H


def paint_grade_badge(painter: QPainter, grade: Grade, rect: QRectF, style: PlanStyle) -> None:
    """One shape per grade, so the grade reads without colour: B ■, C ●, D ⬡, CNC pill."""
    pal = style.palette
    painter.setFont(style.fonts.badge)
    text_colour = pal.text
    if grade in (Grade.A, Grade.B):
        painter.setPen(QPen(pal.text, 1.0))
        painter.setBrush(pal.label)
        painter.drawRect(rect)
        text_colour = pal.space_fill
    elif grade is Grade.C:
        painter.setPen(QPen(pal.text, 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(rect)
    elif grade is Grade.D:
        c = rect.center()
        r = rect.width() / 2 + 0.5
        hexagon = QPolygonF(
            [
                QPointF(
                    c.x() + r * math.cos(math.radians(a)), c.y() + r * math.sin(math.radians(a))
                )
                for a in range(0, 360, 60)
            ]
        )
        painter.setPen(QPen(pal.text, 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPolygon(hexagon)
    else:
        painter.setPen(QPen(pal.text, 1.0, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
    painter.setPen(text_colour)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, grade.value)


@dataclass(frozen=True, slots=True)
class PlanAlarm:
    """What the plan shows of a room's or a door's listed alarms: the most urgent
    priority, whether any awaits acknowledgement, how many, and their messages."""

    priority: Priority
    unacknowledged: bool
    count: int
    lines: tuple[str, ...] = ()

    @property
    def word(self) -> str:
        """``HIGH``, ``MED ×2``, ``LOW``: the word, and the count when more than one."""
        short = PRIORITY_SHORT[self.priority]
        return f"{short} ×{self.count}" if self.count > 1 else short

    @property
    def blinks(self) -> bool:
        """ISA-101, kept calm: only an unacknowledged HIGH alarm blinks (its outline)."""
        return self.unacknowledged and self.priority is Priority.HIGH

    def tooltip_lines(self) -> list[str]:
        state = "unacknowledged" if self.unacknowledged else "acknowledged"
        head = (
            f"<b>{self.count} alarm(s), most urgent {PRIORITY_SHORT[self.priority]}</b> ({state})"
        )
        return [head, *(esc(line) for line in self.lines[:6])]


ALARM_SHAPE = 13.0


def alarm_badge_size(alarm: PlanAlarm, style: PlanStyle) -> tuple[float, float]:
    font = style.fonts.door
    return ALARM_SHAPE + 4 + text_width(font, alarm.word) + 8, max(
        line_height(font), ALARM_SHAPE
    ) + 4


def paint_alarm_shape(
    painter: QPainter, alarm: PlanAlarm, rect: QRectF, style: PlanStyle, *, filled: bool
) -> None:
    """The priority's shape: filled (unacknowledged) or a thick outline (acknowledged)."""
    colour = style.palette.priority(alarm.priority)
    if filled:
        painter.setPen(QPen(style.palette.text, 1.0))
        painter.setBrush(colour)
    else:
        painter.setPen(QPen(colour, 2.2))
        painter.setBrush(style.palette.space_fill)
    painter.drawPolygon(shape_polygon(alarm.priority, rect))


def paint_alarm_badge(painter: QPainter, alarm: PlanAlarm, style: PlanStyle) -> None:
    """A pill at (0, 0): the priority shape and word. Unacknowledged: filled in the
    priority's colour; acknowledged: light, with a border in it."""
    pal = style.palette
    font = style.fonts.door
    w, h = alarm_badge_size(alarm, style)
    pill = QRectF(0, 0, w, h)
    colour = pal.priority(alarm.priority)
    if alarm.unacknowledged:
        painter.setPen(QPen(pal.text, 1.0))
        painter.setBrush(colour)
        text_colour = pal.text if alarm.priority is Priority.MEDIUM else QColor("white")
    else:
        painter.setPen(QPen(colour, 2.0))
        painter.setBrush(QColor("#f4f4f4"))
        text_colour = pal.text
    painter.drawRoundedRect(pill, 3, 3)
    shape = QRectF(4, (h - ALARM_SHAPE) / 2, ALARM_SHAPE, ALARM_SHAPE)
    if alarm.unacknowledged:
        painter.setPen(QPen(text_colour, 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPolygon(shape_polygon(alarm.priority, shape))
    else:
        paint_alarm_shape(painter, alarm, shape, style, filled=True)
    painter.setFont(font)
    painter.setPen(text_colour)
    painter.drawText(
        QRectF(ALARM_SHAPE + 8, 0, w - ALARM_SHAPE - 8, h),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        alarm.word,
    )


class AlarmBadgeItem(QGraphicsItem):
    """A room's alarm badge (a child of its SpaceItem), placed by the plan clear of
    the room's own text, values and doors."""

    def __init__(self, style: PlanStyle, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self._style = style
        self.alarm: PlanAlarm | None = None
        self._size = (0.0, 0.0)
        self.setZValue(6)

    def set_alarm(self, alarm: PlanAlarm | None) -> None:
        self.prepareGeometryChange()
        self.alarm = alarm
        self._size = alarm_badge_size(alarm, self._style) if alarm is not None else (0.0, 0.0)
        self.setVisible(alarm is not None)
        self.setToolTip("<br>".join(alarm.tooltip_lines()) if alarm is not None else "")
        self.update()

    @property
    def size(self) -> tuple[float, float]:
        return self._size

    def boundingRect(self) -> QRectF:
        w, h = self._size
        return QRectF(-1, -1, w + 2, h + 2)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        if self.alarm is not None:
            paint_alarm_badge(painter, self.alarm, self._style)


def _format_time(timestamp: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(timestamp))


def _format_limits(limits: Limits, quantity: Quantity) -> str:
    def fmt(v: float | None) -> str:
        return "–" if v is None else format_number(quantity, v).lstrip("+")

    if limits.empty:
        return "no limits"
    return (
        f"alert {fmt(limits.alert_low)} … {fmt(limits.alert_high)}, "
        f"action {fmt(limits.action_low)} … {fmt(limits.action_high)}"
    )


_STATE_WORDS = {
    ValueState.NO_DATA: "no data received yet",
    ValueState.NORMAL: "within limits",
    ValueState.ALERT: "ALERT: outside the alert limits",
    ValueState.ACTION: "ACTION: outside the action limits",
    ValueState.STALE: "STALE: no fresh reading — the value shown is old, not live",
    ValueState.COMM_FAIL: "COMM FAIL: the PLC is unreachable — the value shown is not live",
    ValueState.BAD: "BAD: the reading failed — the value shown is not live",
}


# ------------------------------------------------------------------ value lines


class RowStyle(StrEnum):
    ROW = "row"  # label, value and unit on one line (rooms)
    STACKED = "stacked"  # label over value, tag below (airlocks and other small spaces)


@dataclass(frozen=True, slots=True)
class RowGeometry:
    style: RowStyle
    width: float
    height: float
    label_w: float = 0.0
    value_w: float = 0.0
    unit_w: float = 0.0


MIN_TEXT_PX = 6.0
"""Below this many screen pixels a value's number is not drawn (it could not be read)."""

GUTTER = MARKER + 4  # room for the alarm marker left of a value
GAP = 6.0
ALARM_WORDS = {ValueState.ALERT: "ALERT", ValueState.ACTION: "ACTION"}


class ValueItem(QGraphicsItem):
    """One measured value of a space; ``state`` and ``text`` are what the operator sees."""

    def __init__(self, config: PointConfig, unit: str, style: PlanStyle) -> None:
        super().__init__()
        self.config = config
        self.quantity = config.hal.quantity
        self.label = value_label(self.quantity, config.hal.reference)
        self.unit = unit
        self.state = ValueState.NO_DATA
        self.text = value_text(self.quantity, None)
        self.sample: Sample | None = None
        self._style = style
        self._geometry = RowGeometry(RowStyle.ROW, 0.0, 0.0)
        # Whether the last paint drew the number (the view was zoomed in enough).
        self._detailed = True
        self._hovered = False
        self._reason = ""
        self.setAcceptHoverEvents(True)
        self._update_tooltip()

    @property
    def point_id(self) -> str:
        return self.config.id

    @property
    def is_live(self) -> bool:
        return self.state.is_live

    @property
    def tag(self) -> str:
        return self.state.tag

    def set_geometry(self, geometry: RowGeometry) -> None:
        self.prepareGeometryChange()
        self._geometry = geometry

    @property
    def geometry(self) -> RowGeometry:
        return self._geometry

    def set_sample(self, sample: Sample | None) -> bool:
        """Show a new sample; returns whether the value's state or text changed.

        Repaints only when the drawing changes: the state always, the number
        only where it is drawn (see :data:`MIN_TEXT_PX`).
        """
        self.sample = sample
        state = value_state(sample, self.config.limits)
        text = value_text(self.quantity, sample)
        reason = sample.reason if sample is not None else ""
        state_changed = state is not self.state
        changed = state_changed or text != self.text
        explained = state_changed or reason != self._reason
        self.state, self.text, self._reason = state, text, reason
        # The tooltip follows the state and its reason; the number and time in
        # it are refreshed while the mouse is on the item (and when it arrives).
        if explained or self._hovered:
            self._update_tooltip()
        if state_changed or (changed and self._detailed):
            self.update()
        return changed

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hovered = True
        self._update_tooltip()  # the time of the latest sample, before the tooltip shows
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hovered = False
        super().hoverLeaveEvent(event)

    def _update_tooltip(self) -> None:
        hal = self.config.hal
        what = self.label if hal.reference is None else f"ΔP {hal.target}→{hal.reference}"
        lines = [
            f"<b>{esc(hal.target)} — {esc(what)}</b> ({esc(hal.id)}, PLC {esc(self.config.plc)})"
        ]
        sample = self.sample
        if sample is not None:
            lines.append(f"{self.text} {self.unit} at {_format_time(sample.timestamp)}")
        lines.append(_STATE_WORDS[self.state])
        if sample is not None and sample.reason:
            lines.append(f"Reason: {esc(sample.reason)}")
        lines.append(f"Limits: {_format_limits(self.config.limits, self.quantity)}")
        self.setToolTip("<br>".join(lines))

    # -------------------------------------------------------------- painting

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._geometry.width, self._geometry.height)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        self._detailed = scale * self._fonts().value.pixelSize() >= MIN_TEXT_PX
        if not self._detailed:
            self._paint_state_only(painter)
        elif self._geometry.style is RowStyle.ROW:
            self._paint_row(painter)
        else:
            self._paint_stacked(painter)

    def _paint_state_only(self, painter: QPainter) -> None:
        """Too small to read: the alarm marker, the not-live box, or a quiet grey bar."""
        g = self._geometry
        style = self._style
        h = g.height
        if self.state in (ValueState.ALERT, ValueState.ACTION):
            paint_marker(painter, self.state, QPointF(MARKER / 2 + 1, h / 2), style)
        elif not self.state.is_live:
            painter.setPen(QPen(style.palette.muted, 1.0, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(GUTTER, h * 0.2, g.width - GUTTER, h * 0.6))
            return
        bar = QRectF(GUTTER, h * 0.35, (g.width - GUTTER) * 0.6, h * 0.3)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.palette.muted)
        painter.drawRect(bar)

    def _fonts(self) -> FontSet:
        fonts = self._style.fonts
        return fonts.room if self._geometry.style is RowStyle.ROW else fonts.compact

    def _value_font(self) -> QFont:
        fonts = self._fonts()
        if not self.state.is_live:
            return fonts.value_stale
        if self.state in (ValueState.ALERT, ValueState.ACTION):
            return fonts.value_bold
        return fonts.value

    def _value_colour(self) -> QColor:
        pal = self._style.palette
        return pal.text if self.state.is_live else pal.muted

    def _paint_row(self, painter: QPainter) -> None:
        g = self._geometry
        style = self._style
        fonts = self._fonts()
        h = g.height
        paint_marker(painter, self.state, QPointF(MARKER / 2 + 1, h / 2), style)
        x = GUTTER
        painter.setFont(fonts.label)
        painter.setPen(style.palette.label)
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRectF(x, 0, g.label_w, h), left, self.label)
        x += g.label_w + GAP
        painter.setFont(self._value_font())
        painter.setPen(self._value_colour())
        painter.drawText(QRectF(x - 8, 0, g.value_w + 8, h), right, self.text)
        x += g.value_w + 3
        painter.setFont(fonts.unit)
        painter.setPen(style.palette.label if self.state.is_live else style.palette.muted)
        painter.drawText(QRectF(x, 0, g.unit_w + 1, h), left, self.unit)
        x += g.unit_w + 4
        if self.tag:
            tw, th = tag_size(fonts.tag, self.tag)
            paint_tag(painter, self.tag, QRectF(x, (h - th) / 2, tw, th), style, fonts.tag)

    def _paint_stacked(self, painter: QPainter) -> None:
        g = self._geometry
        style = self._style
        fonts = self._fonts()
        label_h = line_height(fonts.label)
        value_h = line_height(fonts.value)
        centre = Qt.AlignmentFlag.AlignCenter
        painter.setFont(fonts.label)
        painter.setPen(style.palette.label)
        painter.drawText(QRectF(0, 0, g.width, label_h), centre, self.label)
        value_font = self._value_font()
        value_w = text_width(value_font, self.text)
        unit_w = text_width(fonts.unit, self.unit)
        total = value_w + 3 + unit_w
        x = (g.width - total) / 2
        y = label_h
        painter.setFont(value_font)
        painter.setPen(self._value_colour())
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRectF(x, y, value_w + 1, value_h), left, self.text)
        painter.setFont(fonts.unit)
        painter.setPen(style.palette.label if self.state.is_live else style.palette.muted)
        painter.drawText(QRectF(x + value_w + 3, y, unit_w + 1, value_h), left, self.unit)
        # The third line: the quality tag, or the alarm marker with its word.
        tag_y = y + value_h + 1
        if self.tag:
            tw, th = tag_size(fonts.tag, self.tag)
            rect = QRectF((g.width - tw) / 2, tag_y, tw, th)
            paint_tag(painter, self.tag, rect, style, fonts.tag)
        elif self.state in (ValueState.ALERT, ValueState.ACTION):
            word = ALARM_WORDS[self.state]
            word_w = text_width(fonts.tag, word)
            th = line_height(fonts.tag) + 1
            left_x = (g.width - (MARKER + 3 + word_w)) / 2
            centre_y = tag_y + max(th, MARKER) / 2
            paint_marker(painter, self.state, QPointF(left_x + MARKER / 2, centre_y), style)
            painter.setFont(fonts.tag)
            painter.setPen(style.palette.text)
            painter.drawText(
                QRectF(left_x + MARKER + 3, centre_y - th / 2, word_w + 1, th),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                word,
            )


# ------------------------------------------------------------------ spaces


class SpaceItem(QGraphicsItem):
    """A room drawn from its polygon, with its id, grade badge, name and value lines."""

    def __init__(self, space: Space, style: PlanStyle) -> None:
        super().__init__()
        self.space = space
        self._style = style
        self._path = QPainterPath()
        self._path.addPolygon(QPolygonF([to_scene(x, y) for x, y in space.polygon]))
        self._path.closeSubpath()
        self._bounds = self._path.boundingRect()
        self.values: list[ValueItem] = []
        self.compact = False  # laid out with the small-space fonts
        self.header_pos = QPointF()  # top-left of the id line
        self.header_centered = False
        self.name_shown = True
        self.name_pos = QPointF()
        self._hovered = False
        self._look = (ValueState.NORMAL, False)  # (worst state, all values unreliable)
        self.alarm: PlanAlarm | None = None
        self.badge = AlarmBadgeItem(style, self)
        self.badge.hide()
        self.focused = False  # the room an alarm list jumped to
        self.setAcceptHoverEvents(True)
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        space = self.space
        lines = [
            f"<b>{esc(space.id)}</b> — {esc(space.name)}",
            f"Grade {space.grade.value}, setpoint {space.setpoint_pa:+.0f} Pa",
        ]
        if self.alarm is not None:
            lines.extend(self.alarm.tooltip_lines())
        lines.append("Double-click to open the room")
        self.setToolTip("<br>".join(lines))

    def set_alarm(self, alarm: PlanAlarm | None) -> bool:
        """Show the room's listed alarms (None: none); whether it changed."""
        if alarm == self.alarm:
            return False
        self.alarm = alarm
        self.badge.set_alarm(alarm)
        self._update_tooltip()
        self.update()
        return True

    def set_focused(self, focused: bool) -> None:
        if focused != self.focused:
            self.focused = focused
            self.update()

    @property
    def space_id(self) -> str:
        return self.space.id

    @property
    def bounds(self) -> QRectF:
        return QRectF(self._bounds)

    @property
    def worst_state(self) -> ValueState:
        """ACTION over ALERT over NORMAL among live values; NORMAL if none is live."""
        states = {v.state for v in self.values}
        for state in (ValueState.ACTION, ValueState.ALERT):
            if state in states:
                return state
        return ValueState.NORMAL

    @property
    def has_live_value(self) -> bool:
        return any(v.is_live for v in self.values)

    @property
    def all_values_unreliable(self) -> bool:
        return bool(self.values) and not self.has_live_value

    def refresh_look(self) -> bool:
        """Repaint if the outline changed (worst state, all values unreliable); say whether.

        A changed number repaints only its value line, not the whole room.
        """
        look = (self.worst_state, self.all_values_unreliable)
        if look == self._look:
            return False
        self._look = look
        self.update()
        return True

    def shape(self) -> QPainterPath:
        return self._path

    def boundingRect(self) -> QRectF:
        return self._bounds.adjusted(-2, -2, 2, 2)

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hovered = True
        self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hovered = False
        self.update()

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        style = self._style
        pal = style.palette
        worst = self.worst_state
        alarm = self.alarm
        if alarm is not None:
            # An alarm outlines the room in its priority's colour; the badge gives
            # the shape and the word. Unacknowledged is thicker; HIGH unacknowledged
            # blinks (thick/thin), nothing else does.
            width = 4.0 if alarm.unacknowledged else 2.5
            if alarm.blinks and not style.blink_on:
                width = 2.0
            pen = QPen(pal.priority(alarm.priority), width)
        elif worst is ValueState.ACTION:
            pen = QPen(pal.action, 3.0)
        elif worst is ValueState.ALERT:
            pen = QPen(pal.alert, 3.0)
        else:
            pen = QPen(
                pal.text if self._hovered else pal.space_outline, 2.5 if self._hovered else 1.5
            )
            if self.all_values_unreliable:
                pen.setStyle(Qt.PenStyle.DashLine)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.setBrush(QBrush(pal.space_fill))
        painter.drawPath(self._path)
        if self.focused:
            painter.setPen(QPen(pal.text, 2.0, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self._bounds.adjusted(4, 4, -4, -4))

        fonts = style.fonts.compact if self.compact else style.fonts.room
        id_w = text_width(fonts.space_id, self.space.id)
        id_h = line_height(fonts.space_id)
        bw = badge_width(self.space.grade, style)
        painter.setFont(fonts.space_id)
        painter.setPen(pal.text)
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        x, y = self.header_pos.x(), self.header_pos.y()
        painter.drawText(QRectF(x, y, id_w + 1, id_h), left, self.space.id)
        badge = QRectF(x + id_w + (4 if self.compact else 5), y + (id_h - BADGE_H) / 2, bw, BADGE_H)
        paint_grade_badge(painter, self.space.grade, badge, style)
        if self.name_shown:
            painter.setFont(fonts.name)
            painter.setPen(pal.label)
            name_w = text_width(fonts.name, self.space.name)
            painter.drawText(
                QRectF(self.name_pos.x(), self.name_pos.y(), name_w + 1, line_height(fonts.name)),
                left,
                self.space.name,
            )


# ------------------------------------------------------------------ doors

DOOR_LENGTH = 30.0  # along the wall, scene pixels
DOOR_THICKNESS = 8.0


class DoorItem(QGraphicsItem):
    """A door symbol on its wall: closed bar, open leaf, lock, fault code, or '?'."""

    def __init__(
        self,
        door: Door,
        *,
        vertical: bool,
        swing: float,
        has_fault_point: bool,
        style: PlanStyle,
    ) -> None:
        super().__init__()
        self.door = door
        self.vertical = vertical
        self.swing = 1.0 if swing >= 0 else -1.0  # which side of the wall the leaf opens to
        self.has_fault_point = has_fault_point
        self._style = style
        self.view: DoorView = door_view(None, None, None, has_fault_point=has_fault_point)
        self.alarm: PlanAlarm | None = None
        self.setPos(to_scene(*door.at))
        self.setZValue(10)
        self._update_tooltip()

    def set_alarm(self, alarm: PlanAlarm | None) -> bool:
        """Mark the door with its alarms (held open; its airlock's both-open or fault)."""
        if alarm == self.alarm:
            return False
        self.alarm = alarm
        self._update_tooltip()
        self.update()
        return True

    def _alarm_rect(self) -> QRectF:
        half = DOOR_LENGTH / 2
        if self.vertical:
            return QRectF(-ALARM_SHAPE / 2, half + 3, ALARM_SHAPE, ALARM_SHAPE)
        return QRectF(half + 3, -ALARM_SHAPE / 2, ALARM_SHAPE, ALARM_SHAPE)

    @property
    def door_id(self) -> str:
        return self.door.id

    @property
    def state(self) -> DoorState:
        return self.view.state

    def set_samples(
        self, closed: Sample | None, locked: Sample | None, fault: Sample | None
    ) -> bool:
        view = door_view(closed, locked, fault, has_fault_point=self.has_fault_point)
        changed = view != self.view
        self.view = view
        if changed:
            self._update_tooltip()
            self.update()
        return changed

    def _update_tooltip(self) -> None:
        v = self.view
        a, b = self.door.between
        lines = [f"<b>Door {esc(self.door.id)}</b> ({esc(a)} ↔ {esc(b)})"]
        if v.is_open is None:
            lines.append("Position unknown — not shown as live")
        else:
            lines.append("Open" if v.is_open else "Closed")
        if v.is_locked is not None:
            lines.append("Locked" if v.is_locked else "Unlocked")
        if self.has_fault_point and self.door.airlock:
            if v.fault_code is None:
                lines.append(f"Interlock of {esc(self.door.airlock)}: fault status unknown")
            elif v.fault_code:
                lines.append(
                    f"<b>Interlock fault F{v.fault_code}</b> on {esc(self.door.airlock)}: "
                    f"{fault_text(v.fault_code)}"
                )
            else:
                lines.append(f"Interlock of {esc(self.door.airlock)}: no fault")
        lines.extend(esc(p) for p in v.problems)
        if self.alarm is not None:
            lines.extend(self.alarm.tooltip_lines())
        self.setToolTip("<br>".join(lines))

    # -------------------------------------------------------------- painting

    def _fault_rect(self) -> QRectF:
        label = self.view.fault_label or "F0"
        w = text_width(self._style.fonts.door, label) + 8
        h = line_height(self._style.fonts.door) + 2
        half = DOOR_LENGTH / 2
        if self.vertical:
            return QRectF(-w / 2, -half - 3 - h, w, h)
        return QRectF(-half - 3 - w, -h / 2, w, h)

    def boundingRect(self) -> QRectF:
        reach = DOOR_LENGTH / 2 + 40
        return QRectF(-reach, -reach, 2 * reach, 2 * reach)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        style = self._style
        pal = style.palette
        v = self.view
        painter.save()
        if self.vertical:
            painter.rotate(90)
        bar = QRectF(-DOOR_LENGTH / 2, -DOOR_THICKNESS / 2, DOOR_LENGTH, DOOR_THICKNESS)
        if v.is_open is None:
            painter.setPen(QPen(pal.text, 1.2, Qt.PenStyle.DashLine))
            painter.setBrush(pal.space_fill)
            painter.drawRect(bar.adjusted(0, -3, 0, 3))
        elif v.is_open:
            # The wall gap stays hollow; the leaf swings out from the hinge.
            painter.setPen(QPen(pal.door, 1.2))
            painter.setBrush(pal.space_fill)
            painter.drawRect(bar)
            hinge = QPointF(-DOOR_LENGTH / 2, 0)
            sign = self.swing if not self.vertical else -self.swing
            angle = math.radians(55) * sign
            tip = QPointF(
                hinge.x() + DOOR_LENGTH * 0.75 * math.cos(angle),
                hinge.y() + DOOR_LENGTH * 0.75 * math.sin(angle),
            )
            painter.setPen(QPen(pal.door, 3.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawLine(hinge, tip)
        else:
            painter.setPen(QPen(pal.door, 1.0))
            painter.setBrush(pal.door)
            painter.drawRect(bar)
        painter.restore()

        if v.is_open is None:
            painter.setFont(style.fonts.door)
            painter.setPen(pal.text)
            painter.drawText(QRectF(-9, -9, 18, 18), Qt.AlignmentFlag.AlignCenter, "?")
        if v.is_locked:
            self._paint_lock(painter)
        if v.fault_code:
            rect = self._fault_rect()
            painter.setPen(QPen(pal.text, 1.0))
            painter.setBrush(pal.fault)
            painter.drawRect(rect)
            painter.setFont(style.fonts.door)
            painter.setPen(QColor("white"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, v.fault_label)
        if self.alarm is not None:
            paint_alarm_shape(
                painter, self.alarm, self._alarm_rect(), style, filled=self.alarm.unacknowledged
            )

    def _paint_lock(self, painter: QPainter) -> None:
        """A padlock over the door's centre: body and shackle."""
        pal = self._style.palette
        body = QRectF(-5, -2, 10, 7)
        painter.setPen(QPen(pal.door, 1.4))
        painter.setBrush(pal.space_fill)
        shackle = QRectF(-3.2, -7, 6.4, 8)
        painter.drawArc(shackle, 0, 180 * 16)
        painter.drawLine(QPointF(-3.2, -3), QPointF(-3.2, -2))
        painter.drawLine(QPointF(3.2, -3), QPointF(3.2, -2))
        painter.drawRect(body)
        painter.setBrush(pal.door)
        painter.drawEllipse(QPointF(0, 1.5), 1.2, 1.2)
