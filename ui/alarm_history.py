"""The alarm history (Alarms → History…): the journal, filtered, and its CSV export.

Every change of every alarm, newest first: raised, cleared, acknowledged
(by whom, with the comment), shelved (until when, why), unshelved, shelf
expired, suppressed. Times are local with the offset; UTC in the tooltip.
The export writes the matching entries oldest first and is itself audited.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from necstgen_desk.alarms.model import AlarmKind
from necstgen_desk.alarms.service import AlarmEventView, AlarmService, HistoryFilters
from necstgen_desk.site.model import Priority
from ui.alarm_look import PRIORITIES, STATE_WORDS, priority_text
from ui.forms import BusyBar, Column, MessageLabel, ViewTableModel, ask_save_path, make_table
from ui.records_context import RecordsContext
from ui.timefmt import EDIT_FORMAT, local_text, to_utc, utc_text
from ui.worker import Reloader, TaskSet

log = logging.getLogger(__name__)

HISTORY_LIMIT = 2000

HISTORY_COLUMNS: list[Column[AlarmEventView]] = [
    Column("Time (local)", lambda e: local_text(e.at), lambda e: f"{utc_text(e.at)}\nseq {e.seq}"),
    Column("Priority", lambda e: priority_text(e.priority)),
    Column("Alarm", lambda e: e.alarm_id),
    Column("Room", lambda e: e.room_id or ""),
    Column("Event", lambda e: e.event.value.replace("_", " ")),
    Column("State", lambda e: f"{STATE_WORDS[e.from_state]} → {STATE_WORDS[e.to_state]}"),
    Column("By", lambda e: e.username or "system"),
    Column("Comment", lambda e: e.comment or "", lambda e: e.comment or ""),
    Column("Message", lambda e: e.message, lambda e: e.message),
]


class AlarmHistoryWindow(QWidget):
    """Filters, the journal entries, and the CSV export."""

    def __init__(
        self, context: RecordsContext, service: AlarmService, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("alarmHistory")
        self.setWindowTitle(f"Alarm history — {context.site.name} — NECSTGEN Desk")
        self.context = context
        self.service = service
        self.tasks = TaskSet("alarm history")
        self.reloader = Reloader(self.tasks, self._load, "load alarm history")
        self._file_dialog: QFileDialog | None = None
        self.last_export: Path | None = None

        self.use_range = QCheckBox("From", self)
        self.use_range.setObjectName("useRange")
        now = QDateTime.currentDateTime()
        self.date_from = QDateTimeEdit(now.addDays(-1), self)
        self.date_from.setObjectName("historyFrom")
        self.date_to = QDateTimeEdit(now.addSecs(3600), self)
        self.date_to.setObjectName("historyTo")
        for edit in (self.date_from, self.date_to):
            edit.setDisplayFormat(EDIT_FORMAT)
            edit.setCalendarPopup(True)
            edit.setEnabled(False)
        self.use_range.toggled.connect(self.date_from.setEnabled)
        self.use_range.toggled.connect(self.date_to.setEnabled)
        self.room = QComboBox(self)
        self.room.setObjectName("historyRoom")
        self.room.addItem("All rooms", "")
        for space in context.spaces:
            self.room.addItem(context.room_label(space.id), space.id)
        self.priority = QComboBox(self)
        self.priority.setObjectName("historyPriority")
        self.priority.addItem("All priorities", "")
        for priority in PRIORITIES:
            self.priority.addItem(priority_text(priority), priority.value)
        self.kind = QComboBox(self)
        self.kind.setObjectName("historyKind")
        self.kind.addItem("All kinds", "")
        for kind in AlarmKind:
            self.kind.addItem(kind.value.replace("_", " "), kind.value)
        self.text = QLineEdit(self)
        self.text.setObjectName("historyText")
        self.text.setPlaceholderText("alarm, message or comment contains…")
        self.text.returnPressed.connect(self.reload)
        self.people_only = QCheckBox("People's actions only", self)
        self.people_only.setObjectName("peopleOnly")
        self.apply_button = QPushButton("Apply filters", self)
        self.apply_button.setObjectName("applyFilters")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.reload)
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setObjectName("exportCsv")
        self.export_button.clicked.connect(
            lambda: self.tasks.start(self._export(), name="export CSV")
        )

        filters = QGridLayout()
        filters.addWidget(self.use_range, 0, 0)
        filters.addWidget(self.date_from, 0, 1)
        filters.addWidget(QLabel("to", self), 0, 2)
        filters.addWidget(self.date_to, 0, 3)
        filters.addWidget(QLabel("Room:", self), 0, 4)
        filters.addWidget(self.room, 0, 5)
        filters.addWidget(QLabel("Priority:", self), 1, 0)
        filters.addWidget(self.priority, 1, 1)
        filters.addWidget(QLabel("Kind:", self), 1, 2)
        filters.addWidget(self.kind, 1, 3)
        filters.addWidget(QLabel("Text:", self), 1, 4)
        filters.addWidget(self.text, 1, 5)
        filters.addWidget(self.people_only, 0, 6)
        filters.setColumnStretch(7, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)

        self.model: ViewTableModel[AlarmEventView] = ViewTableModel(HISTORY_COLUMNS, self)
        self.table = make_table(self.model, self, max_column_width=420)
        self.table.setObjectName("alarmHistoryTable")
        self.summary = QLabel(self)
        self.summary.setObjectName("hint")
        self.message = MessageLabel(self)
        self.busy_bar = BusyBar("Working…", self)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_bar)
        self.resize(1400, 700)

    # -------------------------------------------------------------- filters

    def current_filters(self) -> HistoryFilters:
        filters: HistoryFilters = {}
        if self.use_range.isChecked():
            filters["since"] = to_utc(self.date_from.dateTime())
            filters["until"] = to_utc(self.date_to.dateTime())
        room = str(self.room.currentData() or "")
        if room:
            filters["room_id"] = room
        priority = str(self.priority.currentData() or "")
        if priority:
            filters["priority"] = Priority(priority)
        kind = str(self.kind.currentData() or "")
        if kind:
            filters["kind"] = AlarmKind(kind)
        text = self.text.text().strip()
        if text:
            filters["text"] = text
        if self.people_only.isChecked():
            filters["people_only"] = True
        return filters

    def reload(self) -> None:
        self.reloader.request()

    async def _load(self) -> None:
        filters = self.current_filters()
        self.busy_bar.show()
        try:
            rows = await self.context.call(self.service.history, limit=HISTORY_LIMIT, **filters)
        except Exception as error:
            self.message.show_error(error)
            return
        finally:
            self.busy_bar.hide()
        self.message.clear_message()
        self.model.set_rows(rows)
        more = " (the newest; narrow the filters)" if len(rows) >= HISTORY_LIMIT else ""
        self.summary.setText(
            f"{len(rows)} entries, newest first{more}. Times are local; UTC in the tooltip."
        )

    # -------------------------------------------------------------- export

    async def choose_export_path(self) -> Path | None:
        return await ask_save_path(
            self,
            title="Export the alarm history as CSV",
            object_name="exportDialog",
            stem="alarm-history",
            suffix="csv",
            track=self._track_dialog,
        )

    def _track_dialog(self, dialog: QFileDialog | None) -> None:
        self._file_dialog = dialog

    async def _export(self) -> None:
        session = self.context.session
        if session is None:
            return
        path = await self.choose_export_path()
        if path is None:
            return
        filters: dict[str, Any] = dict(self.current_filters())
        self.busy_bar.show()
        self.export_button.setEnabled(False)
        try:
            count = await self.context.call(
                self.service.export_history_csv, session, path, **filters
            )
        except Exception as error:
            self.message.show_error(error)
            return
        finally:
            self.busy_bar.hide()
            self.export_button.setEnabled(True)
        self.last_export = path
        self.message.show_message(f"Exported {count} entries (oldest first) to {path}.", "ok")

    def shutdown(self) -> None:
        if self._file_dialog is not None:
            self._file_dialog.reject()
        self.tasks.cancel_all()
