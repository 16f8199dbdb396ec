"""The room logbook: a room's status and lifecycle actions, its cleaning and gowning logs.

Level 2 of the display hierarchy, opened by double-clicking a room on the
plan (or Records → Room logbook…). The action buttons are the ones the
service allows this person now (``rooms.allowed_actions``); the service may
still refuse for the facts (no verified cleaning yet, the same person again),
and the dialog then says why in the rule's words. Signed steps — logging a
cleaning (performed), verifying it (verified, a second person), correcting it
(corrected), releasing a room (released, QA) — go through the signature dialog.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QTimer
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from necstgen_desk.records.cleaning import CleaningEntry, CleaningType, cleaning_problems
from necstgen_desk.records.errors import RuleViolation
from necstgen_desk.records.lifecycle import TRANSITIONS, RoomAction, RoomStatus
from necstgen_desk.records.roles import Permission
from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.services import (
    CleaningView,
    GowningView,
    RecordChange,
    Records,
    RoomStatusView,
    SignatureRequest,
    UserSession,
)
from ui.forms import (
    AsyncDialog,
    BusyBar,
    InputProblem,
    MessageLabel,
    ViewTableModel,
    make_table,
    need_reason,
    run_dialog,
    selected_row,
)
from ui.logbook_columns import CLEANING_COLUMNS, GOWNING_COLUMNS, STATUS_COLUMNS
from ui.qualifications import QualificationsDialog
from ui.records_context import RecordsContext
from ui.room_marks import short_status
from ui.signature_dialog import SignatureDialog
from ui.timefmt import (
    DATE_FORMAT,
    EDIT_FORMAT,
    local_text,
    now_local,
    now_utc,
    to_date,
    to_qdate,
    to_qdatetime,
    to_utc,
    today_local,
)
from ui.worker import Reloader, TaskSet

log = logging.getLogger(__name__)

#: A reason offered for the routine steps (the person may change it); others start blank.
DEFAULT_REASONS: dict[RoomAction, str] = {
    RoomAction.END_OPERATION: "End of operation",
    RoomAction.START_CLEANING: "Cleaning started",
    RoomAction.FINISH_CLEANING: "Cleaning done and verified",
    RoomAction.RELEASE: "Room cleaned and verified; fit for use",
    RoomAction.START_OPERATION: "Start of operation",
    RoomAction.END_MAINTENANCE: "Maintenance finished",
}


# ------------------------------------------------------------------ loading


@dataclass(frozen=True, slots=True)
class RoomSnapshot:
    """Everything the panel shows of one room, read in one go on the worker."""

    current: RoomStatusView
    actions: tuple[RoomAction, ...]
    history: tuple[RoomStatusView, ...]
    cleanings: tuple[CleaningView, ...]
    gowning: tuple[GowningView, ...]
    sporicidal_overdue: bool
    sporicidal_days: int | None


def load_room(records: Records, session: UserSession | None, room_id: str) -> RoomSnapshot:
    """Runs on the worker thread."""
    overdue = records.cleaning.sporicidal_overdue()
    return RoomSnapshot(
        current=records.rooms.current(room_id),
        actions=tuple(records.rooms.allowed_actions(session, room_id)) if session else (),
        history=tuple(records.rooms.history(room_id)),
        cleanings=tuple(records.cleaning.list(room_id=room_id, include_superseded=True)),
        gowning=tuple(records.gowning.list(room_id=room_id)),
        sporicidal_overdue=room_id in overdue,
        sporicidal_days=overdue.get(room_id),
    )


# ------------------------------------------------------------------ dialogs


def _reason_field(parent: QWidget, text: str = "") -> QLineEdit:
    field = QLineEdit(text, parent)
    field.setObjectName("reason")
    field.setPlaceholderText("why (recorded with the change)")
    return field


def _datetime_edit(parent: QWidget, name: str, value: QDateTime) -> QDateTimeEdit:
    edit = QDateTimeEdit(value, parent)
    edit.setObjectName(name)
    edit.setDisplayFormat(EDIT_FORMAT)
    edit.setCalendarPopup(True)
    edit.setToolTip("Local time; stored in UTC")
    return edit


def _date_edit(parent: QWidget, name: str, value: QDate) -> QDateEdit:
    edit = QDateEdit(value, parent)
    edit.setObjectName(name)
    edit.setDisplayFormat(DATE_FORMAT)
    edit.setCalendarPopup(True)
    return edit


def _minutes_box(parent: QWidget, name: str, value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent)
    box.setObjectName(name)
    box.setRange(0.0, 1440.0)
    box.setDecimals(1)
    box.setSuffix(" min")
    box.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)  # typed, not clicked
    box.setValue(value)
    return box


def _now() -> QDateTime:
    """Now, to the millisecond: an entry made at once counts as after what preceded it."""
    return now_local()


class StatusChangeDialog(AsyncDialog[RoomStatusView | None]):
    """One lifecycle step: the reason (and product and batch to start operation).

    For Release the value is None: the signature dialog comes next and makes
    the change.
    """

    def __init__(
        self,
        context: RecordsContext,
        session: UserSession,
        room_id: str,
        action: RoomAction,
        current: RoomStatus,
        parent: QWidget | None = None,
    ) -> None:
        signs = action is RoomAction.RELEASE
        super().__init__(
            f"{action.display_name} — {room_id}",
            parent,
            ok_text="Continue to signature…" if signs else action.display_name,
        )
        self.context = context
        self.session = session
        self.room_id = room_id
        self.action = action
        target = TRANSITIONS[action].target
        form = QFormLayout(self.body)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Room:", QLabel(context.room_label(room_id), self.body))
        form.addRow("Change:", QLabel(f"{current.display_name} → {target.display_name}", self.body))
        self.product = QLineEdit(self.body)
        self.product.setObjectName("product")
        self.batch = QLineEdit(self.body)
        self.batch.setObjectName("batch")
        if action is RoomAction.START_OPERATION:
            form.addRow("Product:", self.product)
            form.addRow("Batch:", self.batch)
        else:
            self.product.hide()
            self.batch.hide()
        self.reason = _reason_field(self.body, DEFAULT_REASONS.get(action, ""))
        form.addRow("Reason:", self.reason)
        if signs:
            note = QLabel(
                "Release is an electronic signature (meaning: released), by QA, and by a "
                "second person: not who performed or verified the cleaning or marked the room "
                "cleaned.",
                self.body,
            )
            note.setObjectName("hint")
            note.setWordWrap(True)
            form.addRow(note)
        (self.product if action is RoomAction.START_OPERATION else self.reason).setFocus()
        self.setMinimumWidth(460)

    @property
    def reason_text(self) -> str:
        return self.reason.text().strip()

    async def submit(self) -> RoomStatusView | None:
        reason = need_reason(self.reason)
        if self.action is RoomAction.RELEASE:
            return None
        return await self.context.call(
            self.context.records.rooms.change,
            self.session,
            self.room_id,
            self.action,
            reason=reason,
            product=self.product.text().strip() or None,
            batch=self.batch.text().strip() or None,
        )


class CleaningDialog(AsyncDialog[tuple[CleaningEntry, str]]):
    """The cleaning record's fields; a correction also asks why. The rules are
    checked here for early words; the service checks them again."""

    def __init__(
        self,
        context: RecordsContext,
        session: UserSession,
        room_id: str,
        parent: QWidget | None = None,
        *,
        correcting: CleaningView | None = None,
    ) -> None:
        title = (
            f"Correct cleaning #{correcting.id}"
            if correcting is not None
            else f"Log a cleaning — {room_id}"
        )
        super().__init__(title, parent, ok_text="Continue to signature…")
        self.context = context
        self.session = session
        self.correcting = correcting
        self.performed_by = (
            correcting.performed_by if correcting is not None else session.user.username
        )

        self.room = QComboBox(self.body)
        self.room.setObjectName("room")
        for space in context.spaces:
            self.room.addItem(context.room_label(space.id), space.id)
        self.room.setCurrentIndex(max(0, self.room.findData(room_id)))
        self.cleaning_type = QComboBox(self.body)
        self.cleaning_type.setObjectName("cleaningType")
        for kind in CleaningType:
            self.cleaning_type.addItem(kind.display_name, kind)
        end = _now()
        self.started = _datetime_edit(self.body, "startedAt", end.addSecs(-30 * 60))
        self.ended = _datetime_edit(self.body, "endedAt", end)
        self.agent = QLineEdit(self.body)
        self.agent.setObjectName("agent")
        self.agent.setPlaceholderText("e.g. 70 % IPA, or a sporicide such as H2O2/PAA")
        self.lot = QLineEdit(self.body)
        self.lot.setObjectName("agentLot")
        today = today_local()
        self.prepared = _date_edit(self.body, "preparedOn", today)
        self.expires = _date_edit(self.body, "expiresOn", today.addDays(7))
        self.required = _minutes_box(self.body, "requiredContact", 10.0)
        self.achieved = _minutes_box(self.body, "achievedContact", 0.0)
        self.reason = _reason_field(self.body)

        form = QFormLayout(self.body)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Room:", self.room)
        form.addRow("Type:", self.cleaning_type)
        form.addRow("Start:", self.started)
        form.addRow("End:", self.ended)
        form.addRow("Agent:", self.agent)
        form.addRow("Agent lot:", self.lot)
        form.addRow("Agent prepared on:", self.prepared)
        form.addRow("Agent expires on:", self.expires)
        form.addRow("Required contact time:", self.required)
        form.addRow("Achieved contact time:", self.achieved)
        form.addRow("Performed by:", QLabel(self.performed_by, self.body))
        if correcting is not None:
            self._fill(correcting)
            form.addRow("Reason for correction:", self.reason)
        else:
            self.reason.hide()
        hint = QLabel(
            "Times are local (offset shown) and stored in UTC. Next you sign as the person "
            "who performed the cleaning; a second person verifies it later.",
            self.body,
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        form.addRow(hint)
        self.setMinimumWidth(520)

    def _fill(self, view: CleaningView) -> None:
        self.room.setCurrentIndex(max(0, self.room.findData(view.room_id)))
        self.cleaning_type.setCurrentIndex(self.cleaning_type.findData(view.cleaning_type))
        self.started.setDateTime(to_qdatetime(view.started_at))
        if view.ended_at is not None:
            self.ended.setDateTime(to_qdatetime(view.ended_at))
        self.agent.setText(view.agent)
        self.lot.setText(view.agent_lot)
        self.prepared.setDate(to_qdate(view.agent_prepared_on))
        self.expires.setDate(to_qdate(view.agent_expires_on))
        self.required.setValue(view.required_contact_min)
        self.achieved.setValue(view.achieved_contact_min)

    def entry(self) -> CleaningEntry:
        kind = CleaningType(str(self.cleaning_type.currentData()))  # Qt gives the str value
        return CleaningEntry(
            room_id=str(self.room.currentData()),
            started_at=to_utc(self.started.dateTime()),
            ended_at=to_utc(self.ended.dateTime()),
            cleaning_type=kind,
            agent=self.agent.text().strip(),
            agent_lot=self.lot.text().strip(),
            agent_prepared_on=to_date(self.prepared.date()),
            agent_expires_on=to_date(self.expires.date()),
            required_contact_min=self.required.value(),
            achieved_contact_min=self.achieved.value(),
            performed_by=self.performed_by,
        )

    async def submit(self) -> tuple[CleaningEntry, str]:
        entry = self.entry()
        problems = cleaning_problems(entry, now_utc())
        if problems:
            raise RuleViolation(f"Cleaning record for room {entry.room_id} refused", problems)
        reason = need_reason(self.reason) if self.correcting is not None else ""
        return entry, reason


class GowningEntryDialog(AsyncDialog[GowningView]):
    """A person entering the room; Grade A/B needs a valid gowning qualification."""

    def __init__(
        self,
        context: RecordsContext,
        session: UserSession,
        room_id: str,
        persons: Sequence[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(f"Log gowning entry — {room_id}", parent, ok_text="Log entry")
        self.context = context
        self.session = session
        self.room_id = room_id
        self.lookups = TaskSet("qualification lookup")
        self.person = QComboBox(self.body)
        self.person.setObjectName("person")
        self.person.setEditable(True)
        names = list(dict.fromkeys([session.user.username, *persons]))
        self.person.addItems(names)
        self.time_in = _datetime_edit(self.body, "timeIn", _now())
        self.garment_lot = QLineEdit(self.body)
        self.garment_lot.setObjectName("garmentLot")
        self.qualification = QLabel("…", self.body)
        self.qualification.setObjectName("qualificationStatus")
        form = QFormLayout(self.body)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Person:", self.person)
        form.addRow("Room:", QLabel(context.room_label(room_id), self.body))
        form.addRow("Time in:", self.time_in)
        form.addRow("Garment lot:", self.garment_lot)
        form.addRow("Gowning qualification:", self.qualification)
        self._lookup_timer = QTimer(self)
        self._lookup_timer.setSingleShot(True)
        self._lookup_timer.setInterval(250)
        self._lookup_timer.timeout.connect(self._lookup)
        self.person.currentTextChanged.connect(lambda _t: self._lookup_timer.start())
        self._lookup_timer.start()
        self.setMinimumWidth(480)

    def _lookup(self) -> None:
        self.lookups.start(self._show_qualification(self.person.currentText().strip()))

    async def _show_qualification(self, person: str) -> None:
        if not person:
            self.qualification.setText("")
            return
        view = await self.context.call(self.context.records.gowning.qualification, person)
        if person != self.person.currentText().strip():
            return
        if view is None:
            self.qualification.setText("MISSING — no gowning qualification on record")
        elif view.revoked:
            self.qualification.setText("REVOKED")
        else:
            self.qualification.setText(
                f"{view.status.display_name} (valid until {view.valid_until.isoformat()})"
            )

    async def submit(self) -> GowningView:
        person = self.person.currentText().strip()
        lot = self.garment_lot.text().strip()
        if not person or not lot:
            raise InputProblem("Enter the person and the garment lot.")
        return await self.context.call(
            self.context.records.gowning.log_entry,
            self.session,
            person=person,
            room_id=self.room_id,
            time_in=to_utc(self.time_in.dateTime()),
            garment_lot=lot,
        )

    def done(self, result: int) -> None:
        self._lookup_timer.stop()
        self.lookups.cancel_all()
        super().done(result)


class GowningExitDialog(AsyncDialog[GowningView]):
    def __init__(
        self,
        context: RecordsContext,
        session: UserSession,
        record: GowningView,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(f"Log exit — {record.person}", parent, ok_text="Log exit")
        self.context = context
        self.session = session
        self.record = record
        self.time_out = _datetime_edit(self.body, "timeOut", _now())
        form = QFormLayout(self.body)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Person:", QLabel(record.person, self.body))
        form.addRow("Room:", QLabel(context.room_label(record.room_id), self.body))
        form.addRow("Time in:", QLabel(local_text(record.time_in), self.body))
        form.addRow("Time out:", self.time_out)
        self.setMinimumWidth(420)

    async def submit(self) -> GowningView:
        return await self.context.call(
            self.context.records.gowning.log_exit,
            self.session,
            self.record.id,
            time_out=to_utc(self.time_out.dateTime()),
        )


# ------------------------------------------------------------------ the panel


class RoomLogbookPanel(QWidget):
    """One room: status, lifecycle actions, status history, cleaning and gowning logs."""

    def __init__(self, context: RecordsContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("roomLogbook")
        self.context = context
        self.tasks = TaskSet("room logbook")
        self.reloader = Reloader(self.tasks, self._load, "load room")
        self.snapshot: RoomSnapshot | None = None

        self.room = QComboBox(self)
        self.room.setObjectName("roomPick")
        for space in context.spaces:
            self.room.addItem(context.room_label(space.id), space.id)
        self.room.currentIndexChanged.connect(self._room_picked)

        status_box = QGroupBox("Room status", self)
        self.status_label = QLabel("…", status_box)
        self.status_label.setObjectName("roomStatus")
        self.status_label.setProperty("marked", False)
        self.status_detail = QLabel(status_box)
        self.status_detail.setObjectName("roomStatusDetail")
        self.status_detail.setWordWrap(True)
        self.sporicidal_label = QLabel(status_box)
        self.sporicidal_label.setObjectName("sporicidalFlag")
        self.sporicidal_label.hide()
        self.actions_area = QWidget(status_box)
        self.actions_layout = QGridLayout(self.actions_area)
        self.actions_layout.setContentsMargins(0, 4, 0, 0)
        self.action_buttons: dict[RoomAction, QPushButton] = {}
        self.no_actions = QLabel(status_box)
        self.no_actions.setObjectName("hint")
        self.no_actions.setWordWrap(True)
        status_layout = QVBoxLayout(status_box)
        status_layout.addWidget(self.status_label)
        status_layout.addWidget(self.status_detail)
        status_layout.addWidget(self.sporicidal_label)
        status_layout.addWidget(self.actions_area)
        status_layout.addWidget(self.no_actions)

        self.message = MessageLabel(self)
        self.busy_bar = BusyBar("Loading…", self)

        self.history_model = ViewTableModel(STATUS_COLUMNS, self)
        self.history_table = make_table(self.history_model, self)
        self.history_table.setObjectName("statusHistory")

        self.cleaning_model = ViewTableModel(CLEANING_COLUMNS, self, muted=lambda v: not v.current)
        self.cleaning_table = make_table(self.cleaning_model, self)
        self.cleaning_table.setObjectName("cleaningTable")
        self.log_cleaning_button = QPushButton("Log cleaning…", self)
        self.log_cleaning_button.setObjectName("logCleaning")
        self.verify_button = QPushButton("Verify…", self)
        self.verify_button.setObjectName("verifyCleaning")
        self.correct_button = QPushButton("Correct…", self)
        self.correct_button.setObjectName("correctCleaning")
        cleaning_tab = self._tab(
            self.cleaning_table,
            (self.log_cleaning_button, self.verify_button, self.correct_button),
        )

        self.gowning_model = ViewTableModel(GOWNING_COLUMNS, self, muted=lambda v: not v.current)
        self.gowning_table = make_table(self.gowning_model, self)
        self.gowning_table.setObjectName("gowningTable")
        self.gowning_entry_button = QPushButton("Log entry…", self)
        self.gowning_entry_button.setObjectName("logGowningEntry")
        self.gowning_exit_button = QPushButton("Log exit…", self)
        self.gowning_exit_button.setObjectName("logGowningExit")
        self.qualifications_button = QPushButton("Qualifications…", self)
        self.qualifications_button.setObjectName("qualifications")
        gowning_tab = self._tab(
            self.gowning_table,
            (self.gowning_entry_button, self.gowning_exit_button, self.qualifications_button),
        )

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("roomTabs")
        self.tabs.addTab(self.history_table, "Status history")
        self.tabs.addTab(cleaning_tab, "Cleaning")
        self.tabs.addTab(gowning_tab, "Gowning")

        layout = QVBoxLayout(self)
        layout.addWidget(self.room)
        layout.addWidget(status_box)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_bar)
        layout.addWidget(self.tabs, 1)

        self.log_cleaning_button.clicked.connect(lambda: self._start(self._log_cleaning()))
        self.verify_button.clicked.connect(lambda: self._start(self._verify_cleaning()))
        self.correct_button.clicked.connect(lambda: self._start(self._correct_cleaning()))
        self.gowning_entry_button.clicked.connect(lambda: self._start(self._log_gowning()))
        self.gowning_exit_button.clicked.connect(lambda: self._start(self._log_exit()))
        self.qualifications_button.clicked.connect(lambda: self._start(self._qualifications()))
        self.cleaning_table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.gowning_table.selectionModel().selectionChanged.connect(self._update_buttons)
        context.changed.connect(self._records_changed)
        context.session_changed.connect(self.reload)
        self._update_buttons()

    def _tab(self, table: QWidget, buttons: Sequence[QPushButton]) -> QWidget:
        tab = QWidget(self)
        row = QHBoxLayout()
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(table, 1)
        return tab

    # -------------------------------------------------------------- room and data

    @property
    def room_id(self) -> str:
        return str(self.room.currentData())

    def show_room(self, room_id: str) -> None:
        index = self.room.findData(room_id)
        if index < 0:
            return
        if index == self.room.currentIndex():
            self.reload()
        else:
            self.room.setCurrentIndex(index)

    def _room_picked(self) -> None:
        self.message.clear_message()
        self.snapshot = None
        self.reload()

    def reload(self) -> None:
        self.reloader.request()

    def _records_changed(self, changes: tuple[RecordChange, ...]) -> None:
        if self.isVisible() or self.snapshot is not None:
            self.reload()

    async def _load(self) -> None:
        room_id = self.room_id
        self.busy_bar.show()
        try:
            snapshot = await self.context.call(
                load_room, self.context.records, self.context.session, room_id
            )
        except Exception as error:
            log.warning("room logbook of %s not loaded: %s", room_id, error)
            self.message.show_error(error)
            return
        finally:
            self.busy_bar.hide()
        if room_id == self.room_id:
            self._show(snapshot)

    def _show(self, snapshot: RoomSnapshot) -> None:
        self.snapshot = snapshot
        view = snapshot.current
        status = view.status
        self.status_label.setText(f"{status.display_name}  [{short_status(status)}]")
        marked = status not in (RoomStatus.IN_OPERATION, RoomStatus.RELEASED, RoomStatus.CLEANED)
        self.status_label.setProperty("marked", marked)
        self.status_label.style().unpolish(self.status_label)
        self.status_label.style().polish(self.status_label)
        lines = []
        if view.never_logged:
            lines.append("No status recorded yet: a room nobody logged counts as To be cleaned.")
        else:
            lines.append(f"Since {local_text(view.since)} by {view.by or '?'}")
        if view.product or view.batch:
            lines.append(f"Product {view.product or '–'} · batch {view.batch or '–'}")
        if view.hold_expires_at is not None:
            lines.append(f"Clean hold expires {local_text(view.hold_expires_at)}")
        if view.cleanup_ends_at is not None:
            lines.append(f"Clean-up period ends {local_text(view.cleanup_ends_at)}")
        if view.reason:
            lines.append(f"Reason: {view.reason}")
        self.status_detail.setText("\n".join(lines))
        if snapshot.sporicidal_overdue:
            days = snapshot.sporicidal_days
            self.sporicidal_label.setText(
                "▲ SPOR! No sporicidal clean on record for this room"
                if days is None
                else f"▲ SPOR! Sporicidal clean overdue by {days} day(s)"
            )
            self.sporicidal_label.show()
        else:
            self.sporicidal_label.hide()
        self._show_actions(snapshot.actions)
        self.history_model.set_rows(snapshot.history)
        self.cleaning_model.set_rows(snapshot.cleanings)
        self.gowning_model.set_rows(snapshot.gowning)
        self._update_buttons()

    def _show_actions(self, actions: Sequence[RoomAction]) -> None:
        for button in self.action_buttons.values():
            self.actions_layout.removeWidget(button)
            button.deleteLater()
        self.action_buttons = {}
        for i, action in enumerate(actions):
            target = TRANSITIONS[action].target.display_name
            button = QPushButton(action.display_name, self.actions_area)
            button.setObjectName(f"action_{action.value}")
            button.setToolTip(f"{action.display_name}: the room becomes {target}")
            button.clicked.connect(
                lambda _checked=False, a=action: self._start(self._change_status(a))
            )
            self.actions_layout.addWidget(button, i // 3, i % 3)
            self.action_buttons[action] = button
        session = self.context.session
        if session is None:
            text = "Log in to change the room's status."
        elif not actions:
            text = (
                f"Your role ({session.user.role.display_name}) has no status change for a room "
                "that is " + (self.snapshot.current.status.display_name if self.snapshot else "")
            )
        else:
            text = ""
        self.no_actions.setText(text)
        self.no_actions.setVisible(bool(text))

    def selected_cleaning(self) -> CleaningView | None:
        row = selected_row(self.cleaning_table)
        return None if row is None else self.cleaning_model.row_at(row)

    def selected_gowning(self) -> GowningView | None:
        row = selected_row(self.gowning_table)
        return None if row is None else self.gowning_model.row_at(row)

    def _update_buttons(self) -> None:
        ctx = self.context
        cleaning = self.selected_cleaning()
        gowning = self.selected_gowning()
        self.log_cleaning_button.setEnabled(ctx.may(Permission.LOG_CLEANING))
        self.verify_button.setEnabled(
            ctx.may(Permission.VERIFY_CLEANING)
            and cleaning is not None
            and cleaning.current
            and not cleaning.verified
        )
        self.correct_button.setEnabled(
            ctx.may(Permission.CORRECT_RECORD) and cleaning is not None and cleaning.current
        )
        self.gowning_entry_button.setEnabled(ctx.may(Permission.LOG_GOWNING))
        self.gowning_exit_button.setEnabled(
            ctx.may(Permission.LOG_GOWNING)
            and gowning is not None
            and gowning.current
            and gowning.inside
        )
        self.qualifications_button.setEnabled(ctx.session is not None)

    # -------------------------------------------------------------- actions

    def _start(self, coro: Coroutine[Any, Any, None]) -> None:
        self.message.clear_message()
        self.tasks.start(coro, name="room logbook action")

    def _done(self, text: str) -> None:
        self.message.show_message(text, "ok")
        self.reload()

    async def _change_status(self, action: RoomAction) -> None:
        session = self.context.session
        snapshot = self.snapshot
        if session is None or snapshot is None:
            return
        room_id = self.room_id
        dialog = StatusChangeDialog(
            self.context, session, room_id, action, snapshot.current.status, self
        )
        if not await run_dialog(dialog):
            return
        view = dialog.value
        if action is RoomAction.RELEASE:
            reason = dialog.reason_text
            rooms = self.context.records.rooms

            async def sign(request: SignatureRequest) -> RoomStatusView:
                return await self.context.call(
                    rooms.change, session, room_id, action, reason=reason, signature=request
                )

            signature = SignatureDialog(
                session,
                SignatureMeaning.RELEASED,
                f"Release of room {self.context.room_label(room_id)}: "
                f"{snapshot.current.status.display_name} → Released",
                sign,
                self,
                details=[("Reason", reason)],
            )
            if not await run_dialog(signature):
                self.message.show_message("Not signed: the room was not released.", "info")
                return
            view = signature.value
        if view is not None:
            self._done(f"Room {room_id} is now {view.status.display_name}.")

    async def _log_cleaning(self) -> None:
        session = self.context.session
        if session is None:
            return
        dialog = CleaningDialog(self.context, session, self.room_id, self)
        if not await run_dialog(dialog) or dialog.value is None:
            return
        entry, _reason = dialog.value
        cleaning = self.context.records.cleaning

        async def sign(request: SignatureRequest) -> CleaningView:
            return await self.context.call(cleaning.log, session, entry, signature=request)

        signature = SignatureDialog(
            session,
            SignatureMeaning.PERFORMED,
            _cleaning_text(entry),
            sign,
            self,
            details=_cleaning_details(entry),
        )
        if not await run_dialog(signature) or signature.value is None:
            self.message.show_message("Not signed: the cleaning was not logged.", "info")
            return
        self._done(
            f"Cleaning #{signature.value.id} logged; a second person must verify it (Verify…)."
        )

    async def _verify_cleaning(self) -> None:
        session = self.context.session
        record = self.selected_cleaning()
        if session is None or record is None:
            return
        cleaning = self.context.records.cleaning

        async def sign(request: SignatureRequest) -> CleaningView:
            return await self.context.call(cleaning.verify, session, record.id, signature=request)

        signature = SignatureDialog(
            session,
            SignatureMeaning.VERIFIED,
            f"Cleaning #{record.id} — {_cleaning_text(record.entry())}, "
            f"performed by {record.performed_by}",
            sign,
            self,
            details=_cleaning_details(record.entry()),
        )
        if not await run_dialog(signature) or signature.value is None:
            self.message.show_message("Not signed: the cleaning was not verified.", "info")
            return
        self._done(f"Cleaning #{record.id} verified by {session.user.username}.")

    async def _correct_cleaning(self) -> None:
        session = self.context.session
        record = self.selected_cleaning()
        if session is None or record is None:
            return
        dialog = CleaningDialog(self.context, session, record.room_id, self, correcting=record)
        if not await run_dialog(dialog) or dialog.value is None:
            return
        entry, reason = dialog.value
        cleaning = self.context.records.cleaning

        async def sign(request: SignatureRequest) -> CleaningView:
            return await self.context.call(
                cleaning.correct, session, record.id, entry, reason=reason, signature=request
            )

        signature = SignatureDialog(
            session,
            SignatureMeaning.CORRECTED,
            f"Correction of cleaning #{record.id} — {_cleaning_text(entry)}",
            sign,
            self,
            details=[("Reason", reason), *_cleaning_details(entry)],
        )
        if not await run_dialog(signature) or signature.value is None:
            self.message.show_message("Not signed: the cleaning was not corrected.", "info")
            return
        self._done(
            f"Cleaning #{record.id} corrected by #{signature.value.id}; the original stays visible."
        )

    async def _log_gowning(self) -> None:
        session = self.context.session
        if session is None:
            return
        gowning = self.context.records.gowning
        qualifications = await self.context.call(gowning.qualifications)
        persons = sorted({q.person for q in qualifications})
        dialog = GowningEntryDialog(self.context, session, self.room_id, persons, self)
        if await run_dialog(dialog) and dialog.value is not None:
            self._done(f"{dialog.value.person} entered {dialog.value.room_id}.")

    async def _log_exit(self) -> None:
        session = self.context.session
        record = self.selected_gowning()
        if session is None or record is None:
            return
        dialog = GowningExitDialog(self.context, session, record, self)
        if await run_dialog(dialog) and dialog.value is not None:
            self._done(f"{record.person} left {record.room_id}.")

    async def _qualifications(self) -> None:
        dialog = QualificationsDialog(self.context, self)
        await run_dialog(dialog)

    def close_dialogs(self) -> None:
        """Close this panel's open dialogs (the screen locks or the user changes)."""
        for dialog in self.findChildren(AsyncDialog):
            dialog.force_close()
        for qualification in self.findChildren(QualificationsDialog):
            qualification.reject()

    def shutdown(self) -> None:
        self.tasks.cancel_all()


def _cleaning_text(entry: CleaningEntry) -> str:
    return (
        f"{entry.cleaning_type.display_name} cleaning of {entry.room_id}, "
        f"{local_text(entry.started_at)} to {local_text(entry.ended_at)}"
    )


def _cleaning_details(entry: CleaningEntry) -> list[tuple[str, str]]:
    return [
        (
            "Agent",
            f"{entry.agent}, lot {entry.agent_lot}, prepared {entry.agent_prepared_on}, "
            f"expires {entry.agent_expires_on}",
        ),
        (
            "Contact time",
            f"{entry.achieved_contact_min:g} min achieved of {entry.required_contact_min:g} "
            "min required",
        ),
        ("Performed by", entry.performed_by),
    ]
