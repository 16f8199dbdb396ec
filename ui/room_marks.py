"""Each room's status on the floor plan: short text and a shape (ISA-101).

Released, In operation and Cleaned are normal and stay quiet (grey text, no
box). To be cleaned and Cleaning are boxed; Maintenance is boxed and hatched;
Out of service is a filled dark box — each reads without colour. An overdue
sporicidal clean adds an amber pennant with "SPOR!" (an alert: the only colour
here, and it comes with its own shape and word).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from html import escape as esc

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from necstgen_desk.records.lifecycle import RoomStatus
from necstgen_desk.services import RoomStatusView
from ui.plan_items import PlanStyle, line_height, text_width
from ui.timefmt import local_text


class MarkStyle(StrEnum):
    QUIET = "quiet"  # grey text
    BOXED = "boxed"  # outlined box
    HATCHED = "hatched"  # outlined, hatched box
    FILLED = "filled"  # dark box, light text


_SHORT: dict[RoomStatus, tuple[str, MarkStyle]] = {
    RoomStatus.IN_OPERATION: ("IN OP", MarkStyle.QUIET),
    RoomStatus.RELEASED: ("RELEASED", MarkStyle.QUIET),
    RoomStatus.CLEANED: ("CLEANED", MarkStyle.QUIET),
    RoomStatus.TO_BE_CLEANED: ("TO CLEAN", MarkStyle.BOXED),
    RoomStatus.CLEANING: ("CLEANING", MarkStyle.BOXED),
    RoomStatus.MAINTENANCE: ("MAINT", MarkStyle.HATCHED),
    RoomStatus.OUT_OF_SERVICE: ("OUT OF SVC", MarkStyle.FILLED),
}

SPORICIDAL_FLAG = "SPOR!"


def short_status(status: RoomStatus) -> str:
    return _SHORT[status][0]


@dataclass(frozen=True, slots=True)
class RoomMark:
    """What the plan shows of a room's records: status text, its look, the sporicidal flag."""

    room_id: str
    status: RoomStatus
    text: str
    style: MarkStyle
    sporicidal_overdue: bool
    tooltip: str

    @property
    def marked(self) -> bool:
        """Whether the status is drawn to stand out (not one of the quiet normal states)."""
        return self.style is not MarkStyle.QUIET


def room_mark(view: RoomStatusView, overdue_days: int | None, overdue: bool) -> RoomMark:
    """The mark of a room from its status view and its sporicidal standing.

    ``overdue``: the room is in the service's overdue list; ``overdue_days`` is
    how late (None: no sporicidal clean was ever recorded).
    """
    text, style = _SHORT[view.status]
    lines = [f"<b>{esc(view.room_id)}: {esc(view.status.display_name)}</b>"]
    if view.never_logged:
        lines.append("No status recorded yet: shown as To be cleaned")
    elif view.since is not None:
        lines.append(f"since {esc(local_text(view.since))} by {esc(view.by or '?')}")
    if view.product or view.batch:
        lines.append(f"Product {esc(view.product or '–')}, batch {esc(view.batch or '–')}")
    if view.hold_expires_at is not None:
        lines.append(f"Clean hold expires {esc(local_text(view.hold_expires_at))}")
    if overdue:
        if overdue_days is None:
            lines.append("<b>SPOR!</b> No sporicidal clean on record")
        else:
            lines.append(f"<b>SPOR!</b> Sporicidal clean overdue by {overdue_days} day(s)")
    lines.append("Double-click to open the room view (status, values, logbook, alarms)")
    return RoomMark(view.room_id, view.status, text, style, overdue, "<br>".join(lines))


FLAG_W = 12.0
INSET = 5.0


def _place(
    room: QRectF,
    w: float,
    h: float,
    *,
    compact: bool,
    avoid: Sequence[QRectF],
    within: QRectF | None,
) -> QPointF:
    """The first spot that hits nothing in ``avoid`` and stays ``within`` the plan
    (else the first spot). Rooms: inside, top-right, bottom-right, bottom-left (the
    same corner in every room where it fits, so the eye knows where to look).
    Airlocks (compact, full of their own values): just outside, right, left,
    below or above.
    """
    if compact:
        y = room.center().y() - h / 2
        x = room.center().x() - w / 2
        spots = [
            QPointF(room.right() + 3, y),
            QPointF(room.left() - 3 - w, y),
            QPointF(x, room.bottom() + 3),
            QPointF(x, room.top() - 3 - h),
        ]
    else:
        spots = [
            QPointF(room.right() - INSET - w, room.top() + INSET),
            QPointF(room.right() - INSET - w, room.bottom() - INSET - h),
            QPointF(room.left() + INSET, room.bottom() - INSET - h),
        ]
    for spot in spots:
        rect = QRectF(spot.x(), spot.y(), w, h)
        if within is not None and not within.contains(rect):
            continue
        if not any(rect.intersects(obstacle) for obstacle in avoid):
            return spot
    return spots[0]


def door_rect(centre: QPointF, *, vertical: bool, length: float, thickness: float) -> QRectF:
    """The area a door symbol covers on the plan (with a small margin)."""
    along, across = length / 2 + 3, thickness / 2 + 4
    if vertical:
        return QRectF(centre.x() - across, centre.y() - along, 2 * across, 2 * along)
    return QRectF(centre.x() - along, centre.y() - across, 2 * along, 2 * across)


class RoomStatusItem(QGraphicsItem):
    """The status mark of a space, a child of its SpaceItem.

    In a room it sits in the bottom-right corner, clear of the doors (which
    sit mid-wall) and of the value column; an airlock (a compact space, full
    of its values) gets it just outside its right wall, on two lines.
    """

    PAD = 3.0
    GAP = 6.0

    def __init__(self, style: PlanStyle, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self._style = style
        self.mark: RoomMark | None = None
        self._box_w = 0.0
        self._line_h = 0.0
        self._two_lines = False
        self._size = (0.0, 0.0)
        self.setZValue(5)

    def _flag_width(self) -> float:
        return FLAG_W + 3 + text_width(self._style.fonts.door, SPORICIDAL_FLAG)

    def set_mark(
        self,
        mark: RoomMark | None,
        room_bounds: QRectF,
        *,
        compact: bool,
        avoid: Sequence[QRectF] = (),
        within: QRectF | None = None,
    ) -> bool:
        """Show ``mark`` for a room with ``room_bounds``, clear of the ``avoid``
        rectangles (doors, values, other rooms) and inside ``within`` (the plan)
        where possible; whether it changed."""
        if mark == self.mark:
            return False
        self.prepareGeometryChange()
        self.mark = mark
        self.setToolTip(mark.tooltip if mark is not None else "")
        font = self._style.fonts.door
        self._line_h = line_height(font) + 2 * self.PAD
        self._box_w = text_width(font, mark.text) + 2 * self.PAD + 2 if mark is not None else 0.0
        flag = mark is not None and mark.sporicidal_overdue
        one_line_w = self._box_w + (self.GAP + self._flag_width() if flag else 0.0)
        inner_w = room_bounds.width() - 8
        self._two_lines = flag and (compact or one_line_w > inner_w)
        if self._two_lines:
            w = max(self._box_w, self._flag_width())
            h = 2 * self._line_h + 2
        else:
            w, h = one_line_w, self._line_h
        self._size = (w, h)
        self.setPos(_place(room_bounds, w, h, compact=compact, avoid=avoid, within=within))
        self.update()
        return True

    def boundingRect(self) -> QRectF:
        w, h = self._size
        return QRectF(-1, -1, w + 2, h + 2)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        mark = self.mark
        if mark is None:
            return
        pal = self._style.palette
        font = self._style.fonts.door
        h = self._line_h
        box = QRectF(0, 0, self._box_w, h)
        text_colour = pal.label
        if mark.style is MarkStyle.BOXED:
            painter.setPen(QPen(pal.text, 1.5))
            painter.setBrush(pal.space_fill)
            painter.drawRect(box)
            text_colour = pal.text
        elif mark.style is MarkStyle.HATCHED:
            painter.setPen(QPen(pal.text, 1.5))
            painter.setBrush(QBrush(pal.muted, Qt.BrushStyle.BDiagPattern))
            painter.drawRect(box)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pal.space_fill)
            painter.drawRect(box.adjusted(3, 3, -3, -3))
            text_colour = pal.text
        elif mark.style is MarkStyle.FILLED:
            painter.setPen(QPen(pal.text, 1.0))
            painter.setBrush(pal.door)
            painter.drawRect(box)
            text_colour = QColor("white")
        painter.setFont(font)
        painter.setPen(text_colour)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, mark.text)
        if mark.sporicidal_overdue:
            if self._two_lines:
                self._paint_flag(painter, 0.0, h + 2, h)
            else:
                self._paint_flag(painter, box.right() + self.GAP, 0.0, h)

    def _paint_flag(self, painter: QPainter, x: float, y: float, h: float) -> None:
        """An amber pennant on a pole, then the word SPOR!."""
        pal = self._style.palette
        font = self._style.fonts.door
        top, bottom = y + 1.0, y + h - 1.0
        painter.setPen(QPen(pal.text, 1.4))
        painter.drawLine(QPointF(x + 1, top), QPointF(x + 1, bottom))
        pennant = QPolygonF(
            [
                QPointF(x + 1, top),
                QPointF(x + FLAG_W, top + (bottom - top) * 0.3),
                QPointF(x + 1, top + (bottom - top) * 0.6),
            ]
        )
        painter.setPen(QPen(pal.text, 1.0))
        painter.setBrush(pal.alert)
        painter.drawPolygon(pennant)
        painter.setPen(pal.text)
        painter.setFont(font)
        painter.drawText(
            QRectF(x + FLAG_W + 3, y, text_width(font, SPORICIDAL_FLAG) + 1, h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            SPORICIDAL_FLAG,
        )
