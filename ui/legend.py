"""The key under the floor plan: every symbol the plan uses, drawn by the same code.

An operator new to the room, or a QA reviewer reading a screenshot, must not
have to guess what a diamond or a dashed box means.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from necstgen_desk.site.model import Door, Grade
from ui.plan_items import (
    BADGE_H,
    DOOR_LENGTH,
    MARKER,
    DoorItem,
    PlanStyle,
    badge_width,
    line_height,
    paint_grade_badge,
    paint_marker,
    paint_tag,
    tag_size,
    text_width,
)
from ui.point_display import DoorState, DoorView, ValueState

_DOOR_SAMPLES = (
    (DoorView(DoorState.CLOSED, False, False, 0), "closed"),
    (DoorView(DoorState.LOCKED, False, True, 0), "locked"),
    (DoorView(DoorState.OPEN, True, False, 0), "open"),
    (DoorView(DoorState.FAULT, False, False, 2), "interlock fault (code)"),
    (DoorView(DoorState.UNKNOWN, None, None, None), "door state unknown"),
)


_TAGS = ("STALE", "COMM", "BAD", "?")


class LegendItem(QGraphicsItem):
    """One line of symbol / meaning pairs under the plan."""

    HEIGHT = 24.0

    def __init__(self, style: PlanStyle) -> None:
        super().__init__()
        self._style = style
        self._doors: list[DoorItem] = []
        fonts = style.fonts
        x = 0.0
        spacing = 22.0

        def advance(symbol_w: float, text: str) -> float:
            return symbol_w + 5 + text_width(fonts.legend, text) + spacing

        self._items: list[tuple[str, str, float, float]] = []  # (kind, text, x, symbol_w)
        title = "Key:"
        self._items.append(("title", title, x, 0.0))
        x += text_width(fonts.legend_title, title) + 10
        tags_w = sum(tag_size(fonts.room.tag, t)[0] + 3 for t in _TAGS)
        for kind, text, symbol_w in (
            ("alert", "outside alert limit", MARKER),
            ("action", "outside action limit", MARKER + 2),
            ("tags", "not live: stale, PLC unreachable, bad reading, no data", tags_w),
        ):
            self._items.append((kind, text, x, symbol_w))
            x += advance(symbol_w, text)
        for view, text in _DOOR_SAMPLES:
            door = DoorItem(
                Door(id=f"key-{view.state.value}", between=("", ""), at=(0.0, 0.0)),
                vertical=False,
                swing=-1.0,
                has_fault_point=True,
                style=style,
            )
            door.view = view
            door.setParentItem(self)
            door.setToolTip("")
            symbol_w = DOOR_LENGTH + (30.0 if view.fault_code else 0.0)
            door.setPos(x + symbol_w - DOOR_LENGTH / 2, self.HEIGHT / 2 + 3)
            self._doors.append(door)
            self._items.append(("door", text, x, symbol_w))
            x += advance(symbol_w, text)
        grades_w = sum(badge_width(g, style) + 4 for g in (Grade.B, Grade.C, Grade.D, Grade.CNC))
        self._items.append(("grades", "room grade", x, grades_w))
        x += advance(grades_w, "room grade")
        self._width = x - spacing

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._width, self.HEIGHT + 6)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        style = self._style
        fonts = style.fonts
        pal = style.palette
        mid = self.HEIGHT / 2 + 3
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        for kind, text, x, symbol_w in self._items:
            if kind == "title":
                painter.setFont(fonts.legend_title)
                painter.setPen(pal.text)
                w = text_width(fonts.legend_title, text)
                painter.drawText(QRectF(x, 0, w + 1, self.HEIGHT + 6), left, text)
                continue
            if kind == "alert":
                paint_marker(painter, ValueState.ALERT, QPointF(x + MARKER / 2, mid), style)
            elif kind == "action":
                paint_marker(painter, ValueState.ACTION, QPointF(x + MARKER / 2 + 1, mid), style)
            elif kind == "tags":
                tx = x
                for tag in _TAGS:
                    tw, th = tag_size(fonts.room.tag, tag)
                    paint_tag(painter, tag, QRectF(tx, mid - th / 2, tw, th), style, fonts.room.tag)
                    tx += tw + 3
            elif kind == "grades":
                gx = x
                for grade in (Grade.B, Grade.C, Grade.D, Grade.CNC):
                    bw = badge_width(grade, style)
                    paint_grade_badge(
                        painter, grade, QRectF(gx, mid - BADGE_H / 2, bw, BADGE_H), style
                    )
                    gx += bw + 4
            painter.setFont(fonts.legend)
            painter.setPen(pal.label)
            w = text_width(fonts.legend, text)
            h = line_height(fonts.legend)
            painter.drawText(QRectF(x + symbol_w + 5, mid - h / 2, w + 1, h), left, text)
