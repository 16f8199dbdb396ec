"""The facility overview: a live floor plan drawn from the site geometry.

Level 1 of the ISA-101 display hierarchy. Rooms, doors and values are items
of one scene built once from the site; live values reach them only through
:meth:`FloorPlan.refresh`, called with the point ids that changed since the
last tick (the :class:`~ui.bridge.LiveBridge` coalesces them), so the GUI
thread's work follows what changed, not the scan rate: a room repaints its
outline only when its worst state changes, and a value its line only when
what it draws changes (numbers too small to read are not redrawn; see
:mod:`ui.plan_items`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Property, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsView, QWidget

from hal.points import Quality, Quantity
from necstgen_desk.live import PointStore
from necstgen_desk.site.model import Door, PointConfig, Site
from ui.bridge import LiveBridge
from ui.legend import LegendItem
from ui.plan_items import (
    ALARM_WORDS,
    DOOR_LENGTH,
    DOOR_THICKNESS,
    GAP,
    GUTTER,
    MARKER,
    DoorItem,
    FontSet,
    PlanAlarm,
    PlanStyle,
    RowGeometry,
    RowStyle,
    SpaceItem,
    ValueItem,
    badge_width,
    line_height,
    tag_size,
    text_width,
)
from ui.point_display import DISPLAYED, UNITS, DoorState, ValueState
from ui.room_marks import RoomMark, RoomStatusItem, door_rect

__all__ = ["DoorState", "FloorPlan", "ValueState"]

ZOOM_STEP = 1.25
MAX_ZOOM = 8.0
SCENE_MARGIN = 12.0
BLINK_MS = 600  # the outline of a room with an unacknowledged HIGH alarm
BADGE_INSET = 5.0

# Widest number each quantity shows, so a room's columns do not move as values change.
_VALUE_TEMPLATES = {
    Quantity.DIFFERENTIAL_PRESSURE: "+88.8",
    Quantity.TEMPERATURE: "88.8",
    Quantity.HUMIDITY: "88.8",
    Quantity.PARTICLES_0_5: "888k",
    Quantity.PARTICLES_5: "888k",
}


# ------------------------------------------------------------------ layout

PAD_X = 6.0
PAD_Y = 9.0  # leaves room for door symbols on the top and bottom walls
COLUMN_GAP = 18.0


@dataclass(frozen=True, slots=True)
class _Fit:
    width: float
    height: float


def _row_geometry(values: list[ValueItem], fonts: FontSet) -> RowGeometry:
    """Aligned columns for a room's value lines, wide enough for the widest value."""
    label_w = max((text_width(fonts.label, v.label) for v in values), default=0.0)
    value_w = max(
        (text_width(fonts.value_bold, _VALUE_TEMPLATES.get(v.quantity, "888.8")) for v in values),
        default=0.0,
    )
    unit_w = max((text_width(fonts.unit, v.unit) for v in values), default=0.0)
    tag_w, tag_h = tag_size(fonts.tag, "STALE")
    width = GUTTER + label_w + GAP + value_w + 3 + unit_w + 4 + tag_w
    height = max(line_height(fonts.value), tag_h) + 3
    return RowGeometry(RowStyle.ROW, width, height, label_w, value_w, unit_w)


def _layout_space(item: SpaceItem, style: PlanStyle) -> None:
    """Place a space's header, name and value lines inside its polygon's box.

    Tries, in order: one column (rooms), a header line over several columns
    (corridors: wide and low), then a compact stack with smaller fonts
    (airlocks), keeping the first that fits; the name goes to the tooltip
    when there is no room for it.
    """
    space = item.space
    inner = item.bounds.adjusted(PAD_X, PAD_Y, -PAD_X, -PAD_Y)
    values = item.values
    n = len(values)

    def fits(f: _Fit) -> bool:
        return f.width <= inner.width() + 0.5 and f.height <= inner.height() + 0.5

    fonts = style.fonts.room
    id_h = line_height(fonts.space_id)
    header_w = text_width(fonts.space_id, space.id) + 5 + badge_width(space.grade, style)
    name_w = text_width(fonts.name, space.name)
    name_h = line_height(fonts.name)
    row = _row_geometry(values, fonts)

    # A: one column.
    column = _Fit(
        max(header_w, name_w, row.width if n else 0.0), id_h + name_h + 3 + n * row.height
    )
    if fits(column):
        x = inner.center().x() - column.width / 2
        y = inner.center().y() - column.height / 2
        item.compact = False
        item.header_pos = QPointF(x, y)
        item.name_shown = True
        item.name_pos = QPointF(x, y + id_h)
        top = y + id_h + name_h + 3
        for i, v in enumerate(values):
            v.set_geometry(row)
            v.setPos(x, top + i * row.height)
        return

    # B: header line with the name, values in balanced columns below.
    max_rows = max(1, math.floor((inner.height() - id_h - 4) / row.height))
    cols = max(1, math.ceil(n / max_rows))
    rows_per_col = max(1, math.ceil(n / cols))
    header_line_w = header_w + 12 + name_w
    flow = _Fit(
        max(header_line_w, cols * row.width + (cols - 1) * COLUMN_GAP),
        id_h + 4 + rows_per_col * row.height,
    )
    if n and fits(flow):
        x = inner.center().x() - flow.width / 2
        y = inner.center().y() - flow.height / 2
        item.compact = False
        item.header_pos = QPointF(x, y)
        item.name_shown = True
        item.name_pos = QPointF(x + header_w + 12, y + (id_h - name_h) / 2)
        for i, v in enumerate(values):
            col, r = divmod(i, rows_per_col)
            v.set_geometry(row)
            v.setPos(x + col * (row.width + COLUMN_GAP), y + id_h + 4 + r * row.height)
        return

    # C: compact stack with the small-space fonts, centred.
    fonts = style.fonts.compact
    id_h = line_height(fonts.space_id)
    header_w = text_width(fonts.space_id, space.id) + 4 + badge_width(space.grade, style)
    name_w = text_width(fonts.name, space.name)
    name_h = line_height(fonts.name)
    tag_w, tag_h = tag_size(fonts.tag, "STALE")
    value_w = max(
        (text_width(fonts.value_bold, _VALUE_TEMPLATES.get(v.quantity, "888.8")) for v in values),
        default=0.0,
    )
    alarm_w = MARKER + 3 + max(text_width(fonts.tag, w) for w in ALARM_WORDS.values())
    stacked_h = line_height(fonts.label) + line_height(fonts.value) + max(tag_h, MARKER) + 2
    stacked_w = max(
        (
            max(
                text_width(fonts.label, v.label),
                value_w + 3 + text_width(fonts.unit, v.unit),
                tag_w,
                alarm_w,
            )
            for v in values
        ),
        default=0.0,
    )
    show_name = name_w <= inner.width() and (id_h + name_h + n * stacked_h <= inner.height() + 0.5)
    width = max(header_w, stacked_w, name_w if show_name else 0.0)
    height = id_h + (name_h if show_name else 0.0) + n * stacked_h
    cx = inner.center().x()
    y = inner.center().y() - height / 2
    item.compact = True
    item.header_pos = QPointF(cx - header_w / 2, y)
    item.name_shown = show_name
    item.name_pos = QPointF(cx - name_w / 2, y + id_h)
    y += id_h + (name_h if show_name else 0.0)
    geometry = RowGeometry(RowStyle.STACKED, width, stacked_h)
    for i, v in enumerate(values):
        v.set_geometry(geometry)
        v.setPos(cx - width / 2, y + i * stacked_h)


def _on_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> bool:
    (px, py), (ax, ay), (bx, by) = p, a, b
    cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
    if abs(cross) > 1e-6 * max(1.0, math.hypot(bx - ax, by - ay)):
        return False
    return min(ax, bx) - 1e-6 <= px <= max(ax, bx) + 1e-6 and (
        min(ay, by) - 1e-6 <= py <= max(ay, by) + 1e-6
    )


def door_geometry(site: Site, door: Door) -> tuple[bool, float]:
    """(wall is vertical, side the leaf opens to) for a door on the plan.

    The wall is the polygon edge of either neighbour the door sits on. The leaf
    opens away from its airlock (so it never covers the airlock's own labels),
    else into the inner space.
    """
    vertical = False
    found = False
    for space_id in door.between:
        space = site.space_by_id.get(space_id)
        if space is None:
            continue
        pts = space.polygon
        for a, b in zip(pts, pts[1:] + pts[:1], strict=True):
            if _on_segment(door.at, a, b):
                vertical = abs(b[0] - a[0]) < abs(b[1] - a[1])
                found = True
                break
        if found:
            break
    outer, inner = door.between
    candidates = [s for s in (inner, outer) if s in site.space_by_id and s != door.airlock]
    toward = candidates[0] if candidates else None
    if toward is None:
        return vertical, 1.0
    cx, cy = site.space_by_id[toward].centroid
    delta = cx - door.at[0] if vertical else cy - door.at[1]
    return vertical, 1.0 if delta >= 0 else -1.0


# ------------------------------------------------------------------ the view


def _colour_property(name: str) -> Property:
    """A QColor Qt property over one palette field, so QSS can set it (qproperty-…)."""

    def getter(self: FloorPlan) -> QColor:
        return QColor(getattr(self.plan_style.palette, name))

    def setter(self: FloorPlan, colour: QColor) -> None:
        setattr(self.plan_style.palette, name, QColor(colour))
        self._palette_changed()

    return Property(QColor, getter, setter)


class FloorPlan(QGraphicsView):
    """Pan-and-zoom view of the site with live values, doors and their states.

    Per-item state is data: ``value_item(point_id).state``,
    ``door_item(door_id).state``, ``space_item(space_id).worst_state``.
    """

    space_activated = Signal(str)
    zoom_changed = Signal(float)

    backgroundColor = _colour_property("background")
    spaceFillColor = _colour_property("space_fill")
    spaceOutlineColor = _colour_property("space_outline")
    textColor = _colour_property("text")
    labelColor = _colour_property("label")
    mutedColor = _colour_property("muted")
    doorColor = _colour_property("door")
    alertColor = _colour_property("alert")
    actionColor = _colour_property("action")
    faultColor = _colour_property("fault")
    highColor = _colour_property("high")
    mediumColor = _colour_property("medium")
    lowColor = _colour_property("low")

    def __init__(
        self,
        site: Site,
        store: PointStore,
        bridge: LiveBridge | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("floorPlan")
        self.site = site
        self.store = store
        self.plan_style = PlanStyle()
        self._auto_fit = True
        self._spaces: dict[str, SpaceItem] = {}
        self._doors: dict[str, DoorItem] = {}
        self._values_by_point: dict[str, ValueItem] = {}
        self._doors_by_point: dict[str, list[DoorItem]] = {}
        self._door_points: dict[str, tuple[str | None, str | None, str | None]] = {}
        self._room_marks: dict[str, RoomStatusItem] = {}
        self._blink = QTimer(self)
        self._blink.setInterval(BLINK_MS)
        self._blink.timeout.connect(self._blink_step)

        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self._build()
        self._scene.setSceneRect(
            self._scene.itemsBoundingRect().adjusted(
                -SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN
            )
        )
        self._scene.setBackgroundBrush(QBrush(self.plan_style.palette.background))

        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        # A wide site in a 16:9 window: keep the plan under the toolbar, spare room below.
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.fit_action = self._action("Fit to window", "zoom-fit-best", [QKeySequence("Ctrl+0")])
        self.fit_action.setToolTip("Show the whole facility (Ctrl+0)")
        self.fit_action.triggered.connect(self.fit)
        self.zoom_in_action = self._action(
            "Zoom in", "zoom-in", [QKeySequence(QKeySequence.StandardKey.ZoomIn)]
        )
        self.zoom_in_action.setToolTip("Zoom in (+, Ctrl++ or the mouse wheel)")
        self.zoom_in_action.triggered.connect(self.zoom_in)
        self.zoom_out_action = self._action(
            "Zoom out", "zoom-out", [QKeySequence(QKeySequence.StandardKey.ZoomOut)]
        )
        self.zoom_out_action.setToolTip("Zoom out (−, Ctrl+− or the mouse wheel)")
        self.zoom_out_action.triggered.connect(self.zoom_out)

        self.refresh_all()
        if bridge is not None:
            bridge.points_changed.connect(self.refresh)

    def _action(self, text: str, icon: str, keys: list[QKeySequence]) -> QAction:
        action = QAction(QIcon.fromTheme(icon), text, self)
        action.setObjectName(text.lower().replace(" ", "_"))
        action.setShortcuts(keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.addAction(action)
        return action

    # -------------------------------------------------------------- building

    def _build(self) -> None:
        site = self.site
        style = self.plan_style
        for space in site.spaces:
            item = SpaceItem(space, style)
            self._scene.addItem(item)
            self._spaces[space.id] = item
            for quantity in DISPLAYED:
                config = site.point_for(space.id, quantity)
                if config is None:
                    continue
                value = ValueItem(config, UNITS.get(quantity, config.hal.unit), style)
                value.setParentItem(item)
                item.values.append(value)
                self._values_by_point[config.id] = value
            _layout_space(item, style)

        for door in site.doors:
            closed = site.point_for(door.id, Quantity.DOOR_CLOSED)
            locked = site.point_for(door.id, Quantity.DOOR_LOCKED)
            fault: PointConfig | None = None
            if door.airlock is not None:
                fault = site.point_for(door.airlock, Quantity.INTERLOCK_FAULT)
            vertical, swing = door_geometry(site, door)
            door_item = DoorItem(
                door, vertical=vertical, swing=swing, has_fault_point=fault is not None, style=style
            )
            self._scene.addItem(door_item)
            self._doors[door.id] = door_item
            ids = tuple(p.id if p is not None else None for p in (closed, locked, fault))
            self._door_points[door.id] = (ids[0], ids[1], ids[2])
            for point_id in ids:
                if point_id is not None:
                    self._doors_by_point.setdefault(point_id, []).append(door_item)

        plan_rect = self._scene.itemsBoundingRect()
        legend = LegendItem(style)
        legend.setPos(plan_rect.left(), plan_rect.bottom() + 14)
        self._scene.addItem(legend)
        self.legend = legend

    # -------------------------------------------------------------- live values

    def refresh(self, point_ids: Iterable[str]) -> None:
        """Redraw the items that show these points from the store's latest samples."""
        store = self.store
        spaces: set[SpaceItem] = set()
        doors: set[DoorItem] = set()
        for point_id in point_ids:
            value = self._values_by_point.get(point_id)
            if value is not None and value.set_sample(store.latest(point_id)):
                parent = value.parentItem()
                if isinstance(parent, SpaceItem):
                    spaces.add(parent)
            doors.update(self._doors_by_point.get(point_id, ()))
        for space in spaces:
            space.refresh_look()
        for door in doors:
            closed, locked, fault = self._door_points[door.door_id]
            door.set_samples(
                store.latest(closed) if closed else None,
                store.latest(locked) if locked else None,
                store.latest(fault) if fault else None,
            )

    def refresh_all(self) -> None:
        self.refresh(list(self._values_by_point) + list(self._doors_by_point))

    # -------------------------------------------------------------- queries

    def space_item(self, space_id: str) -> SpaceItem:
        return self._spaces[space_id]

    def value_item(self, point_id: str) -> ValueItem:
        return self._values_by_point[point_id]

    def door_item(self, door_id: str) -> DoorItem:
        return self._doors[door_id]

    @property
    def space_items(self) -> tuple[SpaceItem, ...]:
        return tuple(self._spaces.values())

    @property
    def value_items(self) -> tuple[ValueItem, ...]:
        return tuple(self._values_by_point.values())

    @property
    def door_items(self) -> tuple[DoorItem, ...]:
        return tuple(self._doors.values())

    def spaces_without_live_values(self) -> list[str]:
        """Spaces that have values to show but show none of them live."""
        return [s.space_id for s in self._spaces.values() if s.values and not s.has_live_value]

    def live_count(self) -> tuple[int, int]:
        """(points on the plan whose latest sample is GOOD, points on the plan)."""
        ids = self._values_by_point.keys() | self._doors_by_point.keys()
        live = sum(
            1
            for point_id in ids
            if (s := self.store.latest(point_id)) is not None and s.quality is Quality.GOOD
        )
        return live, len(ids)

    # -------------------------------------------------------------- room status

    def set_room_marks(self, marks: Mapping[str, RoomMark]) -> None:
        """Show each room's status and sporicidal flag (from the records; see ui.room_marks)."""
        doors = [
            door_rect(d.pos(), vertical=d.vertical, length=DOOR_LENGTH, thickness=DOOR_THICKNESS)
            for d in self._doors.values()
        ]
        for space_id, mark in marks.items():
            space = self._spaces.get(space_id)
            if space is None:
                continue
            item = self._room_marks.get(space_id)
            if item is None:
                item = self._room_marks[space_id] = RoomStatusItem(self.plan_style, space)
            others = [
                o.bounds.adjusted(1, 1, -1, -1) for o in self._spaces.values() if o is not space
            ]
            avoid = doors + others + [v.sceneBoundingRect() for v in space.values]
            avoid += [s.badge.sceneBoundingRect() for s in self._spaces.values() if s.alarm]
            item.set_mark(
                mark, space.bounds, compact=space.compact, avoid=avoid, within=self.sceneRect()
            )

    def room_mark(self, space_id: str) -> RoomMark | None:
        item = self._room_marks.get(space_id)
        return item.mark if item is not None else None

    # -------------------------------------------------------------- alarms

    def set_alarm_marks(
        self,
        rooms: Mapping[str, PlanAlarm | None],
        doors: Mapping[str, PlanAlarm | None] | None = None,
    ) -> None:
        """Show the listed alarms of these rooms and doors (None: none any more).

        A room is outlined in its most urgent priority's colour and gets a badge
        (shape and word); a door gets the priority's shape beside it.
        """
        for space_id, alarm in rooms.items():
            space = self._spaces.get(space_id)
            if space is not None and space.set_alarm(alarm) and alarm is not None:
                self._place_badge(space)
        for door_id, door_alarm in (doors or {}).items():
            door = self._doors.get(door_id)
            if door is not None:
                door.set_alarm(door_alarm)
        blinking = any(s.alarm is not None and s.alarm.blinks for s in self._spaces.values())
        if blinking and not self._blink.isActive():
            self._blink.start()
        elif not blinking and self._blink.isActive():
            self._blink.stop()
            self.plan_style.blink_on = True

    def alarm_mark(self, space_id: str) -> PlanAlarm | None:
        return self._spaces[space_id].alarm

    def door_alarm(self, door_id: str) -> PlanAlarm | None:
        return self._doors[door_id].alarm

    def _place_badge(self, space: SpaceItem) -> None:
        """Rooms: bottom-left inside, then bottom-right, then top-right (the status mark
        prefers the right-hand corners); airlocks: just outside, left, right, below,
        above — the first spot clear of doors, values, other rooms and marks."""
        w, h = space.badge.size
        room = space.bounds
        if space.compact:
            cy = room.center().y() - h / 2
            cx = room.center().x() - w / 2
            spots = [
                QPointF(room.left() - 3 - w, cy),
                QPointF(room.right() + 3, cy),
                QPointF(cx, room.bottom() + 3),
                QPointF(cx, room.top() - 3 - h),
            ]
        else:
            spots = [
                QPointF(room.left() + BADGE_INSET, room.bottom() - BADGE_INSET - h),
                QPointF(room.right() - BADGE_INSET - w, room.bottom() - BADGE_INSET - h),
                QPointF(room.right() - BADGE_INSET - w, room.top() + BADGE_INSET),
            ]
        doors = [
            door_rect(d.pos(), vertical=d.vertical, length=DOOR_LENGTH, thickness=DOOR_THICKNESS)
            for d in self._doors.values()
        ]
        others = [o.bounds.adjusted(1, 1, -1, -1) for o in self._spaces.values() if o is not space]
        avoid = doors + others + [v.sceneBoundingRect() for v in space.values]
        avoid += [m.sceneBoundingRect() for m in self._room_marks.values() if m.mark is not None]
        avoid += [
            o.badge.sceneBoundingRect()
            for o in self._spaces.values()
            if o is not space and o.alarm is not None
        ]
        within = self.sceneRect()
        chosen = spots[0]
        for spot in spots:
            rect = QRectF(spot.x(), spot.y(), w, h)
            if not within.contains(rect):
                continue
            if not any(rect.intersects(obstacle) for obstacle in avoid):
                chosen = spot
                break
        space.badge.setPos(space.mapFromScene(chosen))

    def _blink_step(self) -> None:
        style = self.plan_style
        style.blink_on = not style.blink_on
        for space in self._spaces.values():
            if space.alarm is not None and space.alarm.blinks:
                space.update()

    def show_space(self, space_id: str) -> None:
        """Jump to a room (from the alarm list): centre it with its neighbours, mark it."""
        space = self._spaces.get(space_id)
        if space is None:
            return
        for other in self._spaces.values():
            other.set_focused(other is space)
        bounds = space.bounds
        margin = max(bounds.width(), bounds.height()) * 1.2
        self._auto_fit = False
        self.fitInView(
            bounds.adjusted(-margin, -margin, margin, margin), Qt.AspectRatioMode.KeepAspectRatio
        )
        self.zoom_changed.emit(self.zoom)

    @property
    def focused_space(self) -> str | None:
        return next((s.space_id for s in self._spaces.values() if s.focused), None)

    def space_at(self, scene_pos: QPointF) -> str | None:
        for item in self._scene.items(scene_pos):
            node: QGraphicsItem | None = item
            while node is not None:
                if isinstance(node, SpaceItem):
                    return node.space_id
                node = node.parentItem()
        return None

    # -------------------------------------------------------------- zoom and pan

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    @property
    def auto_fit(self) -> bool:
        """Whether the plan refits itself when the window is resized."""
        return self._auto_fit

    def _fit_scale(self) -> float:
        rect = self.sceneRect()
        view = self.viewport().rect()
        if rect.isEmpty() or view.isEmpty():
            return 1.0
        return min(view.width() / rect.width(), view.height() / rect.height())

    def fit(self) -> None:
        """Show the whole facility, and keep doing so when the window is resized."""
        self._auto_fit = True
        for space in self._spaces.values():
            space.set_focused(False)
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        self.zoom_changed.emit(self.zoom)

    def zoom_by(self, factor: float) -> None:
        current = self.zoom
        target = min(max(current * factor, self._fit_scale() * 0.5), MAX_ZOOM)
        if math.isclose(target, current):
            return
        self._auto_fit = False
        self.scale(target / current, target / current)
        self.zoom_changed.emit(self.zoom)

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / ZOOM_STEP)

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if delta:
            self.zoom_by(ZOOM_STEP ** (delta / 120))
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        else:
            super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        space_id = self.space_at(self.mapToScene(event.position().toPoint()))
        if space_id is not None:
            self.space_activated.emit(space_id)
        # A double-click on the empty floor means nothing; it is still ours.
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        event.accept()  # the end of a pan; nothing behind the plan wants it

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._auto_fit:
            self.fit()

    # -------------------------------------------------------------- style

    def _palette_changed(self) -> None:
        self._scene.setBackgroundBrush(QBrush(self.plan_style.palette.background))
        self._scene.update()
