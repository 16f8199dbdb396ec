"""The facility-wide logbooks: room status, cleaning and gowning of one room or all,
over a date range (Records → Logbooks…).

Read-only: records are made and signed in the room logbook; here they are
reviewed, e.g. by a shift lead at hand-over or QA before a release.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from necstgen_desk.services import CleaningView, GowningView, Records, RoomStatusView
from ui.forms import BusyBar, MessageLabel, ViewTableModel, make_table
from ui.logbook_columns import CLEANING_COLUMNS, GOWNING_COLUMNS, STATUS_COLUMNS
from ui.records_context import RecordsContext
from ui.timefmt import DATE_FORMAT, to_date, today_local
from ui.worker import Reloader, TaskSet

log = logging.getLogger(__name__)

ALL_ROOMS = ""
DEFAULT_DAYS = 30


@dataclass(frozen=True, slots=True)
class LogbookFilter:
    room_id: str | None  # None: every room
    since: datetime | None  # UTC, inclusive
    until: datetime | None  # UTC, exclusive


@dataclass(frozen=True, slots=True)
class LogbookRows:
    status: tuple[RoomStatusView, ...]
    cleanings: tuple[CleaningView, ...]
    gowning: tuple[GowningView, ...]


def local_day_start(day: date) -> datetime:
    """Local midnight at the start of ``day``, as an aware datetime (DST-safe)."""
    return datetime.combine(day, time()).astimezone()


def load_logbooks(records: Records, room_ids: list[str], where: LogbookFilter) -> LogbookRows:
    """Runs on the worker thread."""
    status: list[RoomStatusView] = []
    for room_id in room_ids:
        for view in records.rooms.history(room_id):
            at = view.since
            if at is None:
                continue
            if where.since is not None and at < where.since:
                continue
            if where.until is not None and at >= where.until:
                continue
            status.append(view)
    status.sort(key=lambda v: v.since or datetime.min, reverse=True)
    cleanings = records.cleaning.list(
        room_id=where.room_id, since=where.since, until=where.until, include_superseded=True
    )
    gowning = records.gowning.list(room_id=where.room_id, since=where.since, until=where.until)
    return LogbookRows(tuple(status), tuple(cleanings), tuple(gowning))


class LogbooksWindow(QWidget):
    """Room status, cleaning and gowning logs of a room or of every room, in a date range."""

    def __init__(self, context: RecordsContext, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("logbooksWindow")
        self.setWindowTitle(f"Logbooks — {context.site.name} — NECSTGEN Desk")
        self.context = context
        self.tasks = TaskSet("logbooks")
        self.reloader = Reloader(self.tasks, self._load, "load logbooks")

        self.room = QComboBox(self)
        self.room.setObjectName("roomFilter")
        self.room.addItem("All rooms", ALL_ROOMS)
        for space in context.spaces:
            self.room.addItem(context.room_label(space.id), space.id)
        self.use_range = QCheckBox("Only from", self)
        self.use_range.setObjectName("useRange")
        self.use_range.setChecked(True)
        today = today_local()
        self.date_from = QDateEdit(today.addDays(-DEFAULT_DAYS), self)
        self.date_from.setObjectName("dateFrom")
        self.date_to = QDateEdit(today, self)
        self.date_to.setObjectName("dateTo")
        for edit in (self.date_from, self.date_to):
            edit.setDisplayFormat(DATE_FORMAT)
            edit.setCalendarPopup(True)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setObjectName("refresh")
        self.refresh_button.clicked.connect(self.reload)
        self.room.currentIndexChanged.connect(self.reload)
        self.use_range.toggled.connect(self._range_toggled)
        self.date_from.dateChanged.connect(self.reload)
        self.date_to.dateChanged.connect(self.reload)

        filters = QHBoxLayout()
        filters.addWidget(QLabel("Room:", self))
        filters.addWidget(self.room, 2)
        filters.addSpacing(12)
        filters.addWidget(self.use_range)
        filters.addWidget(self.date_from)
        filters.addWidget(QLabel("to", self))
        filters.addWidget(self.date_to)
        filters.addWidget(QLabel("(local dates)", self))
        filters.addStretch(1)
        filters.addWidget(self.refresh_button)

        self.status_model = ViewTableModel(STATUS_COLUMNS, self)
        self.cleaning_model = ViewTableModel(CLEANING_COLUMNS, self, muted=lambda v: not v.current)
        self.gowning_model = ViewTableModel(GOWNING_COLUMNS, self, muted=lambda v: not v.current)
        self.status_table = make_table(self.status_model, self)
        self.status_table.setObjectName("statusTable")
        self.cleaning_table = make_table(self.cleaning_model, self)
        self.cleaning_table.setObjectName("cleaningTable")
        self.gowning_table = make_table(self.gowning_model, self)
        self.gowning_table.setObjectName("gowningTable")
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.status_table, "Room status")
        self.tabs.addTab(self.cleaning_table, "Cleaning")
        self.tabs.addTab(self.gowning_table, "Gowning")

        self.summary = QLabel(self)
        self.summary.setObjectName("hint")
        self.message = MessageLabel(self)
        self.busy_bar = BusyBar("Loading…", self)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_bar)
        self.resize(1280, 640)
        context.changed.connect(self._changed)

    def _range_toggled(self, on: bool) -> None:
        self.date_from.setEnabled(on)
        self.date_to.setEnabled(on)
        self.reload()

    def _changed(self, _changes: object) -> None:
        if self.isVisible():
            self.reload()

    def reload(self) -> None:
        self.reloader.request()

    def set_room(self, room_id: str | None) -> None:
        index = self.room.findData(room_id or ALL_ROOMS)
        if index >= 0:
            self.room.setCurrentIndex(index)

    def current_filter(self) -> LogbookFilter:
        room = str(self.room.currentData() or "")
        since = until = None
        if self.use_range.isChecked():
            first = to_date(self.date_from.date())
            last = to_date(self.date_to.date())
            if last < first:
                first, last = last, first
            since = local_day_start(first)
            until = local_day_start(last + timedelta(days=1))
        return LogbookFilter(room or None, since, until)

    async def _load(self) -> None:
        where = self.current_filter()
        rooms = [where.room_id] if where.room_id else [s.id for s in self.context.spaces]
        self.busy_bar.show()
        try:
            rows = await self.context.call(load_logbooks, self.context.records, rooms, where)
        except Exception as error:
            log.warning("logbooks not loaded: %s", error)
            self.message.show_error(error)
            return
        finally:
            self.busy_bar.hide()
        self.message.clear_message()
        self.status_model.set_rows(rows.status)
        self.cleaning_model.set_rows(rows.cleanings)
        self.gowning_model.set_rows(rows.gowning)
        where_text = self.room.currentText() if where.room_id else "all rooms"
        self.summary.setText(
            f"{where_text}: {len(rows.status)} status changes, {len(rows.cleanings)} cleaning "
            f"records (all versions), {len(rows.gowning)} gowning records"
        )

    def shutdown(self) -> None:
        self.tasks.cancel_all()
