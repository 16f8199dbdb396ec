"""The audit trail viewer (Records → Audit trail…): filter, read, export, check the chain.

Annex 11 §9 and Part 11 §11.10(e): who did what, when (local time with the
offset; UTC in the tooltip), old and new value and why, for every change of
a GMP record. The trail can be exported as CSV for an inspector (the export
is itself audited) and its hash chain checked on demand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QWidget

from necstgen_desk.services import AuditFilters, AuditView, ChainReport, UserSession
from ui.forms import Column, MessageLabel, ViewTableModel
from ui.history_window import HistoryWindow
from ui.records_context import RecordsContext
from ui.timefmt import local_text, utc_text

log = logging.getLogger(__name__)

QUERY_LIMIT = 1000

#: Record types of the trail, with the words a reviewer uses.
RECORD_TYPES: dict[str, str] = {
    "room_status_entry": "Room status",
    "cleaning_record": "Cleaning",
    "cleaning_verification": "Cleaning verification",
    "gowning_record": "Gowning",
    "gowning_qualification": "Gowning qualification",
    "signature": "Signature",
    "user": "User account",
    "audit_trail": "Audit trail (views, exports)",
    "setting": "Setting",
    "alarm": "Alarm",
    "interlock": "Interlock (airlock)",
    "alarm_journal": "Alarm journal (exports)",
    "hist_archive": "Historian archive (raw data purge)",
}


def record_type_text(record_type: str) -> str:
    return RECORD_TYPES.get(record_type, record_type)


def _value(value: str | None) -> str:
    return "" if value is None else value


AUDIT_COLUMNS: list[Column[AuditView]] = [
    Column(
        "Time (local)",
        lambda e: local_text(e.at),
        lambda e: f"{utc_text(e.at)}\nentry {e.id}, hash {e.hash[:16]}…",
    ),
    Column("User", lambda e: e.username),
    Column("Action", lambda e: e.action),
    Column("Record type", lambda e: record_type_text(e.record_type), lambda e: e.record_type),
    Column("Record", lambda e: e.record_id),
    Column("Field", lambda e: e.field or ""),
    Column("Old value", lambda e: _value(e.old_value), lambda e: _value(e.old_value)),
    Column("New value", lambda e: _value(e.new_value), lambda e: _value(e.new_value)),
    Column("Reason", lambda e: e.reason, lambda e: e.reason),
]


class AuditTableModel(ViewTableModel[AuditView]):
    """The audit entries, newest first, one row each."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(AUDIT_COLUMNS, parent)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None
    username: str | None = None
    room_id: str | None = None
    record_type: str | None = None

    def as_filters(self) -> AuditFilters:
        return AuditFilters(
            since=self.since,
            until=self.until,
            username=self.username,
            room_id=self.room_id,
            record_type=self.record_type,
        )


def chain_text(report: ChainReport) -> str:
    """The chain check in words: the verifier's own message, and what to do."""
    if report.ok:
        return report.message
    return (
        f"{report.message} The {report.entries_checked} entries before it are intact. "
        "The audit trail was altered outside NECSTGEN Desk: report this to QA."
    )


class AuditViewer(HistoryWindow[AuditView]):
    """Filters, the entries table, CSV export and the chain check."""

    def __init__(self, context: RecordsContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            AuditTableModel(),
            what="audit trail",
            object_name="auditViewer",
            range_names=("auditFrom", "auditTo"),
            days_back=7,
            limit=QUERY_LIMIT,
            parent=parent,
        )
        self._users: set[str] = set()
        self.report: ChainReport | None = None
        self.user = QComboBox(self)
        self.user.setObjectName("userFilter")
        self.user.setEditable(True)
        self.user.addItem("")
        editor = self.user.lineEdit()
        if editor is not None:
            editor.setPlaceholderText("all users")
        self.room = self.room_box("roomFilter")
        self.record_type = QComboBox(self)
        self.record_type.setObjectName("recordTypeFilter")
        self.record_type.addItem("All record types", "")
        for key, text in RECORD_TYPES.items():
            self.record_type.addItem(text, key)
        self.verify_button = QPushButton("Verify chain", self)
        self.verify_button.setObjectName("verifyChain")
        self.verify_button.clicked.connect(
            lambda: self.tasks.start(self._verify(), name="verify chain")
        )

        filters = self.filters
        filters.addWidget(QLabel("User:", self), 0, 4)
        filters.addWidget(self.user, 0, 5)
        filters.addWidget(QLabel("Room:", self), 1, 0)
        filters.addWidget(self.room, 1, 1, 1, 3)
        filters.addWidget(QLabel("Record type:", self), 1, 4)
        filters.addWidget(self.record_type, 1, 5)
        filters.setColumnStretch(6, 1)
        self.buttons.insertWidget(self.buttons.indexOf(self.export_button), self.verify_button)
        self.table.setObjectName("auditTable")
        self.chain = MessageLabel(self)
        self.chain.setObjectName("chainReport")
        self.add_above_message(self.chain)

    # -------------------------------------------------------------- filters

    def current_filter(self) -> AuditFilter:
        since, until = self.date_range()
        user = self.user.currentText().strip()
        room = str(self.room.currentData() or "")
        record_type = str(self.record_type.currentData() or "")
        return AuditFilter(since, until, user or None, room or None, record_type or None)

    async def fetch(self) -> list[AuditView] | None:
        session = self.context.session
        if session is None:
            return None
        where = self.current_filter()
        return await self.context.call(
            self.context.records.audit.query, session, **where.as_filters(), limit=QUERY_LIMIT
        )

    def loaded(self, rows: list[AuditView]) -> None:
        new = {row.username for row in rows} - self._users
        if not new:
            return
        self._users |= new
        current = self.user.currentText()
        self.user.blockSignals(True)
        self.user.clear()
        self.user.addItem("")
        self.user.addItems(sorted(self._users))
        self.user.setEditText(current)
        self.user.blockSignals(False)

    # -------------------------------------------------------------- export and chain

    async def export_to(self, session: UserSession, path: Path) -> int:
        where = self.current_filter()
        return await self.context.call(
            self.context.records.audit.export_csv, session, path, **where.as_filters()
        )

    def exported(self, path: Path) -> None:
        self.reload()  # the export is itself in the trail

    async def _verify(self) -> None:
        self.busy_bar.show()
        self.verify_button.setEnabled(False)
        try:
            report = await self.context.call(self.context.records.audit.verify)
        except Exception as error:
            self.chain.show_error(error)
            return
        finally:
            self.busy_bar.hide()
            self.verify_button.setEnabled(True)
        self.report = report
        self.chain.show_message(chain_text(report), "ok" if report.ok else "error")
        if not report.ok:
            log.critical("audit chain check from the viewer: %s", report.message)
