"""Trends (display level 3): any point over any period, with its limits, its quality
and what happened around it.

:class:`TrendView` draws up to :data:`MAX_PENS` pens on one time axis, in local
time with its UTC offset. Pens that share a unit and limits share a strip;
behind each strip lie the action, alert and normal bands of its limits (for
particle counts the limits of the room's occupancy at that time: in operation
and during the clean-up period, or at rest). Below the strips one lane carries
the markers on the same axis: alarms (raised to cleared, with the priority's
shape), door openings (from the doors' recorded closed-state points), room-status
changes and cleanings (from the GMP records).

Data: a range change (zoom, pan, the follow tick) restarts a short debounce;
then one call on the records worker (:class:`~ui.worker.ServiceWorker`) asks
:meth:`HistorianQuery.series` for the visible range plus a margin either side,
at about one entry per pixel, and a second call reads the markers. A newer
request cancels the older one (a queued call never runs; a running one is
ignored), so a zoom from an hour to a minute rescales at once what is drawn and
sharpens when the minute's samples arrive.

Quality (DESIGN.md §1: never a stale value shown as live):

- no GOOD value at all (COMM_FAIL, nothing recorded) → the line breaks, the
  stretch is hatched and labelled ``COMM`` / ``NO DATA``;
- STALE → the line breaks, the last good value is carried on as a dashed line
  (held, not measured), the stretch is dotted and labelled ``STALE``;
- BAD → the line breaks, the stretch is cross-hatched and labelled ``BAD``;
- a bucket holding both GOOD and STALE/BAD samples keeps its line and gets a
  mark (○ stale, ✕ bad).

Peak-preserving: a series entry is a bucket with its minimum and maximum, drawn
as a vertical min–max stroke behind the mean line, so a one-second spike shows
at every zoom.

Follow mode shows the last ``span`` up to now and reads again about once per
new pixel (every :data:`FOLLOW_MS` for short spans, up to a minute for a week);
dragging or zooming with the mouse switches to history mode
(the range stays where the operator put it) until Follow is pressed again.

:class:`TrendWindow` wraps the view with a point picker, the span and mode
buttons, CSV and PNG export, and trend sets saved per user
(:class:`TrendSets`, in the user's QSettings).
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QCloseEvent,
    QColor,
    QFont,
    QIcon,
    QPainter,
    QPen,
    QPixmap,
    QShowEvent,
    QTransform,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGraphicsObject,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyleOptionGraphicsItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hal.points import Quality, Quantity
from necstgen_desk.alarms.journal import AlarmJournal
from necstgen_desk.alarms.model import AlarmEvent
from necstgen_desk.historian import Gap, HistorianQuery, Series
from necstgen_desk.historian.model import QUALITY_CODE, quality_of
from necstgen_desk.records.lifecycle import RoomStatus
from necstgen_desk.services import Records
from necstgen_desk.site.model import Limits, PointConfig, Priority, Site
from necstgen_desk.storage.models import AlarmJournalEntry
from ui.alarm_look import PRIORITY_COLOURS, PRIORITY_SHAPES, priority_text
from ui.forms import MessageLabel, ask_save_path
from ui.point_display import DISPLAYED, UNITS, value_label
from ui.room_marks import short_status
from ui.timefmt import local_text
from ui.worker import ServiceWorker, TaskSet

__all__ = [
    "MAX_PENS",
    "SPANS",
    "Marker",
    "MarkerData",
    "MarkerKind",
    "OccupancySpan",
    "TrendSet",
    "TrendSets",
    "TrendSources",
    "TrendView",
    "TrendWindow",
    "WindowRequest",
    "alarm_markers",
    "cleaning_markers",
    "door_markers",
    "line_data",
    "load_markers",
    "load_series",
    "new_plot_item",
    "point_title",
    "related_doors",
    "release_plot_item",
    "shown_gaps",
    "status_markers",
    "trendable_points",
    "write_trend_csv",
]

log = logging.getLogger(__name__)

MAX_PENS = 8
FOLLOW_MS = 2000
FOLLOW_MAX_MS = 60_000
DEBOUNCE_MS = 80
#: Data is read this fraction of the visible span beyond each side, so a pan shows data at once.
MARGIN = 0.25
MIN_SPAN_S = 10.0
#: A stretch with no record shorter than this is scan jitter, not a gap (two scan periods).
MIN_GAP_S = 2.0
MAX_SPAN_S = 400 * 86_400.0
#: Door openings are read from raw samples: only for spans up to this long.
DOOR_MARKERS_MAX_SPAN_S = 86_400.0
#: How far before a window a door's state is looked up (a door records at least once a minute).
DOOR_LOOKBACK_S = 120.0
#: How far before a window a cleaning may have started and still be shown (it may last into it).
CLEANING_LOOKBACK = timedelta(hours=12)
MAX_LABELS = 60  # text labels per marker row; beyond that only the shapes
MAX_ALARM_LINES = 200

#: The spans offered, (seconds, label).
SPANS: tuple[tuple[float, str], ...] = (
    (60.0, "1 min"),
    (600.0, "10 min"),
    (3600.0, "1 h"),
    (8 * 3600.0, "8 h"),
    (86_400.0, "24 h"),
    (7 * 86_400.0, "7 days"),
)
DEFAULT_SPAN_S = 3600.0

# ISA-101: quiet greys; pens in muted hues that are not the alarm colours.
PEN_COLOURS = (
    "#23272b",
    "#2e6f73",
    "#6b4f8a",
    "#8a5a2b",
    "#4f6b2e",
    "#9a3f75",
    "#2f4f8f",
    "#5f6b73",
)
PLOT_BACKGROUND = "#fbfbfb"
AXIS_COLOUR = "#4a4e52"
TEXT_COLOUR = "#1b1d1f"
# The bands are faint (the limit lines carry the meaning): normal a quiet grey,
# the alert and action zones barely tinted.
NORMAL_BAND = "#e8e9ea"
ALERT_BAND = "#f6f2e3"
ACTION_BAND = "#f7ebeb"
ALERT_LINE = "#b59a45"
ACTION_LINE = "#a8474b"
DOOR_COLOUR = "#4a4e52"
STATUS_COLOUR = "#33373b"
CLEANING_COLOUR = "#2e6f73"
GAP_COLOUR = "#7d8185"

_ROWS: dict[str, int] = {"alarm": 3, "door": 2, "status": 1, "cleaning": 0}
_ROW_NAMES = ((3, "Alarms"), (2, "Doors"), (1, "Status"), (0, "Cleaning"))
_SYMBOLS = {Priority.HIGH: "t1", Priority.MEDIUM: "d", Priority.LOW: "t"}
_GOOD = QUALITY_CODE[Quality.GOOD]
_STALE = QUALITY_CODE[Quality.STALE]
_BAD = QUALITY_CODE[Quality.BAD]

type FloatArray = npt.NDArray[np.float64]


def _font(points: float, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setFamilies(["Segoe UI", "DejaVu Sans", "Noto Sans", "Liberation Sans", "Arial"])
    font.setPointSizeF(points)
    font.setBold(bold)
    return font


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _local(t: float) -> str:
    return local_text(_utc(t))


def offset_text(t: float) -> str:
    """The local zone's offset at ``t``: ``UTC+01:00``."""
    offset = _utc(t).astimezone().utcoffset() or timedelta(0)
    minutes = round(offset.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def span_text(seconds: float) -> str:
    """``1 h``, ``10 min``, ``45 s``, ``2.5 days``."""
    for value, label in SPANS:
        if math.isclose(seconds, value, rel_tol=1e-6):
            return label
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


# ------------------------------------------------------------------ what can be trended


def trendable_points(site: Site) -> tuple[PointConfig, ...]:
    """The analog points a trend can show (measurements with a unit), in site order."""
    return tuple(p for p in site.points if p.hal.quantity in DISPLAYED)


def point_title(site: Site, point_id: str) -> str:
    """``B-04 ΔP→PAL-04``: the room and what the point measures."""
    config = site.point_by_id.get(point_id)
    if config is None:
        return point_id
    hal = config.hal
    return f"{hal.target} {value_label(hal.quantity, hal.reference)}"


def point_unit(site: Site, point_id: str) -> str:
    config = site.point_by_id.get(point_id)
    if config is None:
        return ""
    return config.hal.unit or UNITS.get(config.hal.quantity, "")


def related_doors(site: Site, point_id: str) -> tuple[str, ...]:
    """The doors whose openings move this point: every door of its room and, for a
    differential, the doors that hold its alarms off (an airlock's outer door)."""
    config = site.point_by_id.get(point_id)
    if config is None:
        return ()
    target = config.hal.target
    found: list[str] = []
    if target in site.space_by_id:
        found += [d.id for d in site.doors if target in d.between]
        if config.hal.quantity is Quantity.DIFFERENTIAL_PRESSURE:
            reference = config.hal.reference or site.ambient
            found += [d.id for d in site.doors if set(d.between) == {target, reference}]
            found += list(config.alarm.holdoff_doors)
    elif target in site.door_by_id:
        found.append(target)
    elif target in site.airlock_by_id:
        airlock = site.airlock_by_id[target]
        found += [airlock.outer_door, airlock.inner_door]
    doors: list[str] = []
    for door in found:
        if door not in doors and site.point_for(door, Quantity.DOOR_CLOSED) is not None:
            doors.append(door)
    return tuple(doors)


def _rooms_of(site: Site, point_ids: Iterable[str]) -> tuple[str, ...]:
    rooms: list[str] = []
    for point_id in point_ids:
        config = site.point_by_id.get(point_id)
        target = config.hal.target if config is not None else ""
        if target in site.space_by_id and target not in rooms:
            rooms.append(target)
    return tuple(rooms)


def _alarm_sources(site: Site, point_ids: Iterable[str]) -> tuple[str, ...]:
    """Whose alarms a trend of these points shows: the points, their doors and
    airlocks, and their rooms (the clean-up alarm)."""
    sources: list[str] = []

    def add(source: str) -> None:
        if source not in sources:
            sources.append(source)

    for point_id in point_ids:
        add(point_id)
        for door in related_doors(site, point_id):
            add(door)
            airlock = site.door_by_id[door].airlock
            if airlock is not None:
                add(airlock)
    for room in _rooms_of(site, point_ids):
        add(room)
    return tuple(sources)


# ------------------------------------------------------------------ what a load returns


class MarkerKind(StrEnum):
    ALARM = "alarm"
    DOOR = "door"
    STATUS = "status"
    CLEANING = "cleaning"


@dataclass(frozen=True, slots=True)
class Marker:
    """Something that happened on the trend's time axis.

    ``at`` and ``until`` are UTC epoch seconds; ``until`` is None for a moment
    (a status change) or for something still going at the end of the window.
    """

    kind: MarkerKind
    at: float
    until: float | None
    label: str
    detail: str
    source: str
    priority: Priority | None = None


@dataclass(frozen=True, slots=True)
class OccupancySpan:
    """Which particle limits applied to a room from ``start`` to ``end``."""

    start: float
    end: float
    in_operation: bool


@dataclass(frozen=True, slots=True)
class MarkerData:
    markers: tuple[Marker, ...] = ()
    occupancy: Mapping[str, tuple[OccupancySpan, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WindowRequest:
    """One read: these points over ``[start, end)`` at about ``max_points`` entries."""

    points: tuple[str, ...]
    start: float
    end: float
    max_points: int


@dataclass(frozen=True, slots=True)
class TrendSources:
    """Where a trend reads from. Every read runs on ``worker``; ``journal`` and
    ``records`` are optional (no alarm, status or cleaning markers without them)."""

    site: Site
    worker: ServiceWorker
    historian: HistorianQuery
    journal: AlarmJournal | None = None
    records: Records | None = None


# ------------------------------------------------------------------ loading (worker thread)


def load_series(historian: HistorianQuery, request: WindowRequest) -> dict[str, Series]:
    """Runs on the worker: every pen's series over the request."""
    return {
        point_id: historian.series(
            point_id, request.start, request.end, max_points=request.max_points
        )
        for point_id in request.points
    }


def alarm_markers(
    journal: AlarmJournal, site: Site, point_ids: Sequence[str], start: float, end: float
) -> list[Marker]:
    """Alarms of the points, their doors, airlocks and rooms raised or cleared in
    the window, each from its raising to its clearing."""
    entries = [
        entry
        for source in _alarm_sources(site, point_ids)
        for entry in journal.history(source=source, since=_utc(start), until=_utc(end), limit=1000)
    ]
    entries.sort(key=lambda e: (e.seq, e.id))
    raised: dict[str, AlarmJournalEntry] = {}
    markers: list[Marker] = []

    def marker(first: AlarmJournalEntry, at: float, until: float | None) -> Marker:
        words = priority_text(first.priority)
        lines = [f"{words} {first.alarm_id}", first.message]
        lines.append(f"raised {_local(at)}" if at >= start else "raised before this window")
        lines.append(
            f"cleared {_local(until)}" if until is not None else "not cleared in this window"
        )
        return Marker(
            MarkerKind.ALARM,
            max(at, start),
            until,
            f"{PRIORITY_SHAPES[first.priority]} {first.alarm_id}",
            "\n".join(lines),
            first.source,
            first.priority,
        )

    for entry in entries:
        if entry.event is AlarmEvent.CONDITION_ACTIVE:
            if entry.alarm_id not in raised:
                raised[entry.alarm_id] = entry
        elif entry.event is AlarmEvent.CONDITION_CLEARED:
            first = raised.pop(entry.alarm_id, None)
            cleared = entry.at.timestamp()
            if first is not None:
                markers.append(marker(first, first.at.timestamp(), cleared))
            else:  # raised before the window
                markers.append(marker(entry, start - 1.0, cleared))
    for first in raised.values():
        markers.append(marker(first, first.at.timestamp(), None))
    return markers


def door_markers(
    historian: HistorianQuery, site: Site, point_ids: Sequence[str], start: float, end: float
) -> list[Marker]:
    """Door openings from the doors' recorded closed-state samples: open from a
    GOOD "not closed" to the next sample that is not (closed, or unknown)."""
    doors: list[str] = []
    for point_id in point_ids:
        doors += [d for d in related_doors(site, point_id) if d not in doors]
    markers: list[Marker] = []
    for door in doors:
        config = site.point_for(door, Quantity.DOOR_CLOSED)
        if config is None:
            continue
        opened: float | None = None
        for sample in historian.raw(config.id, start - DOOR_LOOKBACK_S, end):
            is_open = (
                sample.quality is Quality.GOOD
                and sample.value is not None
                and not bool(sample.value)
            )
            if is_open and opened is None:
                opened = sample.t
            elif not is_open and opened is not None:
                if sample.t >= start:
                    markers.append(_door_marker(door, opened, sample.t))
                opened = None
        if opened is not None:
            markers.append(_door_marker(door, opened, None))
    return markers


def _door_marker(door: str, opened: float, closed: float | None) -> Marker:
    if closed is None:
        detail = f"Door {door} open since {_local(opened)}"
    else:
        detail = f"Door {door} open {_local(opened)} to {_local(closed)} ({closed - opened:.0f} s)"
    return Marker(MarkerKind.DOOR, opened, closed, f"{door} open", detail, door)


def status_markers(
    records: Records,
    rooms: Sequence[str],
    start: float,
    end: float,
    cleanup_s: float,
) -> tuple[list[Marker], dict[str, tuple[OccupancySpan, ...]]]:
    """Room-status changes in the window, and each room's occupancy over time
    (in operation until ``cleanup_s`` after leaving operation; at rest otherwise)."""
    markers: list[Marker] = []
    occupancy: dict[str, tuple[OccupancySpan, ...]] = {}
    for room in rooms:
        views = [v for v in reversed(records.rooms.history(room, limit=500)) if v.since]
        spans: list[OccupancySpan] = []
        previous: RoomStatus | None = None
        cursor = -math.inf
        op_until = -math.inf  # in operation (or cleaning up) until here
        for view in views:
            assert view.since is not None
            t = view.since.timestamp()
            if start <= t < end:
                lines = [f"{room}: {view.status.display_name} from {_local(t)} by {view.by or '?'}"]
                if view.product or view.batch:
                    lines.append(f"Product {view.product or '–'}, batch {view.batch or '–'}")
                if view.reason:
                    lines.append(f"Reason: {view.reason}")
                markers.append(
                    Marker(
                        MarkerKind.STATUS,
                        t,
                        None,
                        f"{room} {short_status(view.status)}",
                        "\n".join(lines),
                        room,
                    )
                )
            if previous is RoomStatus.IN_OPERATION and view.status is not RoomStatus.IN_OPERATION:
                op_until = t + cleanup_s
            _close_span(spans, cursor, t, op_until, previous is RoomStatus.IN_OPERATION)
            cursor = t
            previous = view.status
        _close_span(spans, cursor, math.inf, op_until, previous is RoomStatus.IN_OPERATION)
        occupancy[room] = tuple(spans)
    return markers, occupancy


def _close_span(
    spans: list[OccupancySpan], a: float, b: float, op_until: float, in_operation: bool
) -> None:
    """Add ``[a, b)``: in operation throughout, or until ``op_until`` (clean-up), then at rest."""
    if b <= a:
        return
    if in_operation:
        _add_span(spans, a, b, True)
        return
    split = min(max(op_until, a), b)
    _add_span(spans, a, split, True)
    _add_span(spans, split, b, False)


def _add_span(spans: list[OccupancySpan], a: float, b: float, in_operation: bool) -> None:
    if b <= a:
        return
    if spans and spans[-1].in_operation == in_operation and spans[-1].end == a:
        spans[-1] = OccupancySpan(spans[-1].start, b, in_operation)
    else:
        spans.append(OccupancySpan(a, b, in_operation))


def cleaning_markers(
    records: Records, rooms: Sequence[str], start: float, end: float
) -> list[Marker]:
    """Cleanings (current versions) that overlap the window, start to end."""
    markers: list[Marker] = []
    for room in rooms:
        views = records.cleaning.list(
            room_id=room, since=_utc(start) - CLEANING_LOOKBACK, until=_utc(end)
        )
        for view in views:
            began = view.started_at.timestamp()
            ended = view.ended_at.timestamp() if view.ended_at is not None else None
            if (ended if ended is not None else began) < start:
                continue
            kind = view.cleaning_type.display_name
            verified = (
                f"verified by {view.verified_by} {local_text(view.verified_at)}"
                if view.verified_by
                else "not verified yet"
            )
            detail = "\n".join(
                [
                    f"Cleaning #{view.id} of {room}: {kind}",
                    f"{_local(began)} to {local_text(view.ended_at) or '…'}",
                    f"Agent {view.agent}, lot {view.agent_lot}; contact "
                    f"{view.achieved_contact_min:g} of {view.required_contact_min:g} min",
                    f"Performed by {view.performed_by}; {verified}",
                ]
            )
            markers.append(
                Marker(
                    MarkerKind.CLEANING,
                    began,
                    ended,
                    f"{room} {kind} cleaning",
                    detail,
                    room,
                )
            )
    return markers


def load_markers(sources: TrendSources, request: WindowRequest) -> MarkerData:
    """Runs on the worker: every marker of the request's window, and what could
    not be read (each source on its own, so one failing hides only its markers)."""
    site = sources.site
    start, end = request.start, request.end
    markers: list[Marker] = []
    notes: list[str] = []
    occupancy: dict[str, tuple[OccupancySpan, ...]] = {}
    rooms = _rooms_of(site, request.points)

    def attempt(what: str, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as error:
            log.warning("trend markers: %s not read: %s", what, error)
            notes.append(f"{what} not shown: {error}")

    journal = sources.journal
    if journal is not None:
        attempt(
            "alarms",
            lambda: markers.extend(alarm_markers(journal, site, request.points, start, end)),
        )
    if end - start <= DOOR_MARKERS_MAX_SPAN_S:
        attempt(
            "door openings",
            lambda: markers.extend(
                door_markers(sources.historian, site, request.points, start, end)
            ),
        )
    else:
        notes.append(
            f"door openings are shown for spans up to {span_text(DOOR_MARKERS_MAX_SPAN_S)}"
        )
    records = sources.records
    if records is not None and rooms:
        cleanup_s = site.alarms.cleanup_minutes * 60.0

        def statuses() -> None:
            found, spans = status_markers(records, rooms, start, end, cleanup_s)
            markers.extend(found)
            occupancy.update(spans)

        attempt("room-status changes", statuses)
        attempt("cleanings", lambda: markers.extend(cleaning_markers(records, rooms, start, end)))
    markers.sort(key=lambda m: (m.at, m.kind.value))
    return MarkerData(tuple(markers), occupancy, tuple(notes))


# ------------------------------------------------------------------ CSV (worker thread)

CSV_COLUMNS = (
    "point",
    "description",
    "unit",
    "time_utc",
    "time_local",
    "tier",
    "bucket_s",
    "minimum",
    "maximum",
    "mean",
    "quality",
    "samples",
)


@dataclass(frozen=True, slots=True)
class CsvPen:
    point_id: str
    description: str
    unit: str
    series: Series


def _number(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6g}"


def write_trend_csv(path: Path, pens: Sequence[CsvPen], start: float, end: float) -> int:
    """Write the pens' entries in ``[start, end]`` (UTF-8 CSV with a header),
    oldest first per pen; returns the number of data rows."""
    rows = 0
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for pen in pens:
            series = pen.series
            for i, t in enumerate(series.times):
                if t < start or t > end:
                    continue
                quality = quality_of(series.worst[i])
                local = _utc(t).astimezone()
                writer.writerow(
                    (
                        pen.point_id,
                        pen.description,
                        pen.unit,
                        _utc(t).isoformat(timespec="microseconds"),
                        local.isoformat(timespec="milliseconds"),
                        series.tier.value,
                        f"{series.bucket_s:g}",
                        _number(series.minimum[i]),
                        _number(series.maximum[i]),
                        _number(series.mean[i]),
                        quality.name if quality is not None else "NO_DATA",
                        series.count[i],
                    )
                )
                rows += 1
    tmp.replace(path)
    return rows


# ------------------------------------------------------------------ graphics items


class _ViewItem(QGraphicsObject):
    """An item as large as its view box, painting in device pixels (hatches,
    labels and 1-px lines stay crisp at any zoom)."""

    def __init__(self, view_box: Any) -> None:
        super().__init__()
        self._vb = view_box
        view_box.sigRangeChanged.connect(self._view_moved)
        view_box.sigResized.connect(self._view_moved)

    def _view_moved(self, *_args: object) -> None:
        self.prepareGeometryChange()
        self.update()

    def boundingRect(self) -> QRectF:
        rect = self._vb.viewRect()
        return QRectF(rect) if rect is not None else QRectF()

    def changed(self) -> None:
        self.prepareGeometryChange()
        self.update()

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        view = self._vb.viewRect()
        if view is None or not self._has_content():
            return
        transform = painter.transform()
        painter.save()
        painter.resetTransform()
        self._paint_pixels(painter, view, transform)
        painter.restore()

    def _has_content(self) -> bool:
        """Whether there is anything to paint (nothing is painted otherwise)."""
        raise NotImplementedError

    def _paint_pixels(self, painter: QPainter, view: QRectF, transform: QTransform) -> None:
        """Paint in device pixels: ``painter`` has no transform, ``transform`` maps
        view coordinates (``view`` is the visible part) to them."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _BandSegment:
    start: float
    end: float
    limits: Limits


def _zones(limits: Limits, low: float, high: float) -> list[tuple[float, float, str]]:
    """(from, to, colour) of the action, alert and normal zones between ``low`` and ``high``."""
    below = (
        ACTION_BAND
        if limits.action_low is not None
        else ALERT_BAND
        if limits.alert_low is not None
        else NORMAL_BAND
    )
    edges: list[tuple[float, str]] = []  # (value, colour of the zone above it)
    if limits.action_low is not None:
        edges.append(
            (limits.action_low, ALERT_BAND if limits.alert_low is not None else NORMAL_BAND)
        )
    if limits.alert_low is not None:
        edges.append((limits.alert_low, NORMAL_BAND))
    if limits.alert_high is not None:
        edges.append((limits.alert_high, ALERT_BAND))
    if limits.action_high is not None:
        edges.append((limits.action_high, ACTION_BAND))
    edges.sort(key=lambda e: e[0])
    zones: list[tuple[float, float, str]] = []
    bottom, colour = low, below
    for value, above in edges:
        zones.append((bottom, min(value, high), colour))
        bottom, colour = max(bottom, value), above
    zones.append((bottom, high, colour))
    return [(a, b, c) for a, b, c in zones if b > a]


class BandsItem(_ViewItem):
    """The limit bands behind a strip: per time segment, the zones of its limits
    and a thin line at each limit (solid: action, dashed: alert)."""

    def __init__(self, view_box: Any) -> None:
        super().__init__(view_box)
        self.segments: tuple[_BandSegment, ...] = ()
        self.setZValue(-20)

    def set_segments(self, segments: Sequence[_BandSegment]) -> None:
        self.segments = tuple(segments)
        self.changed()

    def _has_content(self) -> bool:
        return bool(self.segments)

    def _paint_pixels(self, painter: QPainter, view: QRectF, transform: QTransform) -> None:
        y0, y1 = view.top(), view.bottom()
        low, high = min(y0, y1), max(y0, y1)
        for segment in self.segments:
            a = max(segment.start, view.left())
            b = min(segment.end, view.right())
            if b <= a:
                continue
            for z0, z1, colour in _zones(segment.limits, low, high):
                rect = transform.mapRect(QRectF(a, z0, b - a, z1 - z0))
                painter.fillRect(rect, QColor(colour))
            for value, colour, style in _limit_lines(segment.limits):
                if not low <= value <= high:
                    continue
                left = transform.map(QPointF(a, value))
                right = transform.map(QPointF(b, value))
                painter.setPen(QPen(QColor(colour), 1.0, style))
                y = round(left.y())
                painter.drawLine(round(left.x()), y, round(right.x()), y)


def _limit_lines(limits: Limits) -> list[tuple[float, str, Qt.PenStyle]]:
    lines: list[tuple[float, str, Qt.PenStyle]] = []
    for value in (limits.action_low, limits.action_high):
        if value is not None:
            lines.append((value, ACTION_LINE, Qt.PenStyle.SolidLine))
    for value in (limits.alert_low, limits.alert_high):
        if value is not None:
            lines.append((value, ALERT_LINE, Qt.PenStyle.DashLine))
    return lines


_GAP_LOOK: dict[Quality | None, tuple[str, Qt.BrushStyle]] = {
    None: ("NO DATA", Qt.BrushStyle.BDiagPattern),
    Quality.COMM_FAIL: ("COMM", Qt.BrushStyle.BDiagPattern),
    Quality.STALE: ("STALE", Qt.BrushStyle.Dense6Pattern),
    Quality.BAD: ("BAD", Qt.BrushStyle.DiagCrossPattern),
}


class GapsItem(_ViewItem):
    """Stretches without a GOOD value: hatched by their quality and labelled."""

    def __init__(self, view_box: Any) -> None:
        super().__init__(view_box)
        self.gaps: tuple[tuple[float, float, Quality | None], ...] = ()
        self.setZValue(-10)
        self._font = _font(7.5, bold=True)

    def set_gaps(self, gaps: Sequence[tuple[float, float, Quality | None]]) -> None:
        self.gaps = tuple(gaps)
        self.changed()

    def _has_content(self) -> bool:
        return bool(self.gaps)

    def _paint_pixels(self, painter: QPainter, view: QRectF, transform: QTransform) -> None:
        painter.setFont(self._font)
        colour = QColor(GAP_COLOUR)
        for start, end, quality in self.gaps:
            a, b = max(start, view.left()), min(end, view.right())
            if b <= a:
                continue
            rect = transform.mapRect(QRectF(a, view.top(), b - a, view.height()))
            if rect.width() < 1:
                rect.setWidth(1)
            word, pattern = _GAP_LOOK.get(quality, _GAP_LOOK[None])
            painter.fillRect(rect, QColor(244, 244, 244, 200))
            painter.fillRect(rect, QBrush(colour, pattern))
            painter.setPen(QPen(colour, 1.0))
            painter.drawLine(rect.topLeft(), rect.bottomLeft())
            if rect.width() >= 6:  # the word on a small card at the top, readable however narrow
                metrics = painter.fontMetrics()
                card = QRectF(
                    rect.left() + 2,
                    rect.top() + 3,
                    metrics.horizontalAdvance(word) + 6,
                    metrics.height() + 2,
                )
                painter.fillRect(card, QColor(PLOT_BACKGROUND))
                painter.setPen(QPen(colour, 1.0))
                painter.drawRect(card)
                painter.setPen(QColor(TEXT_COLOUR))
                painter.drawText(card, Qt.AlignmentFlag.AlignCenter, word)


class EventLinesItem(_ViewItem):
    """Thin dashed vertical lines at alarm raisings, in the priority's colour."""

    def __init__(self, view_box: Any) -> None:
        super().__init__(view_box)
        self.lines: tuple[tuple[float, str], ...] = ()
        self.setZValue(2)

    def set_lines(self, lines: Sequence[tuple[float, str]]) -> None:
        self.lines = tuple(lines[:MAX_ALARM_LINES])
        self.changed()

    def _has_content(self) -> bool:
        return bool(self.lines)

    def _paint_pixels(self, painter: QPainter, view: QRectF, transform: QTransform) -> None:
        for t, colour in self.lines:
            if not view.left() <= t <= view.right():
                continue
            top = transform.map(QPointF(t, view.top()))
            bottom = transform.map(QPointF(t, view.bottom()))
            painter.setPen(QPen(QColor(colour), 1.0, Qt.PenStyle.DashLine))
            x = round(top.x())
            painter.drawLine(x, round(top.y()), x, round(bottom.y()))


# ------------------------------------------------------------------ drawing helpers


def _as_float(values: Any) -> FloatArray:
    return np.frombuffer(values, dtype=np.float64) if len(values) else np.empty(0)


def shown_gaps(series: Series) -> list[Gap]:
    """The gaps worth drawing: every COMM_FAIL, STALE and BAD stretch, and stretches
    with no record at all from :data:`MIN_GAP_S` on (shorter ones are a forced
    sample arriving a scan after its interval, not a hole in the record)."""
    return [g for g in series.gaps if g.quality is not None or g.duration_s >= MIN_GAP_S]


def line_data(series: Series, hold_until: float) -> tuple[FloatArray, FloatArray]:
    """The mean line: steps for single samples (a value holds until the next one,
    the last until ``hold_until``), bucket by bucket otherwise; NaN breaks it
    (at the gaps of :func:`shown_gaps`)."""
    t = _as_float(series.times)
    mean = _as_float(series.mean)
    blips = [g.start for g in series.gaps if g.quality is None and g.duration_s < MIN_GAP_S]
    if blips and len(t):
        count = np.frombuffer(series.count, dtype=np.int64)
        keep = ~((count == 0) & np.isin(t, np.asarray(blips, dtype=np.float64)))
        t, mean = t[keep], mean[keep]
    n = len(t)
    if n == 0:
        return np.empty(0), np.empty(0)
    if series.bucket_s > 0:
        return t.copy(), mean.copy()
    following = np.empty(n)
    following[:-1] = t[1:]
    following[-1] = max(t[-1], hold_until)
    x = np.empty(2 * n)
    x[0::2] = t
    x[1::2] = following
    return x, np.repeat(mean, 2)


def envelope_data(series: Series) -> tuple[FloatArray, FloatArray]:
    """One vertical stroke from minimum to maximum per bucket (drawn ``connect='pairs'``)."""
    if series.bucket_s <= 0 or len(series) == 0:
        return np.empty(0), np.empty(0)
    t = _as_float(series.times)
    lo = _as_float(series.minimum)
    hi = _as_float(series.maximum)
    keep = np.isfinite(lo) & np.isfinite(hi)
    x = np.repeat(t[keep], 2)
    y = np.column_stack((lo[keep], hi[keep])).ravel()
    return x, y


def held_data(series: Series) -> tuple[FloatArray, FloatArray]:
    """The last good value carried through each STALE stretch (``connect='pairs'``)."""
    t = _as_float(series.times)
    mean = _as_float(series.mean)
    xs: list[float] = []
    ys: list[float] = []
    for gap in series.gaps:
        if gap.quality is not Quality.STALE:
            continue
        before = np.nonzero((t < gap.start) & np.isfinite(mean))[0]
        if not len(before):
            continue
        value = float(mean[before[-1]])
        xs += [gap.start, gap.end]
        ys += [value, value]
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)


def quality_marks(series: Series) -> tuple[FloatArray, FloatArray, list[str]]:
    """Buckets with a value but also STALE or BAD samples: where, and which symbol."""
    if not len(series):
        return np.empty(0), np.empty(0), []
    worst = np.frombuffer(series.worst, dtype=np.int8)
    t = _as_float(series.times)
    mean = _as_float(series.mean)
    keep = np.isfinite(mean) & ((worst == _STALE) | (worst == _BAD))
    symbols = ["o" if w == _STALE else "x" for w in worst[keep]]
    return t[keep], mean[keep], symbols


def intersect_gaps(
    a: Sequence[tuple[float, float, Quality | None]],
    b: Sequence[tuple[float, float, Quality | None]],
) -> list[tuple[float, float, Quality | None]]:
    """The stretches in both lists (each sorted, not overlapping); the quality of ``a``."""
    out: list[tuple[float, float, Quality | None]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end, a[i][2]))
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _finite_range(values: Iterable[FloatArray]) -> tuple[float, float] | None:
    lo, hi = math.inf, -math.inf
    for array in values:
        finite = array[np.isfinite(array)]
        if len(finite):
            lo = min(lo, float(finite.min()))
            hi = max(hi, float(finite.max()))
    return (lo, hi) if lo <= hi else None


def _style_axis(axis: Any, width: int | None = None) -> None:
    axis.setPen(pg.mkPen(AXIS_COLOUR))
    axis.setTextPen(pg.mkPen(TEXT_COLOUR))
    axis.setStyle(tickFont=_font(8.5))
    if width is not None:
        axis.setWidth(width)


LEFT_AXIS_PX = 84


def new_plot_item(**kwargs: Any) -> Any:
    """A pyqtgraph plot without its context menus (the operator's tools are buttons).

    pyqtgraph makes parentless menus for every plot; the view box's is deleted
    here, the plot options' in :func:`release_plot_item`, so none outlives its
    window as a stray top-level widget.
    """
    plot = pg.PlotItem(**kwargs)
    menu = plot.vb.menu
    plot.setMenuEnabled(False)
    if isinstance(menu, QMenu):
        menu.deleteLater()
    plot.hideButtons()
    return plot


def release_plot_item(plot: Any) -> None:
    """Delete what pyqtgraph made outside the scene for ``plot`` (its options menu)."""
    menu = getattr(plot, "ctrlMenu", None)
    if isinstance(menu, QMenu):
        menu.deleteLater()


def _new_plot(*, show_time: bool) -> Any:
    axis = pg.DateAxisItem(orientation="bottom")  # local time (the zone's offset at each tick)
    plot = new_plot_item(axisItems={"bottom": axis})
    plot.setMouseEnabled(x=True, y=False)
    plot.vb.disableAutoRange()
    plot.vb.setLimits(minXRange=MIN_SPAN_S, maxXRange=MAX_SPAN_S)
    plot.showGrid(x=True, y=True, alpha=0.12)
    _style_axis(plot.getAxis("left"), LEFT_AXIS_PX)
    _style_axis(axis)
    if not show_time:
        axis.setStyle(showValues=False)
        axis.setHeight(6)
    return plot


# ------------------------------------------------------------------ a strip


@dataclass(frozen=True, slots=True)
class _StripKey:
    quantity: Quantity
    unit: str
    limits: Limits
    at_rest: Limits | None
    room: str | None  # rooms matter only for limits that follow occupancy


def _strip_key(config: PointConfig) -> _StripKey:
    at_rest = config.limits_at_rest
    return _StripKey(
        config.hal.quantity,
        config.hal.unit,
        config.limits,
        at_rest,
        config.hal.target if at_rest is not None else None,
    )


class _Pen:
    """One point's curves in a strip."""

    def __init__(self, plot: Any, point_id: str, colour: str) -> None:
        self.point_id = point_id
        self.colour = colour
        self.series: Series | None = None
        self.hold_until = 0.0
        faint = QColor(colour)
        faint.setAlpha(120)
        self.envelope = pg.PlotCurveItem(pen=pg.mkPen(faint, width=1), connect="pairs")
        self.line = pg.PlotCurveItem(pen=pg.mkPen(colour, width=1.6), connect="finite")
        self.held = pg.PlotCurveItem(
            pen=pg.mkPen(colour, width=1.4, style=Qt.PenStyle.DashLine), connect="pairs"
        )
        self.marks = pg.ScatterPlotItem(
            size=7, pen=pg.mkPen(colour, width=1.2), brush=pg.mkBrush(PLOT_BACKGROUND)
        )
        for z, item in enumerate((self.envelope, self.held, self.line, self.marks)):
            plot.addItem(item, ignoreBounds=True)
            item.setZValue(5 + z)

    def show(self, series: Series, hold_until: float) -> None:
        self.series = series
        self.hold_until = hold_until
        self.line.setData(*line_data(series, hold_until))
        self.envelope.setData(*envelope_data(series))
        self.held.setData(*held_data(series))
        x, y, symbols = quality_marks(series)
        self.marks.setData(x=x, y=y, symbol=symbols)

    def value_range(self, start: float, end: float) -> tuple[float, float] | None:
        series = self.series
        if series is None or not len(series):
            return None
        t = _as_float(series.times)
        inside = (t >= start - series.bucket_s) & (t <= end)
        # The value holding at the start of the window counts too.
        before = np.nonzero(t < start)[0]
        if len(before):
            inside[before[-1]] = True
        return _finite_range((_as_float(series.minimum)[inside], _as_float(series.maximum)[inside]))


class _Strip:
    """Pens sharing a unit and limits: one plot with its bands, gaps and alarm lines."""

    def __init__(self, key: _StripKey, site: Site, lane: Any) -> None:
        self.key = key
        self.site = site
        self.plot = _new_plot(show_time=False)
        self.plot.setXLink(lane)
        label = value_label(key.quantity)
        unit = key.unit or UNITS.get(key.quantity, "")
        self.plot.setLabel("left", f"{label} ({unit})" if unit else label, color=TEXT_COLOUR)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        vb = self.plot.vb
        self.bands = BandsItem(vb)
        self.gaps = GapsItem(vb)
        self.alarm_lines = EventLinesItem(vb)
        for item, z in ((self.bands, -20), (self.gaps, -10), (self.alarm_lines, 2)):
            vb.addItem(item, ignoreBounds=True)
            item.setZValue(z)  # after addItem, which lifts items above the view box
        self.pens: dict[str, _Pen] = {}
        self.occupancy: tuple[OccupancySpan, ...] | None = None
        self.set_occupancy(None)

    def add_pen(self, point_id: str, colour: str) -> None:
        self.pens[point_id] = _Pen(self.plot, point_id, colour)

    def set_occupancy(self, spans: tuple[OccupancySpan, ...] | None) -> None:
        """Which limits apply when (particles); None: the room is taken to be at rest."""
        key = self.key
        self.occupancy = spans
        if key.at_rest is None:
            segments = [_BandSegment(-math.inf, math.inf, key.limits)]
        elif not spans:
            segments = [_BandSegment(-math.inf, math.inf, key.at_rest)]
        else:
            segments = [
                _BandSegment(
                    -math.inf if i == 0 else s.start,
                    s.end,
                    key.limits if s.in_operation else key.at_rest,
                )
                for i, s in enumerate(spans)
            ]
        self.bands.set_segments(segments)

    def show_gaps(self) -> None:
        """Hatch where no pen of the strip has a GOOD value (a pen alone breaks its line)."""
        shared: list[tuple[float, float, Quality | None]] | None = None
        for pen in self.pens.values():
            if pen.series is None:
                continue
            gaps = [(g.start, g.end, g.quality) for g in shown_gaps(pen.series)]
            shared = gaps if shared is None else intersect_gaps(shared, gaps)
        self.gaps.set_gaps(shared or [])

    def fit_y(self, start: float, end: float) -> None:
        """Show the data of the visible window and the limits that apply in it."""
        lo, hi = math.inf, -math.inf
        for pen in self.pens.values():
            found = pen.value_range(start, end)
            if found is not None:
                lo, hi = min(lo, found[0]), max(hi, found[1])
            held = pen.held.getData()[1]
            if held is not None and len(held):
                lo, hi = min(lo, float(np.min(held))), max(hi, float(np.max(held)))
        for segment in self.bands.segments:
            if segment.end < start or segment.start > end:
                continue
            limits = segment.limits
            for value in (
                limits.action_low if limits.action_low is not None else limits.alert_low,
                limits.action_high if limits.action_high is not None else limits.alert_high,
            ):
                if value is not None:
                    lo, hi = min(lo, value), max(hi, value)
        if lo > hi:
            lo, hi = 0.0, 1.0
        pad = (hi - lo) * 0.08 or max(abs(hi) * 0.05, 1.0)
        self.plot.setYRange(lo - pad, hi + pad, padding=0)

    def detach(self) -> None:
        self.plot.setXLink(None)
        release_plot_item(self.plot)


# ------------------------------------------------------------------ the marker lane


class _Lane:
    """The row of markers under the strips; it carries the time axis."""

    def __init__(self) -> None:
        self.plot = _new_plot(show_time=True)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.setYRange(-0.7, 3.7, padding=0)
        self.plot.showGrid(x=True, y=False, alpha=0.12)
        left = self.plot.getAxis("left")
        left.setTicks([list(_ROW_NAMES), []])
        self.plot.setMaximumHeight(150)
        self.plot.setMinimumHeight(130)
        self.bars: dict[str, Any] = {}
        colours = {
            "door": DOOR_COLOUR,
            "cleaning": CLEANING_COLOUR,
            **{f"alarm/{p.value}": PRIORITY_COLOURS[p] for p in Priority},
        }
        for name, colour in colours.items():
            pen = pg.mkPen(colour, width=5)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            item = pg.PlotCurveItem(pen=pen, connect="pairs")
            self.plot.addItem(item, ignoreBounds=True)
            self.bars[name] = item
        self.scatter: dict[MarkerKind, Any] = {}
        for kind in MarkerKind:
            item = pg.ScatterPlotItem(hoverable=True, tip=_marker_tip)
            item.setZValue(10)
            self.plot.addItem(item, ignoreBounds=True)
            self.scatter[kind] = item
        self.labels: list[Any] = []
        self.markers: tuple[Marker, ...] = ()

    def show(self, markers: Sequence[Marker], x_end: float) -> None:
        self.markers = tuple(markers)
        bars: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in self.bars}
        spots: dict[MarkerKind, list[dict[str, Any]]] = {kind: [] for kind in MarkerKind}
        for marker in markers:
            row = _ROWS[marker.kind.value]
            name = marker.kind.value
            if marker.kind is MarkerKind.ALARM and marker.priority is not None:
                name = f"alarm/{marker.priority.value}"
            if name in bars and (marker.until is not None or marker.kind is not MarkerKind.STATUS):
                xs, ys = bars[name]
                xs += [marker.at, marker.until if marker.until is not None else x_end]
                ys += [row, row]
            spots[marker.kind].append(_spot(marker, row))
        for name, (xs, ys) in bars.items():
            self.bars[name].setData(
                np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
            )
        for kind, found in spots.items():
            self.scatter[kind].setData(spots=found)
        self._label(markers)

    def _label(self, markers: Sequence[Marker]) -> None:
        """Words above the status and cleaning shapes, where they do not overlap
        (at the current zoom; the shapes keep their tooltips)."""
        for item in self.labels:
            self.plot.removeItem(item)
        self.labels = []
        (x0, x1), _ = self.plot.vb.viewRange()
        px_per_s = max(self.plot.vb.width(), 1.0) / max(x1 - x0, 1e-9)
        font = _font(7.5)
        char_px = 6.2
        for kind in (MarkerKind.STATUS, MarkerKind.CLEANING):
            chosen = [m for m in markers if m.kind is kind]
            if len(chosen) > MAX_LABELS:
                continue
            rooms = {m.source for m in chosen}
            free_from = -math.inf  # the first pixel not yet taken by a word
            for marker in chosen:
                words = marker.label if len(rooms) > 1 else marker.label.split(" ", 1)[-1]
                x = (marker.at - x0) * px_per_s
                if x < free_from:
                    continue
                free_from = x + (len(words) + 2) * char_px
                text = pg.TextItem(words, color=TEXT_COLOUR, anchor=(0, 1))
                text.setFont(font)
                text.setPos(marker.at, _ROWS[kind.value] + 0.05)
                text.setZValue(11)
                self.plot.addItem(text, ignoreBounds=True)
                self.labels.append(text)

    def drawn(self, kind: MarkerKind) -> list[float]:
        """Where the shapes of ``kind`` are drawn (epoch seconds), for tests and checks."""
        x, _y = self.scatter[kind].getData()
        return [float(v) for v in x] if x is not None else []


def _spot(marker: Marker, row: int) -> dict[str, Any]:
    if marker.kind is MarkerKind.ALARM and marker.priority is not None:
        colour = PRIORITY_COLOURS[marker.priority]
        return {
            "pos": (marker.at, row),
            "symbol": _SYMBOLS[marker.priority],
            "size": 11,
            "pen": pg.mkPen(TEXT_COLOUR, width=1),
            "brush": pg.mkBrush(colour),
            "data": marker.detail,
        }
    symbol, colour = {
        MarkerKind.DOOR: ("|", DOOR_COLOUR),
        MarkerKind.STATUS: ("s", STATUS_COLOUR),
        MarkerKind.CLEANING: ("d", CLEANING_COLOUR),
    }.get(marker.kind, ("o", STATUS_COLOUR))
    return {
        "pos": (marker.at, row),
        "symbol": symbol,
        "size": 9,
        "pen": pg.mkPen(colour, width=1.5),
        "brush": pg.mkBrush(colour),
        "data": marker.detail,
    }


def _marker_tip(x: float, y: float, data: object) -> str:
    return str(data)


# ------------------------------------------------------------------ the view


class TrendView(QWidget):
    """Pens on a shared time axis with bands, quality, markers; follow or history.

    ``loaded`` is emitted after each completed read (series and markers drawn);
    ``following_changed`` when the mode changes.
    """

    loaded = Signal()
    following_changed = Signal(bool)
    points_changed = Signal()
    range_shown = Signal(float, float)

    def __init__(
        self,
        sources: TrendSources,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
        follow_ms: int = FOLLOW_MS,
        debounce_ms: int = DEBOUNCE_MS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("trendView")
        self.sources = sources
        self.site = sources.site
        self._clock = clock
        self.tasks = TaskSet("trend view")
        self._points: tuple[str, ...] = ()
        self._span = DEFAULT_SPAN_S
        self._following = True
        self._generation = 0
        self._task: asyncio.Task[Any] | None = None
        self._stopped = False
        self.loads = 0
        self.series: dict[str, Series] = {}
        self.markers: tuple[Marker, ...] = ()
        self.notes: tuple[str, ...] = ()
        self.last_request: WindowRequest | None = None
        self.colours: dict[str, str] = {}
        self._axis_label = ""

        self.range_label = QLabel(self)
        self.range_label.setObjectName("trendRange")
        self.mode_label = QLabel(self)
        self.mode_label.setObjectName("trendMode")
        self.legend = QLabel(self)
        self.legend.setObjectName("trendLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.message = MessageLabel(self)
        self.notes_label = QLabel(self)
        self.notes_label.setObjectName("hint")
        self.notes_label.setWordWrap(True)
        self.notes_label.hide()
        for label in (self.range_label, self.legend, self.notes_label):
            label.setMinimumWidth(1)  # a narrow trend clips its header rather than widen
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.graphics = pg.GraphicsLayoutWidget(self)
        self.graphics.setObjectName("trendPlots")
        self.graphics.setBackground(PLOT_BACKGROUND)
        self.graphics.ci.setSpacing(2)
        self.graphics.ci.setContentsMargins(4, 4, 12, 4)
        self.lane = _Lane()
        self.strips: list[_Strip] = []
        self._layout_plots()
        vb = self.lane.plot.vb
        vb.sigXRangeChanged.connect(self._range_changed)
        vb.sigRangeChangedManually.connect(self._manual_change)

        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.range_label, 1)
        header.addWidget(self.mode_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.legend)
        layout.addWidget(self.message)
        layout.addWidget(self.notes_label)
        layout.addWidget(self.graphics, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._start_load)
        self._follow_ms = follow_ms
        self._follow_timer = QTimer(self)
        self._follow_timer.setInterval(follow_ms)
        self._follow_timer.timeout.connect(self._follow_tick)
        now = self._clock()
        self._set_x(now - self._span, now)
        self._update_mode()

    # -------------------------------------------------------------- state

    @property
    def points(self) -> tuple[str, ...]:
        return self._points

    @property
    def following(self) -> bool:
        return self._following

    @property
    def span_s(self) -> float:
        return self._span

    @property
    def busy(self) -> bool:
        return (self._task is not None and not self._task.done()) or self._debounce.isActive()

    def x_range(self) -> tuple[float, float]:
        (x0, x1), _ = self.lane.plot.vb.viewRange()
        return float(x0), float(x1)

    def strip_of(self, point_id: str) -> _Strip:
        for strip in self.strips:
            if point_id in strip.pens:
                return strip
        raise KeyError(f"{point_id} is not on this trend")

    def plotted(self, point_id: str) -> tuple[FloatArray, FloatArray]:
        """The mean line as drawn (x, y), for tests and checks."""
        x, y = self.strip_of(point_id).pens[point_id].line.getData()
        if x is None:
            return np.empty(0), np.empty(0)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def envelope(self, point_id: str) -> tuple[FloatArray, FloatArray]:
        x, y = self.strip_of(point_id).pens[point_id].envelope.getData()
        if x is None:
            return np.empty(0), np.empty(0)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def drawn_markers(self, kind: MarkerKind) -> list[float]:
        return self.lane.drawn(kind)

    # -------------------------------------------------------------- commands

    def set_points(self, point_ids: Sequence[str], *, span_s: float | None = None) -> None:
        """Show these points (unknown ids and those past :data:`MAX_PENS` are left out)."""
        known = [p for p in dict.fromkeys(point_ids) if p in self.site.point_by_id]
        points = tuple(known[:MAX_PENS])
        if len(known) > MAX_PENS:
            self.message.show_message(
                f"A trend shows at most {MAX_PENS} points; the first {MAX_PENS} are shown.", "info"
            )
        if points != self._points:
            self._points = points
            self._rebuild()
            self.points_changed.emit()
        if span_s is not None:
            self._span = span_s
        if self._following:
            self._update_mode()
            self._show_latest()
        else:
            self._request_load()

    def follow(self, span_s: float | None = None) -> None:
        """Show the last ``span_s`` (default: the current span) up to now, and keep up."""
        if span_s is not None:
            self._span = span_s
        self._set_following(True)
        self._update_mode()
        self._show_latest()

    def set_range(self, start: float, end: float) -> None:
        """History mode over ``[start, end]`` (epoch seconds)."""
        if end - start < MIN_SPAN_S:
            mid = (start + end) / 2
            start, end = mid - MIN_SPAN_S / 2, mid + MIN_SPAN_S / 2
        self._span = end - start
        self._set_following(False)
        self._set_x(start, end)

    def set_span(self, span_s: float) -> None:
        """Zoom to ``span_s`` keeping the right edge (following: up to now)."""
        if self._following:
            self.follow(span_s)
            return
        _x0, x1 = self.x_range()
        self.set_range(x1 - span_s, x1)

    def step(self, direction: int) -> None:
        """Page back (-1) or forward (+1) by one span (history mode)."""
        x0, x1 = self.x_range()
        span = x1 - x0
        shift = direction * span
        now = self._clock()
        if direction > 0 and x1 + shift >= now:
            self.follow(span)
            return
        self.set_range(x0 + shift, x1 + shift)

    def refresh(self) -> None:
        self._request_load()

    def stop(self) -> None:
        """Stop reading (the window closes): timers off, reads cancelled."""
        self._stopped = True
        self._debounce.stop()
        self._follow_timer.stop()
        self.tasks.cancel_all()

    def resume(self) -> None:
        """Read again after :meth:`stop` (a closed window shown again)."""
        if not self._stopped or self.tasks.closed:
            return
        self._stopped = False
        self._update_mode()
        if self._following:
            self._show_latest()
        else:
            self._request_load()

    async def aclose(self) -> None:
        """Stop, wait for the reads, and let go of the plots' menus (the view is going)."""
        self.stop()
        await self.tasks.close()
        for strip in self.strips:
            strip.detach()
        release_plot_item(self.lane.plot)

    # -------------------------------------------------------------- layout

    def _layout_plots(self) -> None:
        ci = self.graphics.ci
        ci.clear()
        for row, strip in enumerate(self.strips):
            ci.addItem(strip.plot, row=row, col=0)
        ci.addItem(self.lane.plot, row=len(self.strips), col=0)

    def _rebuild(self) -> None:
        for old in self.strips:
            old.detach()
        self.strips = []
        self.colours = {}
        by_key: dict[_StripKey, _Strip] = {}
        for i, point_id in enumerate(self._points):
            config = self.site.point_by_id[point_id]
            key = _strip_key(config)
            if key not in by_key:
                made = _Strip(key, self.site, self.lane.plot)
                made.plot.vb.sigRangeChangedManually.connect(self._manual_change)
                by_key[key] = made
                self.strips.append(made)
            colour = PEN_COLOURS[i % len(PEN_COLOURS)]
            by_key[key].add_pen(point_id, colour)
            self.colours[point_id] = colour
        self.series = {p: s for p, s in self.series.items() if p in self._points}
        self._layout_plots()
        x0, x1 = self.x_range()
        for shown in self.strips:
            shown.plot.setXRange(x0, x1, padding=0)
        self._update_legend()

    def _update_legend(self) -> None:
        parts = []
        x0, x1 = self.x_range()
        for point_id in self._points:
            colour = self.colours[point_id]
            unit = point_unit(self.site, point_id)
            series = self.series.get(point_id)
            empty = ""
            if series is not None:
                pen = self.strip_of(point_id).pens[point_id]
                if pen.value_range(x0, x1) is None:
                    empty = " — <i>no good value in this range</i>"
            parts.append(
                f'<span style="color:{colour}; font-size:14px">■</span>&nbsp;'
                f"<b>{point_id}</b> {point_title(self.site, point_id)}"
                + (f" ({unit})" if unit else "")
                + empty
            )
        self.legend.setText(
            " &nbsp;&nbsp; ".join(parts) if parts else "No points: pick points to trend."
        )

    # -------------------------------------------------------------- range and mode

    def _set_x(self, start: float, end: float) -> None:
        self.lane.plot.vb.setXRange(start, end, padding=0)
        self._update_range_label()

    def _show_latest(self) -> None:
        now = self._clock()
        self._set_x(now - self._span, now)
        self._request_load()

    def _follow_tick(self) -> None:
        if self._following and not self._stopped:
            self._show_latest()

    def _set_following(self, following: bool) -> None:
        if following == self._following:
            self._update_mode()
            return
        self._following = following
        self._update_mode()
        self.following_changed.emit(following)

    def _update_mode(self) -> None:
        if self._following and not self._stopped:
            # About one new pixel per read: a minute every 2 s, a week every minute.
            interval = min(FOLLOW_MAX_MS, max(self._follow_ms, round(self._span * 1000 / 1200)))
            if self._follow_timer.interval() != interval:
                self._follow_timer.setInterval(interval)
            if not self._follow_timer.isActive():
                self._follow_timer.start()
            self.mode_label.setText(f"● LIVE — following the last {span_text(self._span)}")
        else:
            self._follow_timer.stop()
            self.mode_label.setText("❚❚ HISTORY — press Follow to return to live")

    def _manual_change(self, *_args: object) -> None:
        """The operator dragged or zoomed: stay where they put it."""
        x0, x1 = self.x_range()
        self._span = x1 - x0
        self._set_following(False)

    def _range_changed(self, *_args: object) -> None:
        self._update_range_label()
        self._request_load()
        x0, x1 = self.x_range()
        self.range_shown.emit(x0, x1)

    def _update_range_label(self) -> None:
        x0, x1 = self.x_range()
        zone = offset_text(x0)
        zone_end = offset_text(x1)
        if zone_end != zone:
            zone = f"{zone} → {zone_end}"
        self.range_label.setText(f"{_local(x0)}  →  {_local(x1)}   ({span_text(x1 - x0)})")
        axis_label = f"Local time ({zone})"
        if axis_label != self._axis_label:  # a new label lays the plots out again
            self._axis_label = axis_label
            self.lane.plot.setLabel("bottom", axis_label, color=TEXT_COLOUR)

    # -------------------------------------------------------------- reading

    def _request_load(self) -> None:
        if self._stopped:
            return
        self._debounce.start()

    def _max_points(self) -> int:
        width = int(self.lane.plot.vb.width())
        if width < 50:
            width = 800
        return max(100, round(width * (1 + 2 * MARGIN)))

    def _start_load(self) -> None:
        if self._stopped or self.tasks.closed:
            return
        x0, x1 = self.x_range()
        span = x1 - x0
        request = WindowRequest(
            self._points, x0 - MARGIN * span, x1 + MARGIN * span, self._max_points()
        )
        self._generation += 1
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = self.tasks.start(self._load(self._generation, request), name="read trend")

    async def _load(self, generation: int, request: WindowRequest) -> None:
        worker = self.sources.worker
        self.last_request = request
        if request.points:
            try:
                series = await worker.call(load_series, self.sources.historian, request)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("trend of %s not read: %s", ", ".join(request.points), error)
                if generation == self._generation:
                    self.message.show_error(error)
                return
            if generation != self._generation:
                return
            if self.message.severity == "error":
                self.message.clear_message()
            self._draw_series(series, request)
            try:
                data = await worker.call(load_markers, self.sources, request)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("trend markers not read: %s", error)
                data = MarkerData(notes=(f"markers not shown: {error}",))
            if generation != self._generation:
                return
        else:
            self._draw_series({}, request)
            data = MarkerData()
        self._draw_markers(data, request)
        self.loads += 1
        self.loaded.emit()

    def _draw_series(self, series: Mapping[str, Series], request: WindowRequest) -> None:
        self.series = dict(series)
        hold = min(request.end, self._clock())
        for strip in self.strips:
            for point_id, pen in strip.pens.items():
                found = series.get(point_id)
                if found is not None:
                    pen.show(found, hold)
            strip.show_gaps()
        x0, x1 = self.x_range()
        for strip in self.strips:
            strip.fit_y(x0, x1)
        self._update_legend()

    def _draw_markers(self, data: MarkerData, request: WindowRequest) -> None:
        self.markers = data.markers
        self.notes = data.notes
        self.lane.show(data.markers, min(request.end, self._clock()))
        lines = [
            (m.at, PRIORITY_COLOURS[m.priority])
            for m in data.markers
            if m.kind is MarkerKind.ALARM and m.priority is not None
        ]
        x0, x1 = self.x_range()
        for strip in self.strips:
            strip.alarm_lines.set_lines(lines)
            if strip.key.room is not None:
                strip.set_occupancy(data.occupancy.get(strip.key.room))
                strip.fit_y(x0, x1)
        self.notes_label.setText("ℹ " + "; ".join(data.notes) if data.notes else "")
        self.notes_label.setVisible(bool(data.notes))

    # -------------------------------------------------------------- export

    def csv_pens(self) -> list[CsvPen]:
        return [
            CsvPen(p, point_title(self.site, p), point_unit(self.site, p), self.series[p])
            for p in self._points
            if p in self.series
        ]

    async def export_csv(self, path: Path) -> int:
        """Write the shown data (the visible range of every pen) to ``path``; rows written."""
        x0, x1 = self.x_range()
        return await self.sources.worker.call(write_trend_csv, path, self.csv_pens(), x0, x1)

    def export_png(self, path: Path) -> bool:
        """Save the trend as it is on screen (range, legend, plots) to ``path``."""
        return self.grab().save(str(path), "PNG")


# ------------------------------------------------------------------ trend sets


@dataclass(frozen=True, slots=True)
class TrendSet:
    """A named set of points and a span, saved per user."""

    name: str
    points: tuple[str, ...]
    span_s: float = DEFAULT_SPAN_S


class TrendSets:
    """Trend sets in the user's QSettings: ``trend_sets/<username>`` holds the
    user's sets as one JSON object (name → points and span)."""

    GROUP = "trend_sets"

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def _key(self, username: str) -> str:
        return f"{self.GROUP}/{quote(username, safe='')}"

    def _read(self, username: str) -> dict[str, TrendSet]:
        raw = self._settings.value(self._key(username))
        if not raw:
            return {}
        try:
            data = json.loads(str(raw))
            return {
                str(name): TrendSet(
                    str(name),
                    tuple(str(p) for p in entry["points"]),
                    float(entry.get("span_s", DEFAULT_SPAN_S)),
                )
                for name, entry in data.items()
            }
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            log.warning("trend sets of %s cannot be read (%s); starting afresh", username, error)
            return {}

    def _write(self, username: str, sets: Mapping[str, TrendSet]) -> None:
        data = {
            name: {"points": list(s.points), "span_s": s.span_s} for name, s in sorted(sets.items())
        }
        self._settings.setValue(self._key(username), json.dumps(data, ensure_ascii=False))
        self._settings.sync()

    def names(self, username: str) -> list[str]:
        return sorted(self._read(username), key=str.casefold)

    def get(self, username: str, name: str) -> TrendSet | None:
        return self._read(username).get(name)

    def save(self, username: str, trend_set: TrendSet) -> None:
        if not trend_set.name.strip():
            raise ValueError("a trend set needs a name")
        sets = self._read(username)
        sets[trend_set.name] = trend_set
        self._write(username, sets)

    def delete(self, username: str, name: str) -> bool:
        sets = self._read(username)
        if sets.pop(name, None) is None:
            return False
        self._write(username, sets)
        return True


# ------------------------------------------------------------------ the window


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class TrendWindow(QWidget):
    """A window with the point picker, span and mode, export, saved sets, and the view."""

    closed = Signal()

    def __init__(
        self,
        sources: TrendSources,
        *,
        settings: QSettings,
        username: Callable[[], str | None],
        parent: QWidget | None = None,
        clock: Callable[[], float] = time.time,
        follow_ms: int = FOLLOW_MS,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("trendWindow")
        self.setWindowTitle("Trends — NECSTGEN Desk")
        self.site = sources.site
        self.sets = TrendSets(settings)
        self._username = username
        self.tasks = TaskSet("trend window")
        self._file_dialog: QFileDialog | None = None
        self.last_export: Path | None = None
        self.view = TrendView(sources, self, clock=clock, follow_ms=follow_ms)

        self.picker = QTreeWidget(self)
        self.picker.setObjectName("trendPicker")
        self.picker.setHeaderLabels(["Points"])
        self.picker.setMinimumWidth(220)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._build_picker()
        self.picker.itemChanged.connect(self._picked)

        self.span = QComboBox(self)
        self.span.setObjectName("trendSpan")
        for seconds, label in SPANS:
            self.span.addItem(label, seconds)
        self.span.setCurrentIndex(self.span.findData(DEFAULT_SPAN_S))
        self.span.activated.connect(lambda _i: self.view.set_span(float(self.span.currentData())))
        self.back_button = self._button("◀ Back", "trendBack", lambda: self.view.step(-1))
        self.forward_button = self._button("Forward ▶", "trendForward", lambda: self.view.step(1))
        self.follow_button = self._button("● Follow", "trendFollow", self.view.follow)
        self.follow_button.setCheckable(True)
        self.follow_button.setToolTip("Keep showing the latest values (the range moves with time)")
        self.csv_button = self._button(
            "Export CSV…", "trendCsv", lambda: self._start(self._export_csv(), "export CSV")
        )
        self.png_button = self._button(
            "Export PNG…", "trendPng", lambda: self._start(self._export_png(), "export PNG")
        )
        self.set_combo = QComboBox(self)
        self.set_combo.setObjectName("trendSet")
        self.set_combo.setEditable(True)
        self.set_combo.setMinimumWidth(180)
        self.set_combo.setToolTip("Your saved trend sets (points and span)")
        line_edit = self.set_combo.lineEdit()
        if line_edit is not None:
            line_edit.setPlaceholderText("trend set name")
        self.set_combo.textActivated.connect(self.load_set)
        self.save_set_button = self._button("Save set", "saveTrendSet", self._save_set)
        self.delete_set_button = self._button("Delete set", "deleteTrendSet", self._delete_set)
        self.message = MessageLabel(self)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Span:", self))
        bar.addWidget(self.span)
        bar.addWidget(self.back_button)
        bar.addWidget(self.forward_button)
        bar.addWidget(self.follow_button)
        bar.addSpacing(16)
        bar.addWidget(self.csv_button)
        bar.addWidget(self.png_button)
        bar.addStretch(1)
        bar.addWidget(QLabel("Trend set:", self))
        bar.addWidget(self.set_combo)
        bar.addWidget(self.save_set_button)
        bar.addWidget(self.delete_set_button)

        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(bar)
        right_layout.addWidget(self.message)
        right_layout.addWidget(self.view, 1)
        splitter = QSplitter(self)
        splitter.addWidget(self.picker)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 1100])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(splitter)

        self.view.following_changed.connect(self._mode_changed)
        self.view.points_changed.connect(self._sync_picker)
        self.view.range_shown.connect(self._range_shown)
        self._mode_changed(self.view.following)
        self.refresh_sets()
        self.resize(1400, 820)

    def _button(self, text: str, name: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def _start(self, coro: Any, name: str) -> None:
        self.tasks.start(coro, name=name)

    # -------------------------------------------------------------- points

    def _build_picker(self) -> None:
        self.picker.blockSignals(True)
        rooms: dict[str, QTreeWidgetItem] = {}
        for config in trendable_points(self.site):
            target = config.hal.target
            parent = rooms.get(target)
            if parent is None:
                space = self.site.space_by_id.get(target)
                parent = QTreeWidgetItem(
                    self.picker, [f"{target} — {space.name}" if space else target]
                )
                parent.setFlags(parent.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
                rooms[target] = parent
            unit = config.hal.unit or UNITS.get(config.hal.quantity, "")
            item = QTreeWidgetItem(
                parent, [f"{value_label(config.hal.quantity, config.hal.reference)} ({unit})"]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, config.id)
            item.setToolTip(0, config.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Unchecked)
            self._items[config.id] = item
        self.picker.blockSignals(False)

    def _picked(self, item: QTreeWidgetItem, _column: int) -> None:
        point_id = item.data(0, Qt.ItemDataRole.UserRole)
        if not point_id:
            return
        points = list(self.view.points)
        if item.checkState(0) == Qt.CheckState.Checked:
            if point_id not in points:
                if len(points) >= MAX_PENS:
                    self.message.show_message(
                        f"A trend shows at most {MAX_PENS} points; untick one first.", "info"
                    )
                    self._sync_picker()
                    return
                points.append(point_id)
        elif point_id in points:
            points.remove(point_id)
        self.message.clear_message()
        self.view.set_points(points)

    def _sync_picker(self) -> None:
        self.picker.blockSignals(True)
        shown = set(self.view.points)
        for point_id, item in self._items.items():
            checked = point_id in shown
            item.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            item.setIcon(0, _swatch(self.view.colours[point_id]) if checked else QIcon())
            if checked:
                parent = item.parent()
                if parent is not None:
                    parent.setExpanded(True)
        self.picker.blockSignals(False)

    def show_points(
        self, point_ids: Sequence[str], *, span_s: float = DEFAULT_SPAN_S, follow: bool = True
    ) -> None:
        """Trend these points over the last ``span_s`` (following) or keep the range."""
        self.view.set_points(point_ids, span_s=span_s)
        if follow:
            self.view.follow(span_s)
        index = self.span.findData(span_s)
        if index >= 0:
            self.span.setCurrentIndex(index)

    def _mode_changed(self, following: bool) -> None:
        self.follow_button.setChecked(following)

    def _range_shown(self, start: float, end: float) -> None:
        """The span box names the span shown (blank for one the operator zoomed to)."""
        span = end - start
        index = next(
            (i for i, (s, _) in enumerate(SPANS) if math.isclose(s, span, rel_tol=0.01)), -1
        )
        if index != self.span.currentIndex():
            self.span.setCurrentIndex(index)

    # -------------------------------------------------------------- trend sets

    @property
    def username(self) -> str | None:
        return self._username()

    def refresh_sets(self) -> None:
        user = self.username
        current = self.set_combo.currentText()
        self.set_combo.blockSignals(True)
        self.set_combo.clear()
        if user is not None:
            self.set_combo.addItems(self.sets.names(user))
        self.set_combo.setEditText(current)
        self.set_combo.blockSignals(False)
        usable = user is not None
        for widget in (self.set_combo, self.save_set_button, self.delete_set_button):
            widget.setEnabled(usable)
            if not usable:
                widget.setToolTip("Log in to save and load your trend sets")

    def load_set(self, name: str) -> bool:
        user = self.username
        if user is None:
            return False
        found = self.sets.get(user, name)
        if found is None:
            return False
        self.show_points(found.points, span_s=found.span_s, follow=True)
        self.message.show_message(f"Trend set “{name}” loaded.", "ok")
        return True

    def _save_set(self) -> None:
        user = self.username
        name = self.set_combo.currentText().strip()
        if user is None:
            return
        if not name:
            self.message.show_error("Type a name for the trend set first.")
            return
        if not self.view.points:
            self.message.show_error("Pick at least one point before saving a trend set.")
            return
        self.sets.save(user, TrendSet(name, self.view.points, self.view.span_s))
        self.refresh_sets()
        self.set_combo.setEditText(name)
        self.message.show_message(
            f"Trend set “{name}” saved for {user} ({len(self.view.points)} points, "
            f"{span_text(self.view.span_s)}).",
            "ok",
        )

    def _delete_set(self) -> None:
        user = self.username
        name = self.set_combo.currentText().strip()
        if user is None or not name:
            return
        if self.sets.delete(user, name):
            self.message.show_message(f"Trend set “{name}” deleted.", "ok")
        else:
            self.message.show_error(f"You have no trend set called “{name}”.")
        self.refresh_sets()
        self.set_combo.setEditText("")

    # -------------------------------------------------------------- export

    async def choose_path(self, title: str, suffix: str, stem: str) -> Path | None:
        """Ask where to save (a file dialog awaited without a nested event loop)."""
        return await ask_save_path(
            self,
            title=title,
            object_name="trendExportDialog",
            stem=stem,
            suffix=suffix,
            track=self._track_dialog,
        )

    def _track_dialog(self, dialog: QFileDialog | None) -> None:
        self._file_dialog = dialog

    def _stem(self) -> str:
        points = self.view.points
        return "trend-" + ("-".join(points[:3]) if points else "empty")

    async def _export_csv(self) -> None:
        path = await self.choose_path("Export the shown trend data as CSV", "csv", self._stem())
        if path is not None:
            await self.export_csv(path)

    async def export_csv(self, path: Path) -> int:
        try:
            rows = await self.view.export_csv(path)
        except Exception as error:
            log.warning("trend CSV export to %s failed: %s", path, error)
            self.message.show_error(f"The CSV was not written: {error}")
            return 0
        self.last_export = path
        self.message.show_message(f"Exported {rows} rows to {path}.", "ok")
        return rows

    async def _export_png(self) -> None:
        path = await self.choose_path("Save the trend as a PNG picture", "png", self._stem())
        if path is not None:
            self.export_png(path)

    def export_png(self, path: Path) -> bool:
        ok = self.view.export_png(path)
        if ok:
            self.last_export = path
            self.message.show_message(f"Picture saved to {path}.", "ok")
        else:
            self.message.show_error(f"The picture could not be written to {path}.")
        return ok

    # -------------------------------------------------------------- closing

    def shutdown(self) -> None:
        """Stop reading and close any dialog (the screen locks, the app closes)."""
        if self._file_dialog is not None:
            self._file_dialog.reject()
        self.view.stop()
        self.tasks.cancel_all()

    async def aclose(self) -> None:
        self.shutdown()
        await self.view.aclose()
        await self.tasks.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.view.stop()
        self.tasks.cancel_all()
        super().closeEvent(event)
        self.closed.emit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.view.resume()
        self.refresh_sets()
