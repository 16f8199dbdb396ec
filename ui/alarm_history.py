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

from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QWidget

from necstgen_desk.alarms.model import AlarmKind
from necstgen_desk.alarms.service import AlarmEventView, AlarmService, HistoryFilters
from necstgen_desk.services import UserSession
from necstgen_desk.site.model import Priority
from ui.alarm_look import PRIORITIES, STATE_WORDS, priority_text
from ui.forms import Column, ViewTableModel
from ui.history_window import HistoryWindow
from ui.records_context import RecordsContext
from ui.timefmt import local_text, utc_text

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


class AlarmHistoryWindow(HistoryWindow[AlarmEventView]):
    """Filters, the journal entries, and the CSV export."""

    def __init__(
        self, context: RecordsContext, service: AlarmService, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            context,
            ViewTableModel(HISTORY_COLUMNS),
            what="alarm history",
            object_name="alarmHistory",
            range_names=("historyFrom", "historyTo"),
            days_back=1,
            limit=HISTORY_LIMIT,
            parent=parent,
            max_column_width=420,
        )
        self.service = service
        self.room = self.room_box("historyRoom")
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

        filters = self.filters
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
        self.table.setObjectName("alarmHistoryTable")

    def current_filters(self) -> HistoryFilters:
        filters: HistoryFilters = {}
        since, until = self.date_range()
        if since is not None and until is not None:
            filters["since"] = since
            filters["until"] = until
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

    async def fetch(self) -> list[AlarmEventView]:
        filters = self.current_filters()
        return await self.context.call(self.service.history, limit=HISTORY_LIMIT, **filters)

    async def export_to(self, session: UserSession, path: Path) -> int:
        filters: dict[str, Any] = dict(self.current_filters())
        return await self.context.call(self.service.export_history_csv, session, path, **filters)
