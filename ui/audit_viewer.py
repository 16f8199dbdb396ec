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

from PySide6.QtCore import QDateTime, QObject, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from necstgen_desk.services import AuditFilters, AuditView, ChainReport
from ui.forms import BusyBar, Column, MessageLabel, ViewTableModel, ask_save_path, make_table
from ui.records_context import RecordsContext
from ui.timefmt import EDIT_FORMAT, local_text, to_utc, utc_text
from ui.worker import Reloader, TaskSet

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


class AuditViewer(QWidget):
    """Filters, the entries table, CSV export and the chain check."""

    def __init__(self, context: RecordsContext, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("auditViewer")
        self.setWindowTitle(f"Audit trail — {context.site.name} — NECSTGEN Desk")
        self.context = context
        self.tasks = TaskSet("audit viewer")
        self.reloader = Reloader(self.tasks, self._load, "load audit trail")
        self._users: set[str] = set()
        self._file_dialog: QFileDialog | None = None
        self.last_export: Path | None = None
        self.report: ChainReport | None = None

        self.use_range = QCheckBox("From", self)
        self.use_range.setObjectName("useRange")
        now = QDateTime.currentDateTime()
        self.date_from = QDateTimeEdit(now.addDays(-7), self)
        self.date_from.setObjectName("auditFrom")
        self.date_to = QDateTimeEdit(now.addSecs(3600), self)
        self.date_to.setObjectName("auditTo")
        for edit in (self.date_from, self.date_to):
            edit.setDisplayFormat(EDIT_FORMAT)
            edit.setCalendarPopup(True)
            edit.setEnabled(False)
        self.use_range.toggled.connect(self.date_from.setEnabled)
        self.use_range.toggled.connect(self.date_to.setEnabled)
        self.user = QComboBox(self)
        self.user.setObjectName("userFilter")
        self.user.setEditable(True)
        self.user.addItem("")
        editor = self.user.lineEdit()
        if editor is not None:
            editor.setPlaceholderText("all users")
        self.room = QComboBox(self)
        self.room.setObjectName("roomFilter")
        self.room.addItem("All rooms", "")
        for space in context.spaces:
            self.room.addItem(context.room_label(space.id), space.id)
        self.record_type = QComboBox(self)
        self.record_type.setObjectName("recordTypeFilter")
        self.record_type.addItem("All record types", "")
        for key, text in RECORD_TYPES.items():
            self.record_type.addItem(text, key)
        self.apply_button = QPushButton("Apply filters", self)
        self.apply_button.setObjectName("applyFilters")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.reload)
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setObjectName("exportCsv")
        self.export_button.clicked.connect(
            lambda: self.tasks.start(self._export(), name="export CSV")
        )
        self.verify_button = QPushButton("Verify chain", self)
        self.verify_button.setObjectName("verifyChain")
        self.verify_button.clicked.connect(
            lambda: self.tasks.start(self._verify(), name="verify chain")
        )

        filters = QGridLayout()
        filters.addWidget(self.use_range, 0, 0)
        filters.addWidget(self.date_from, 0, 1)
        filters.addWidget(QLabel("to", self), 0, 2)
        filters.addWidget(self.date_to, 0, 3)
        filters.addWidget(QLabel("User:", self), 0, 4)
        filters.addWidget(self.user, 0, 5)
        filters.addWidget(QLabel("Room:", self), 1, 0)
        filters.addWidget(self.room, 1, 1, 1, 3)
        filters.addWidget(QLabel("Record type:", self), 1, 4)
        filters.addWidget(self.record_type, 1, 5)
        filters.setColumnStretch(6, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addStretch(1)
        buttons.addWidget(self.verify_button)
        buttons.addWidget(self.export_button)

        self.model = AuditTableModel(self)
        self.table = make_table(self.model, self)
        self.table.setObjectName("auditTable")
        self.summary = QLabel(self)
        self.summary.setObjectName("hint")
        self.chain = MessageLabel(self)
        self.chain.setObjectName("chainReport")
        self.message = MessageLabel(self)
        self.busy_bar = BusyBar("Working…", self)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.chain)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_bar)
        self.resize(1400, 700)

    # -------------------------------------------------------------- filters

    def current_filter(self) -> AuditFilter:
        since = until = None
        if self.use_range.isChecked():
            since = to_utc(self.date_from.dateTime())
            until = to_utc(self.date_to.dateTime())
        user = self.user.currentText().strip()
        room = str(self.room.currentData() or "")
        record_type = str(self.record_type.currentData() or "")
        return AuditFilter(since, until, user or None, room or None, record_type or None)

    def reload(self) -> None:
        self.reloader.request()

    async def _load(self) -> None:
        session = self.context.session
        if session is None:
            return
        where = self.current_filter()
        self.busy_bar.show()
        try:
            rows = await self.context.call(
                self.context.records.audit.query,
                session,
                since=where.since,
                until=where.until,
                username=where.username,
                room_id=where.room_id,
                record_type=where.record_type,
                limit=QUERY_LIMIT,
            )
        except Exception as error:
            self.message.show_error(error)
            return
        finally:
            self.busy_bar.hide()
        if self.message.severity == "error":  # a reload clears a failure, not a fresh result
            self.message.clear_message()
        self.model.set_rows(rows)
        self._remember_users(rows)
        more = (
            " (the newest; narrow the filters to see older ones)"
            if len(rows) >= QUERY_LIMIT
            else ""
        )
        self.summary.setText(
            f"{len(rows)} entries, newest first{more}. Times are local; UTC in the tooltip."
        )

    def _remember_users(self, rows: list[AuditView]) -> None:
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

    async def choose_export_path(self) -> Path | None:
        """Ask where to save (a non-modal-loop file dialog, awaited)."""
        return await ask_save_path(
            self,
            title="Export the audit trail as CSV",
            object_name="exportDialog",
            stem="audit-trail",
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
        where = self.current_filter()
        self.busy_bar.show()
        self.export_button.setEnabled(False)
        try:
            count = await self.context.call(
                self.context.records.audit.export_csv, session, path, **where.as_filters()
            )
        except Exception as error:
            self.message.show_error(error)
            return
        finally:
            self.busy_bar.hide()
            self.export_button.setEnabled(True)
        self.message.show_message(f"Exported {count} entries (oldest first) to {path}.", "ok")
        self.last_export = path
        self.reload()

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

    def shutdown(self) -> None:
        if self._file_dialog is not None:
            self._file_dialog.reject()
        self.tasks.cancel_all()
