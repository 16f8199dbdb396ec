"""The Interlocks view: every airlock, its doors, its state, its latched fault and history.

Maintenance acknowledges a latched interlock fault here — a comment, then
the electronic signature ("acknowledged") — and then resets it: a
confirmation that names what will be written (the airlock's reset coil, the
one write NECSTGEN Desk makes to a PLC), the write, and what the next scan
showed (cleared, or kept latched because its cause is still there). The
service refuses a reset before the acknowledgement and while a cause is
visible (a door open); every step, refusals included, is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QFont, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hal.poller import CoilWriteError
from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.interlocks import ResetOutcome, reset_refusal
from necstgen_desk.alarms.model import AlarmChange, DoorStatus, InterlockStatus
from necstgen_desk.alarms.service import AlarmEventView, AlarmService, ResetOrder
from necstgen_desk.records.roles import Permission
from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.services import SignatureRequest
from necstgen_desk.site.model import InterlockKind, Site
from ui.alarm_look import PRIORITIES, PRIORITY_WORDS, STATE_WORDS, priority_icon
from ui.forms import (
    AsyncDialog,
    Column,
    Index,
    InputProblem,
    MessageLabel,
    ViewTableModel,
    make_table,
    run_dialog,
    selected_row,
)
from ui.records_context import RecordsContext
from ui.signature_dialog import SignatureDialog
from ui.timefmt import local_text, utc_text
from ui.worker import Reloader, TaskSet

log = logging.getLogger(__name__)

REFRESH_MS = 500
_RANK = {p: i for i, p in enumerate(PRIORITIES)}


def door_text(door: DoorStatus | None) -> str:
    if door is None:
        return "—"
    if door.open is None:
        return f"? {door.door_id} unknown"
    return f"{door.door_id} {'OPEN' if door.open else 'closed'}"


def state_text(status: InterlockStatus) -> str:
    """✓ OK, ✕ FAULT … (unacknowledged / acknowledged: reset due), ? unknown."""
    if status.fault_code is None:
        return "? fault state unknown"
    if not status.latched:
        return "✓ OK"
    if status.acknowledged:
        return "✕ FAULT — acknowledged, reset due"
    return "✕ FAULT — unacknowledged"


def fault_label(status: InterlockStatus) -> str:
    if not status.latched:
        return ""
    return f"F{status.fault_code} {status.fault_text}"


def _alarm_text(status: InterlockStatus) -> str:
    """``HIGH UNACK`` (the shape is the cell's icon)."""
    return "; ".join(f"{PRIORITY_WORDS[a.priority]} {STATE_WORDS[a.state]}" for a in status.alarms)


class InterlockModel(ViewTableModel[InterlockStatus]):
    def __init__(self, site: Site, parent: QObject | None = None) -> None:
        kinds = {a.id: a.interlock for a in site.airlocks}

        def kind(s: InterlockStatus) -> str:
            interlocked = kinds.get(s.airlock_id) is InterlockKind.INTERLOCKED
            return "interlocked (Grade B)" if interlocked else "warning only (C/D)"

        columns: list[Column[InterlockStatus]] = [
            Column("Airlock", lambda s: s.airlock_id),
            Column("Interlock", kind),
            Column("Outer door", lambda s: door_text(s.doors[0] if s.doors else None)),
            Column("Inner door", lambda s: door_text(s.doors[1] if len(s.doors) > 1 else None)),
            Column("State", state_text),
            Column("Latched fault", fault_label),
            Column("Cause now", lambda s: s.cause_present or ("none seen" if s.latched else "")),
            Column("Alarm", _alarm_text),
        ]
        super().__init__(columns, parent)
        self._bold = QFont()
        self._bold.setBold(True)
        self._alarm_column = len(columns) - 1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """A latched fault reads bold; its alarm carries the priority's shape."""
        if index.isValid() and 0 <= index.row() < self.rowCount():
            status = self.row_at(index.row())
            if role == Qt.ItemDataRole.FontRole and status.latched:
                return self._bold
            if (
                role == Qt.ItemDataRole.DecorationRole
                and index.column() == self._alarm_column
                and status.alarms
            ):
                worst = min(status.alarms, key=lambda a: _RANK[a.priority])
                unacked = any(a.state.needs_acknowledgement for a in status.alarms)
                return priority_icon(worst.priority, filled=unacked)
        return super().data(index, role)


HISTORY_COLUMNS: list[Column[AlarmEventView]] = [
    Column("Time (local)", lambda e: local_text(e.at), lambda e: utc_text(e.at)),
    Column("Fault", lambda e: e.alarm_id.rpartition("/fault/")[2].replace("_", " ")),
    Column("Event", lambda e: e.event.value.replace("_", " ")),
    Column("State", lambda e: f"{STATE_WORDS[e.from_state]} → {STATE_WORDS[e.to_state]}"),
    Column("By", lambda e: e.username or "system"),
    Column("Comment", lambda e: e.comment or "", lambda e: e.comment or ""),
    Column("Message", lambda e: e.message, lambda e: e.message),
]


class CommentDialog(AsyncDialog[str]):
    """A comment before a signature (what maintenance found and did)."""

    def __init__(self, title: str, question: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent, ok_text="Continue to sign…")
        heading = QLabel(title, self.body)
        heading.setObjectName("dialogTitle")
        text = QLabel(question, self.body)
        text.setWordWrap(True)
        self.comment = QLineEdit(self.body)
        self.comment.setObjectName("comment")
        self.comment.setPlaceholderText("what you found and did (recorded and signed)")
        form = QFormLayout()
        form.addRow("Comment:", self.comment)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading)
        layout.addWidget(text)
        layout.addLayout(form)
        self.comment.setFocus()
        self.setMinimumWidth(520)

    async def submit(self) -> str:
        comment = self.comment.text().strip()
        if not comment:
            raise InputProblem("Give a comment: it is recorded with your signature.")
        return comment


class ResetDialog(AsyncDialog[ResetOutcome]):
    """The confirmation of a reset: what is written where, a comment, then the write."""

    def __init__(
        self,
        context: RecordsContext,
        service: AlarmService,
        status: InterlockStatus,
        coil: tuple[str, int] | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(f"Reset interlock {status.airlock_id}", parent, ok_text="Write reset")
        self.context = context
        self.service = service
        self.airlock_id = status.airlock_id
        self.order: ResetOrder | None = None
        heading = QLabel(f"Reset the interlock fault of {status.airlock_id}?", self.body)
        heading.setObjectName("dialogTitle")
        where = f"coil {coil[1]} on PLC {coil[0]}" if coil is not None else "no reset coil is known"
        text = QLabel(
            f"Latched fault: {fault_label(status)}.\n"
            f"This writes the airlock's reset ({where}) — the only write NECSTGEN Desk makes "
            "to a PLC. The PLC clears the fault only if its cause is gone; the reset is "
            "recorded in the audit trail before it is written.",
            self.body,
        )
        text.setObjectName("resetExplanation")
        text.setWordWrap(True)
        self.comment = QLineEdit(self.body)
        self.comment.setObjectName("comment")
        self.comment.setPlaceholderText("why it is safe to reset (recorded in the audit trail)")
        form = QFormLayout()
        form.addRow("Comment:", self.comment)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading)
        layout.addWidget(text)
        layout.addLayout(form)
        self.comment.setFocus()
        self.setMinimumWidth(560)

    async def submit(self) -> ResetOutcome:
        comment = self.comment.text().strip()
        if not comment:
            raise InputProblem("Give a comment: every reset is recorded with it.")
        session = self.context.require_session()
        service = self.service
        order = await self.context.call(service.request_reset, session, self.airlock_id, comment)
        self.order = order
        try:
            await service.write_reset(order)
        except (CoilWriteError, OSError, RuntimeError) as error:
            await self.context.call(service.record_reset_failure, session, order, str(error))
            raise InputProblem(
                f"The reset was not written: {error}. Check the PLC link and try again."
            ) from None
        return await service.await_outcome(order)


class InterlockView(QWidget):
    """Every airlock; acknowledge and reset a latched fault (maintenance)."""

    def __init__(self, engine: AlarmEngine, site: Site, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("interlockView")
        self.setWindowTitle(f"Interlocks — {site.name} — NECSTGEN Desk")
        self.engine = engine
        self.site = site
        self.context: RecordsContext | None = None
        self.service: AlarmService | None = None
        self.tasks = TaskSet("interlock view")
        self.history_reloader = Reloader(self.tasks, self._load_history, "fault history")
        self.last_outcome: ResetOutcome | None = None

        self.model = InterlockModel(site, self)
        self.table = make_table(self.model, self, max_column_width=360)
        self.table.setObjectName("interlockTable")
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.history_model = ViewTableModel(HISTORY_COLUMNS, self)
        self.history = make_table(self.history_model, self, max_column_width=360)
        self.history.setObjectName("faultHistory")
        self.history_title = QGroupBox("Fault history", self)
        box = QVBoxLayout(self.history_title)
        box.addWidget(self.history)

        self.detail = QLabel(self)
        self.detail.setObjectName("interlockDetail")
        self.detail.setWordWrap(True)
        self.ack_button = QPushButton("Acknowledge fault…", self)
        self.ack_button.setObjectName("acknowledgeFault")
        self.ack_button.clicked.connect(lambda: self.tasks.start(self._acknowledge(), name="ack"))
        self.reset_button = QPushButton("Reset…", self)
        self.reset_button.setObjectName("resetFault")
        self.reset_button.clicked.connect(lambda: self.tasks.start(self._reset(), name="reset"))
        self.message = MessageLabel(self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.detail, 1)
        buttons.addWidget(self.ack_button)
        buttons.addWidget(self.reset_button)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.history_title)
        splitter.setSizes([330, 300])
        note = QLabel(
            "Interlock faults are acknowledged by maintenance only, with a comment and a "
            "signature; a reset follows and is refused while the fault's cause is present.",
            self,
        )
        note.setObjectName("hint")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.resize(1250, 680)
        self.refresh()
        self._update_buttons()

    # -------------------------------------------------------------- wiring

    def attach(self, context: RecordsContext, service: AlarmService) -> None:
        self.context = context
        self.service = service
        context.session_changed.connect(self._update_buttons)
        self._update_buttons()
        self.history_reloader.request()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._timer.start()
        self.refresh()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)

    def shutdown(self) -> None:
        self._timer.stop()
        self.tasks.cancel_all()

    def alarms_changed(self, changes: Sequence[AlarmChange]) -> None:
        """The alarm desk's batch: refresh what concerns the airlocks."""
        airlocks = {a.id for a in self.site.airlocks}
        touched = {c.definition.source for c in changes} & airlocks
        if touched and self.isVisible():
            self.refresh()
            if self.selected_airlock() in touched:
                self._reload_history()

    # -------------------------------------------------------------- reading

    def statuses(self) -> list[InterlockStatus]:
        return self.model.rows

    def status(self, airlock_id: str) -> InterlockStatus:
        return next(s for s in self.model.rows if s.airlock_id == airlock_id)

    def selected_airlock(self) -> str | None:
        row = selected_row(self.table)
        return self.model.row_at(row).airlock_id if row is not None else None

    def select(self, airlock_id: str) -> None:
        for row, status in enumerate(self.model.rows):
            if status.airlock_id == airlock_id:
                self.table.selectRow(row)
                return

    def refresh(self) -> None:
        statuses = self.engine.interlocks()
        if statuses == self.model.rows:
            return
        chosen = self.selected_airlock()
        self.model.set_rows(statuses)
        if chosen is not None:
            self.select(chosen)
        self._update_buttons()

    def _selection_changed(self) -> None:
        self._update_buttons()
        self._reload_history()

    def _reload_history(self) -> None:
        if self.context is not None and self.service is not None:
            self.history_reloader.request()

    async def _load_history(self) -> None:
        airlock = self.selected_airlock()
        if airlock is None or self.context is None or self.service is None:
            self.history_model.set_rows([])
            self.history_title.setTitle("Fault history")
            return
        try:
            rows = await self.context.call(self.service.fault_history, airlock)
        except Exception as error:
            self.message.show_error(error)
            return
        if self.selected_airlock() == airlock:
            self.history_model.set_rows(rows)
            count = f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}"
            self.history_title.setTitle(f"Fault history of {airlock} ({count})")

    # -------------------------------------------------------------- buttons

    def _update_buttons(self) -> None:
        airlock = self.selected_airlock()
        context = self.context
        may = context is not None and context.may(Permission.ACKNOWLEDGE_INTERLOCK_FAULT)
        why = (
            "Log in to act on interlock faults"
            if context is None or context.session is None
            else "Maintenance only"
        )
        if airlock is None:
            self.detail.setText("Select an airlock.")
            self.ack_button.setEnabled(False)
            self.reset_button.setEnabled(False)
            return
        status = self.status(airlock)
        due = any(a.state.needs_acknowledgement for a in status.alarms)
        self.ack_button.setEnabled(may and due)
        self.ack_button.setToolTip("" if may else why)
        self.reset_button.setEnabled(may and status.latched and status.acknowledged)
        self.reset_button.setToolTip("" if may else why)
        coil = self.engine.reset_coil(airlock)
        refusal = reset_refusal(status, has_coil=coil is not None) if status.latched else None
        lines = [f"{airlock}: {state_text(status)}"]
        if status.latched:
            lines.append(f"latched {fault_label(status)}")
            lines.append(f"reset now: {refusal}" if refusal else "reset possible now")
        self.detail.setText(" · ".join(lines))

    # -------------------------------------------------------------- actions

    async def _acknowledge(self) -> None:
        context, service, airlock = self.context, self.service, self.selected_airlock()
        if context is None or service is None or airlock is None:
            return
        session = context.require_session()
        status = self.status(airlock)
        ask = CommentDialog(
            f"Acknowledge the interlock fault of {airlock}",
            f"Latched fault: {fault_label(status)}. Acknowledging says maintenance has seen "
            "it; a reset follows once its cause is gone.",
            self,
        )
        if not await run_dialog(ask) or ask.value is None:
            return
        comment = ask.value

        async def sign(request: SignatureRequest) -> list[AlarmChange]:
            return await context.call(
                service.acknowledge_interlock_fault, session, airlock, comment, request
            )

        signature = SignatureDialog(
            session,
            SignatureMeaning.ACKNOWLEDGED,
            f"Interlock fault of airlock {airlock}: {fault_label(status)}",
            sign,
            self,
            details=[("Comment", comment)],
        )
        if not await run_dialog(signature) or signature.value is None:
            self.message.show_message("Not signed: the fault was not acknowledged.", "info")
            return
        self.message.show_message(
            f"The interlock fault of {airlock} is acknowledged; reset it once its cause is gone.",
            "ok",
        )
        self.refresh()
        self._reload_history()

    async def _reset(self) -> None:
        context, service, airlock = self.context, self.service, self.selected_airlock()
        if context is None or service is None or airlock is None:
            return
        dialog = ResetDialog(
            context, service, self.status(airlock), self.engine.reset_coil(airlock), self
        )
        if not await run_dialog(dialog) or dialog.value is None:
            return
        outcome = dialog.value
        self.last_outcome = outcome
        self.message.show_message(outcome.message, "ok" if outcome.cleared else "error")
        log.info("interlock reset of %s: %s", airlock, outcome.message)
        self.refresh()
        self._reload_history()
