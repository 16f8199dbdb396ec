"""Gowning qualifications: everyone may look, QA records and revokes (signed "approved").

Annex 1 (2022) §7.16: personnel in Grade A/B are qualified for aseptic
gowning and requalified at least yearly; the gowning log refuses entry to
Grade A/B without a valid qualification, so this list is what lets people in.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from necstgen_desk.records.gowning import DEFAULT_QUALIFICATION_MONTHS
from necstgen_desk.records.roles import Permission
from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.services import QualificationView, SignatureRequest
from ui.forms import (
    AsyncDialog,
    BusyBar,
    InputProblem,
    MessageLabel,
    ReasonDialog,
    ViewTableModel,
    make_table,
    run_dialog,
    selected_row,
)
from ui.logbook_columns import QUALIFICATION_COLUMNS
from ui.records_context import RecordsContext
from ui.signature_dialog import SignatureDialog
from ui.timefmt import DATE_FORMAT, to_date, today_local
from ui.worker import Reloader, TaskSet


class QualificationFormDialog(AsyncDialog[tuple[str, QDate, int, str]]):
    """Who, qualified on which day, for how long, and why (the signature follows)."""

    def __init__(self, persons: list[str], parent: QWidget | None = None) -> None:
        super().__init__("Record a gowning qualification", parent, ok_text="Continue to signature…")
        self.person = QLineEdit(self.body)
        self.person.setObjectName("person")
        self.person.setPlaceholderText("the person's user name or full name, as on the gowning log")
        if persons:
            self.person.setToolTip("Known: " + ", ".join(persons))
        self.qualified_on = QDateEdit(today_local(), self.body)
        self.qualified_on.setObjectName("qualifiedOn")
        self.qualified_on.setDisplayFormat(DATE_FORMAT)
        self.qualified_on.setCalendarPopup(True)
        self.months = QSpinBox(self.body)
        self.months.setObjectName("validMonths")
        self.months.setRange(1, DEFAULT_QUALIFICATION_MONTHS)
        self.months.setValue(DEFAULT_QUALIFICATION_MONTHS)
        self.months.setSuffix(" months")
        self.reason = QLineEdit(self.body)
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText("e.g. passed gowning qualification, 3 sessions")
        form = QFormLayout(self.body)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Person:", self.person)
        form.addRow("Qualified on:", self.qualified_on)
        form.addRow("Valid for:", self.months)
        form.addRow("Reason:", self.reason)
        self.setMinimumWidth(480)

    async def submit(self) -> tuple[str, QDate, int, str]:
        person = self.person.text().strip()
        reason = self.reason.text().strip()
        if not person or not reason:
            raise InputProblem("Enter the person and a reason.")
        return person, self.qualified_on.date(), self.months.value(), reason


class QualificationsDialog(QDialog):
    """The qualification list; QA's buttons to record and revoke."""

    def __init__(self, context: RecordsContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("QualificationsDialog")
        self.setWindowTitle("Gowning qualifications — NECSTGEN Desk")
        self.context = context
        self.tasks = TaskSet("qualifications")
        self.reloader = Reloader(self.tasks, self._load, "load qualifications")
        self.model = ViewTableModel(
            QUALIFICATION_COLUMNS, self, muted=lambda q: q.revoked or q.status.value != "qualified"
        )
        self.table = make_table(self.model, self)
        self.table.setObjectName("qualificationsTable")
        self.record_button = QPushButton("Record qualification…", self)
        self.record_button.setObjectName("recordQualification")
        self.revoke_button = QPushButton("Revoke…", self)
        self.revoke_button.setObjectName("revokeQualification")
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        qa = context.may(Permission.MANAGE_QUALIFICATIONS)
        self.record_button.setEnabled(qa)
        if not qa:
            why = "Only QA manages gowning qualifications."
            self.record_button.setToolTip(why)
            self.revoke_button.setToolTip(why)
        self.record_button.clicked.connect(lambda: self._start(self._record()))
        self.revoke_button.clicked.connect(lambda: self._start(self._revoke()))
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.message = MessageLabel(self)
        self.busy_bar = BusyBar("Loading…", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.revoke_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        note = QLabel(
            "Entry to Grade A/B needs a valid gowning qualification (requalified at least "
            "every 12 months). Recording and revoking are QA's, with an electronic signature.",
            self,
        )
        note.setObjectName("hint")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_bar)
        layout.addLayout(buttons)
        self.resize(900, 420)
        self._update_buttons()
        context.changed.connect(self._changed)
        self.reloader.request()

    def _changed(self, _changes: object) -> None:
        self.reloader.request()

    async def _load(self) -> None:
        self.busy_bar.show()
        try:
            rows = await self.context.call(self.context.records.gowning.qualifications)
        except Exception as error:
            self.message.show_error(error)
            return
        finally:
            self.busy_bar.hide()
        self.model.set_rows(rows)
        self._update_buttons()

    def selected(self) -> QualificationView | None:
        row = selected_row(self.table)
        return None if row is None else self.model.row_at(row)

    def _update_buttons(self) -> None:
        chosen = self.selected()
        self.revoke_button.setEnabled(
            self.context.may(Permission.MANAGE_QUALIFICATIONS)
            and chosen is not None
            and not chosen.revoked
        )

    def _start(self, coro: Coroutine[Any, Any, None]) -> None:
        self.message.clear_message()
        self.tasks.start(coro, name="qualification")

    async def _record(self) -> None:
        session = self.context.session
        if session is None:
            return
        form = QualificationFormDialog(sorted({q.person for q in self.model.rows}), self)
        if not await run_dialog(form) or form.value is None:
            return
        person, qualified_on, months, reason = form.value
        day = to_date(qualified_on)
        gowning = self.context.records.gowning

        async def sign(request: SignatureRequest) -> QualificationView:
            return await self.context.call(
                gowning.record_qualification,
                session,
                person,
                day,
                reason=reason,
                valid_months=months,
                signature=request,
            )

        signature = SignatureDialog(
            session,
            SignatureMeaning.APPROVED,
            f"Gowning qualification of {person}, qualified on {day.isoformat()}, "
            f"valid {months} months",
            sign,
            self,
            details=[("Reason", reason)],
        )
        if await run_dialog(signature) and signature.value is not None:
            self.message.show_message(
                f"Qualification of {person} recorded (valid until "
                f"{signature.value.valid_until.isoformat()}).",
                "ok",
            )
            self.reloader.request()

    async def _revoke(self) -> None:
        session = self.context.session
        chosen = self.selected()
        if session is None or chosen is None:
            return

        async def ask(reason: str) -> str:
            return reason

        form = ReasonDialog(
            f"Revoke the qualification of {chosen.person}",
            f"Revoke the gowning qualification of {chosen.person}? They can no longer enter "
            "Grade A/B rooms until requalified.",
            ask,
            self,
            ok_text="Continue to signature…",
        )
        if not await run_dialog(form) or form.value is None:
            return
        reason = form.value
        gowning = self.context.records.gowning

        async def sign(request: SignatureRequest) -> QualificationView:
            return await self.context.call(
                gowning.revoke_qualification,
                session,
                chosen.person,
                reason=reason,
                signature=request,
            )

        signature = SignatureDialog(
            session,
            SignatureMeaning.APPROVED,
            f"Revocation of the gowning qualification of {chosen.person}",
            sign,
            self,
            details=[("Reason", reason)],
        )
        if await run_dialog(signature):
            self.message.show_message(f"Qualification of {chosen.person} revoked.", "ok")
            self.reloader.request()

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)
