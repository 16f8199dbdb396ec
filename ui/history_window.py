"""A filtered history window: a date range, the window's own filters, Apply, a table
newest first, and a CSV export of what the filters match (itself audited).

The audit viewer and the alarm history are both this: the base builds the
shared parts and runs the reads and the export on the records' worker; a
subclass adds its filter widgets to :attr:`HistoryWindow.filters` (the range
takes row 0, columns 0-3) and says how to read (:meth:`fetch`) and export
(:meth:`export_to`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
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

from necstgen_desk.services import UserSession
from ui.forms import BusyBar, MessageLabel, ViewTableModel, ask_save_path, make_table
from ui.records_context import RecordsContext
from ui.timefmt import EDIT_FORMAT, now_local, to_utc
from ui.worker import Reloader, TaskSet


class HistoryWindow[R](QWidget):
    """The shared frame (module docstring). ``what`` names the history in titles,
    task names and the export's file name ("audit trail" → ``audit-trail-….csv``)."""

    def __init__(
        self,
        context: RecordsContext,
        model: ViewTableModel[R],
        *,
        what: str,
        object_name: str,
        range_names: tuple[str, str],
        days_back: int,
        limit: int,
        parent: QWidget | None = None,
        max_column_width: int = 300,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName(object_name)
        self.setWindowTitle(f"{what.capitalize()} — {context.site.name} — NECSTGEN Desk")
        self.context = context
        self.what = what
        self.limit = limit
        self.tasks = TaskSet(what)
        self.reloader = Reloader(self.tasks, self._load, f"load {what}")
        self._file_dialog: QFileDialog | None = None
        self.last_export: Path | None = None

        self.use_range = QCheckBox("From", self)
        self.use_range.setObjectName("useRange")
        now = now_local()
        self.date_from = QDateTimeEdit(now.addDays(-days_back), self)
        self.date_from.setObjectName(range_names[0])
        self.date_to = QDateTimeEdit(now.addSecs(3600), self)
        self.date_to.setObjectName(range_names[1])
        for edit in (self.date_from, self.date_to):
            edit.setDisplayFormat(EDIT_FORMAT)
            edit.setCalendarPopup(True)
            edit.setEnabled(False)
        self.use_range.toggled.connect(self.date_from.setEnabled)
        self.use_range.toggled.connect(self.date_to.setEnabled)
        self.apply_button = QPushButton("Apply filters", self)
        self.apply_button.setObjectName("applyFilters")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.reload)
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setObjectName("exportCsv")
        self.export_button.clicked.connect(
            lambda: self.tasks.start(self._export(), name="export CSV")
        )

        self.filters = QGridLayout()
        self.filters.addWidget(self.use_range, 0, 0)
        self.filters.addWidget(self.date_from, 0, 1)
        self.filters.addWidget(QLabel("to", self), 0, 2)
        self.filters.addWidget(self.date_to, 0, 3)
        self.buttons = QHBoxLayout()
        self.buttons.addWidget(self.apply_button)
        self.buttons.addStretch(1)
        self.buttons.addWidget(self.export_button)

        self.model = model
        self.table = make_table(model, self, max_column_width=max_column_width)
        self.summary = QLabel(self)
        self.summary.setObjectName("hint")
        self.message = MessageLabel(self)
        self.busy_bar = BusyBar("Working…", self)
        self._layout = QVBoxLayout(self)
        self._layout.addLayout(self.filters)
        self._layout.addLayout(self.buttons)
        self._layout.addWidget(self.table, 1)
        self._layout.addWidget(self.summary)
        self._layout.addWidget(self.message)
        self._layout.addWidget(self.busy_bar)
        self.resize(1400, 700)

    def room_box(self, object_name: str) -> QComboBox:
        """A room filter: "All rooms" (data "") and every space of the site."""
        box = QComboBox(self)
        box.setObjectName(object_name)
        box.addItem("All rooms", "")
        for space in self.context.spaces:
            box.addItem(self.context.room_label(space.id), space.id)
        return box

    def add_above_message(self, widget: QWidget) -> None:
        """A line of the subclass's own between the summary and the message."""
        self._layout.insertWidget(self._layout.indexOf(self.message), widget)

    # -------------------------------------------------------------- what a subclass says

    async def fetch(self) -> list[R] | None:
        """The rows the filters match, newest first, at most :attr:`limit` (None: nothing
        to show now, e.g. nobody is logged in)."""
        raise NotImplementedError

    async def export_to(self, session: UserSession, path: Path) -> int:
        """Write what the filters match to ``path``; how many entries."""
        raise NotImplementedError

    def exported(self, path: Path) -> None:
        """After a successful export (the audit viewer shows its own entry)."""

    # -------------------------------------------------------------- reading

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        """The range as aware UTC datetimes, or (None, None) when not used."""
        if not self.use_range.isChecked():
            return None, None
        return to_utc(self.date_from.dateTime()), to_utc(self.date_to.dateTime())

    def reload(self) -> None:
        self.reloader.request()

    async def _load(self) -> None:
        self.busy_bar.show()
        try:
            rows = await self.fetch()
        except Exception as error:
            self.message.show_error(error)
            return
        finally:
            self.busy_bar.hide()
        if rows is None:
            return
        if self.message.severity == "error":  # a reload clears a failure, not a fresh result
            self.message.clear_message()
        self.model.set_rows(rows)
        self.loaded(rows)
        more = (
            " (the newest; narrow the filters to see older ones)" if len(rows) >= self.limit else ""
        )
        self.summary.setText(
            f"{len(rows)} entries, newest first{more}. Times are local; UTC in the tooltip."
        )

    def loaded(self, rows: list[R]) -> None:
        """After the rows are shown (the audit viewer learns the user names)."""

    # -------------------------------------------------------------- export

    async def choose_export_path(self) -> Path | None:
        """Ask where to save (a non-modal-loop file dialog, awaited)."""
        return await ask_save_path(
            self,
            title=f"Export the {self.what} as CSV",
            object_name="exportDialog",
            stem=self.what.replace(" ", "-"),
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
        self.busy_bar.show()
        self.export_button.setEnabled(False)
        try:
            count = await self.export_to(session, path)
        except Exception as error:
            self.message.show_error(error)
            return
        finally:
            self.busy_bar.hide()
            self.export_button.setEnabled(True)
        self.message.show_message(f"Exported {count} entries (oldest first) to {path}.", "ok")
        self.last_export = path
        self.exported(path)

    def shutdown(self) -> None:
        if self._file_dialog is not None:
            self._file_dialog.reject()
        self.tasks.cancel_all()
