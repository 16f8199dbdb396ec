"""The electronic signature dialog: what is signed, by whom, with which meaning.

Part 11 §11.50 and §11.200: the person sees the manifest before signing — the
printed name, the meaning (performed, verified, released, …) and the record —
and signs with user ID and password the first time in a session, the password
alone after that (the service's ``SigningSession`` decides which). The
signature is made by the service call itself, so a wrong password, a second
person rule or any refusal shows here and nothing is signed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.services import SignatureRequest, UserSession
from ui.forms import AsyncDialog, InputProblem
from ui.timefmt import local_text, now_utc

#: What each meaning says the signer confirms, in the signer's words.
MEANING_STATEMENTS: dict[SignatureMeaning, str] = {
    SignatureMeaning.PERFORMED: "I performed this work as recorded.",
    SignatureMeaning.VERIFIED: (
        "I am a second person and I verified this record against the work done."
    ),
    SignatureMeaning.RELEASED: "I release this room for use: it is clean and fit for operation.",
    SignatureMeaning.ACKNOWLEDGED: "I acknowledge this event.",
    SignatureMeaning.SHELVED: "I shelve this alarm for the stated reason and time.",
    SignatureMeaning.CORRECTED: (
        "I correct this record for the stated reason; the original stays on record."
    ),
    SignatureMeaning.APPROVED: "I approve this record.",
}


class SignatureDialog[R](AsyncDialog[R]):
    """Shows the manifest and signs through ``sign(SignatureRequest)``."""

    def __init__(
        self,
        session: UserSession,
        meaning: SignatureMeaning,
        what: str,
        sign: Callable[[SignatureRequest], Awaitable[R]],
        parent: QWidget | None = None,
        *,
        details: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(f"Electronic signature — {meaning.display_name}", parent, ok_text="Sign")
        self.session = session
        self.meaning = meaning
        self.what = what
        self._sign = sign
        self.needs_user_id = session.signing.credentials_needed() == "user_and_password"
        user = session.user

        title = QLabel("Electronic signature", self.body)
        title.setObjectName("dialogTitle")
        manifest = QGroupBox("You are signing", self.body)
        manifest.setObjectName("signatureManifest")
        rows = QFormLayout(manifest)
        self.printed_name = QLabel(f"{user.full_name} ({user.username})", manifest)
        self.printed_name.setObjectName("printedName")
        self.meaning_label = QLabel(meaning.display_name, manifest)
        self.meaning_label.setObjectName("signatureMeaning")
        self.record_label = QLabel(what, manifest)
        self.record_label.setObjectName("signedRecord")
        self.record_label.setWordWrap(True)
        rows.addRow("Printed name:", self.printed_name)
        rows.addRow("Meaning:", self.meaning_label)
        rows.addRow("Record:", self.record_label)
        for label, value in details:
            detail = QLabel(value, manifest)
            detail.setWordWrap(True)
            rows.addRow(f"{label}:", detail)
        when = QLabel(f"the moment you sign (now {local_text(now_utc())})", manifest)
        rows.addRow("Time:", when)

        statement = QLabel(MEANING_STATEMENTS[meaning], self.body)
        statement.setObjectName("signatureStatement")
        statement.setWordWrap(True)

        credentials = QFormLayout()
        self.user_id = QLineEdit(self.body)
        self.user_id.setObjectName("signatureUserId")
        self.user_id.setPlaceholderText("your user ID")
        self.password = QLineEdit(self.body)
        self.password.setObjectName("signaturePassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        if self.needs_user_id:
            hint = "First signature in this session: enter your user ID and your password."
            credentials.addRow("User ID:", self.user_id)
        else:
            hint = "You have signed in this session: your password is enough."
            self.user_id.hide()
        credentials.addRow("Password:", self.password)
        note = QLabel(hint, self.body)
        note.setObjectName("hint")
        note.setWordWrap(True)

        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(manifest)
        layout.addWidget(statement)
        layout.addWidget(note)
        layout.addLayout(credentials)
        (self.user_id if self.needs_user_id else self.password).setFocus()
        self.setMinimumWidth(480)

    async def submit(self) -> R:
        user_id = self.user_id.text().strip()
        password = self.password.text()
        if self.needs_user_id and not user_id:
            raise InputProblem("Enter your user ID and your password to sign.")
        if not password:
            raise InputProblem("Enter your password to sign.")
        request = SignatureRequest(password=password, username=user_id or None)
        return await self._sign(request)

    def failed(self, error: BaseException) -> None:
        self.password.clear()
        self.password.setFocus()
