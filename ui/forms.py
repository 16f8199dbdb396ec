"""Building blocks of the records screens: dialogs that wait without freezing,
messages in plain words, and table models over the services' views.

A dialog's OK runs a service call on the worker thread (:class:`AsyncDialog`):
the form greys out and a busy bar runs while it waits; a refusal is shown in
the dialog, in the words of the rule that refused it, and the dialog stays
open so the person can fix it; only a saved record closes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QStandardPaths,
    Qt,
)
from PySide6.QtGui import QCloseEvent, QColor, QFont, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from necstgen_desk.records.errors import (
    AuthenticationError,
    PermissionDenied,
    RecordError,
    RuleViolation,
    SignatureError,
)
from necstgen_desk.storage.errors import StorageEnvironmentError, StorageError
from ui.worker import TaskSet, WorkerClosed

log = logging.getLogger(__name__)

type Index = QModelIndex | QPersistentModelIndex


class InputProblem(Exception):
    """The form itself is incomplete (checked before any service call)."""


# ------------------------------------------------------------------ messages


def error_text(error: BaseException) -> str:
    """What to tell the person about ``error``: the rule's own words, or what to do."""
    if isinstance(error, RuleViolation):
        if len(error.reasons) == 1:
            return f"{error.rule}: {error.reasons[0]}."
        return f"{error.rule}:\n" + "\n".join(f"• {r}" for r in error.reasons)
    if isinstance(error, PermissionDenied | AuthenticationError | SignatureError | RecordError):
        return str(error)
    if isinstance(error, InputProblem):
        return str(error)
    if isinstance(error, StorageEnvironmentError):
        return f"{error}\nNothing was saved. Try again, or call IT if it persists."
    if isinstance(error, WorkerClosed):
        return "The application is closing; nothing was saved."
    if isinstance(error, StorageError):
        return f"The database refused the change: {error}\nNothing was saved."
    return (
        f"An unexpected error stopped this ({type(error).__name__}); nothing was saved. "
        "Details are in the log."
    )


def is_expected(error: BaseException) -> bool:
    """Refusals and environment problems; anything else is a bug worth a traceback."""
    return isinstance(
        error, RecordError | InputProblem | StorageEnvironmentError | WorkerClosed | StorageError
    )


_SHAPES: dict[str, str] = {"error": "✕", "ok": "✓", "info": "ℹ"}


class MessageLabel(QLabel):
    """A message in a form: ✕ a refusal, ✓ done, ℹ information; empty hides it.

    ``severity`` is a Qt property the stylesheet keys on ('error', 'ok', 'info').
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("formMessage")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setProperty("severity", "")
        self.message = ""
        self.hide()

    def show_message(self, text: str, severity: str = "info") -> None:
        self.message = text
        if not text:
            self.clear_message()
            return
        self.setText(f"{_SHAPES.get(severity, '')} {text}".strip())
        self.setProperty("severity", severity)
        self.style().unpolish(self)
        self.style().polish(self)
        self.show()

    def show_error(self, error: BaseException | str) -> None:
        self.show_message(error if isinstance(error, str) else error_text(error), "error")

    def clear_message(self) -> None:
        self.message = ""
        self.setText("")
        self.setProperty("severity", "")
        self.hide()

    @property
    def severity(self) -> str:
        return str(self.property("severity") or "")


class BusyBar(QWidget):
    """'Working…' and a running bar while a call runs (hidden otherwise)."""

    def __init__(self, text: str = "Working…", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("busyBar")
        self.label = QLabel(text, self)
        self.label.setObjectName("busyText")
        self.bar = QProgressBar(self)
        self.bar.setObjectName("busyProgress")
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(10)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar, 1)
        self.hide()


# ------------------------------------------------------------------ dialogs


async def run_dialog(dialog: QDialog) -> bool:
    """Open ``dialog`` window-modal and wait (without a nested event loop) for it to
    close; True when accepted. The dialog is deleted afterwards, also on cancel."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()

    def finished(result: int) -> None:
        if not done.done():
            done.set_result(result)

    dialog.finished.connect(finished)
    dialog.open()
    try:
        return await done == QDialog.DialogCode.Accepted.value
    finally:
        dialog.finished.disconnect(finished)
        if isinstance(dialog, AsyncDialog):
            dialog.force_close()
        elif dialog.isVisible():
            dialog.reject()
        dialog.deleteLater()


class AsyncDialog[R](QDialog):
    """A form whose OK awaits :meth:`submit` (a service call on the worker).

    While it waits the form is disabled and a busy bar runs; a refusal shows
    in :attr:`message` and the form stays open; success stores the result in
    :attr:`value` and accepts. Cancel and Escape are refused while a call runs:
    the call cannot be taken back, so its outcome must be seen.
    """

    def __init__(
        self,
        title: str,
        parent: QWidget | None = None,
        *,
        ok_text: str = "OK",
        cancel_text: str = "Cancel",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName(type(self).__name__)
        self.tasks = TaskSet(type(self).__name__)
        self.value: R | None = None
        self._busy = False

        self.body = QWidget(self)
        self.body.setObjectName("dialogBody")
        self.message = MessageLabel(self)
        self.busy_bar = BusyBar(parent=self)
        self.buttons = QDialogButtonBox(self)
        self.ok_button = QPushButton(ok_text, self)
        self.ok_button.setObjectName("okButton")
        self.ok_button.setDefault(True)
        self.cancel_button = QPushButton(cancel_text, self)
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setAutoDefault(False)
        self.buttons.addButton(self.ok_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self._submit_clicked)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.body)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_bar)
        layout.addWidget(self.buttons)

    # -------------------------------------------------------------- the call

    async def submit(self) -> R:
        """Check the form and make the service call; raise to refuse."""
        raise NotImplementedError

    def failed(self, error: BaseException) -> None:
        """Called after a refusal is shown (e.g. to clear a password field)."""

    @property
    def busy(self) -> bool:
        return self._busy

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.body.setEnabled(not busy)
        self.ok_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)
        self.busy_bar.setVisible(busy)
        self.setProperty("busy", busy)
        if busy:
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()

    def _submit_clicked(self) -> None:
        if self._busy:
            return
        self.tasks.start(self._run(), name="submit")

    async def _run(self) -> None:
        self.message.clear_message()
        self.set_busy(True)
        try:
            value = await self.submit()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if not is_expected(error):
                log.error("%s: unexpected error", self.windowTitle(), exc_info=error)
            self.set_busy(False)
            self.message.show_error(error)
            self.failed(error)
            self.fit_height()
            return
        self.set_busy(False)
        self.value = value
        self.accept()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_height()

    def fit_height(self) -> None:
        """Take the height every wrapped line needs at the current width (after a
        message or a text change: layouts do not apply height-for-width to windows)."""
        layout = self.layout()
        if layout is None or not self.isVisible():
            return
        layout.activate()
        needed = max(layout.totalHeightForWidth(self.width()), layout.totalMinimumSize().height())
        if needed != self.height():
            self.resize(self.width(), needed)

    # -------------------------------------------------------------- closing

    def reject(self) -> None:
        if self._busy:
            return
        super().reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._busy and event.key() == Qt.Key.Key_Escape:
            event.accept()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._busy:
            event.ignore()
            return
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)

    def force_close(self) -> None:
        """Close even while busy (the screen is locking or the app is closing)."""
        if self.isVisible():
            self._busy = False
            super().reject()


def need_reason(field: QLineEdit) -> str:
    """The reason typed in ``field``; refuses a blank one (every change says why)."""
    reason = field.text().strip()
    if not reason:
        field.setFocus()
        raise InputProblem("Give a reason: every change is recorded with who, when and why.")
    return reason


class ReasonDialog[R](AsyncDialog[R]):
    """One administration step that needs nothing but a reason."""

    def __init__(
        self,
        title: str,
        question: str,
        act: Callable[[str], Awaitable[R]],
        parent: QWidget | None = None,
        *,
        ok_text: str = "OK",
    ) -> None:
        super().__init__(title, parent, ok_text=ok_text)
        self._act = act
        self.reason = QLineEdit(self.body)
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText("why (recorded in the audit trail)")
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        question_label = QLabel(question, self.body)
        question_label.setWordWrap(True)
        layout.addWidget(question_label)
        form = QFormLayout()
        form.addRow("Reason:", self.reason)
        layout.addLayout(form)
        self.reason.setFocus()
        self.setMinimumWidth(440)

    async def submit(self) -> R:
        return await self._act(need_reason(self.reason))


# ------------------------------------------------------------------ tables


@dataclass(frozen=True, slots=True)
class Column[T]:
    """One column of a :class:`ViewTableModel`: its title and how a row shows in it."""

    title: str
    text: Callable[[T], str]
    tooltip: Callable[[T], str] | None = None
    align_right: bool = False


_MUTED = QColor("#5d6165")


class ViewTableModel[T](QAbstractTableModel):
    """Read-only rows of frozen views; ``muted(row)`` greys and italicises a row
    (a superseded version, a disabled account) — still visible, never hidden."""

    def __init__(
        self,
        columns: Sequence[Column[T]],
        parent: QObject | None = None,
        *,
        muted: Callable[[T], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._rows: list[T] = []
        self._muted = muted
        self._italic = QFont()
        self._italic.setItalic(True)

    def set_rows(self, rows: Sequence[T]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    @property
    def rows(self) -> list[T]:
        return list(self._rows)

    def row_at(self, row: int) -> T:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(row) if column.tooltip is not None else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column.align_right:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if self._muted is not None and self._muted(row):
            if role == Qt.ItemDataRole.ForegroundRole:
                return _MUTED
            if role == Qt.ItemDataRole.FontRole:
                return self._italic
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        return None

    def column_texts(self, title: str) -> list[str]:
        """Every row's text in the column ``title`` (what the person reads there)."""
        column = next(c for c in self.columns if c.title == title)
        return [column.text(r) for r in self._rows]


def make_table(
    model: QAbstractTableModel, parent: QWidget | None = None, *, max_column_width: int = 300
) -> QTableView:
    """A read-only table that selects whole rows, one at a time; columns fit their
    contents up to ``max_column_width`` (the full text is in the tooltip)."""
    view = QTableView(parent)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    rows = view.verticalHeader()
    rows.hide()
    rows.setDefaultSectionSize(view.fontMetrics().height() + 8)
    header = view.horizontalHeader()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    def fit_columns() -> None:
        view.resizeColumnsToContents()
        for column in range(model.columnCount()):
            if header.sectionSize(column) > max_column_width:
                header.resizeSection(column, max_column_width)

    model.modelReset.connect(fit_columns)
    return view


def selected_row(view: QTableView) -> int | None:
    rows = view.selectionModel().selectedRows()
    return rows[0].row() if rows else None


async def ask_save_path(
    parent: QWidget,
    *,
    title: str,
    object_name: str,
    stem: str,
    suffix: str,
    track: Callable[[QFileDialog | None], None],
) -> Path | None:
    """Ask where to save a file, awaited without a nested event loop.

    The dialog is Qt's own (the same on every desktop and offscreen), opens in
    the Documents folder with ``<stem>-<local time>.<suffix>`` proposed, and is
    handed to ``track`` while open (so its owner can reject it on close or
    lock) and ``None`` after.
    """
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    dialog = QFileDialog(parent, title)
    dialog.setObjectName(object_name)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    dialog.setNameFilter(f"{suffix.upper()} files (*.{suffix})")
    dialog.setDefaultSuffix(suffix)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if folder:
        dialog.setDirectory(folder)
    dialog.selectFile(f"{stem}-{stamp}.{suffix}")
    track(dialog)
    done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        if not done.done():
            done.set_result(result == QFileDialog.DialogCode.Accepted.value)

    dialog.finished.connect(finished)
    dialog.open()
    try:
        accepted = await done
        files = dialog.selectedFiles()
    finally:
        track(None)
        dialog.finished.disconnect(finished)
        if dialog.isVisible():
            dialog.reject()
        dialog.deleteLater()
    return Path(files[0]) if accepted and files else None
