"""The GMP records from the GUI alone, as a newcomer meets them (the issue's acceptance).

Every step is typed and clicked into the real dialogs, against the real
services on a temporary SQLite file; refusals are read off the screen.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtWidgets import QDateEdit, QDialogButtonBox, QFileDialog, QLineEdit

from necstgen_desk.records.lifecycle import RoomAction, RoomStatus
from necstgen_desk.records.roles import Role
from tests.gui.records_support import ADMIN, OPERATOR, OPERATOR_2, QA, Harness
from ui.account_dialogs import LoginDialog, UserAdminDialog
from ui.forms import AsyncDialog
from ui.lock import CoverState
from ui.qualifications import QualificationFormDialog, QualificationsDialog
from ui.room_logbook import CleaningDialog, StatusChangeDialog
from ui.signature_dialog import SignatureDialog

ROOM = "B-01"


# ------------------------------------------------------------------ steps


def open_room(h: Harness, room_id: str = ROOM) -> None:
    """Double-click the room on the plan; wait for its logbook."""
    h.double_click_room(room_id)
    panel = h.panel
    h.qtbot.waitUntil(
        lambda: (
            panel.isVisible()
            and panel.snapshot is not None
            and panel.snapshot.current.room_id == room_id
            and not panel.reloader.busy
        ),
        timeout=5000,
    )


def room_status(h: Harness) -> RoomStatus:
    snapshot = h.panel.snapshot
    assert snapshot is not None
    return snapshot.current.status


def wait_status(h: Harness, status: RoomStatus) -> None:
    h.qtbot.waitUntil(
        lambda: (
            h.panel.snapshot is not None
            and h.panel.snapshot.current.status is status
            and not h.panel.reloader.busy
        ),
        timeout=5000,
    )


def press_action(h: Harness, action: RoomAction) -> StatusChangeDialog:
    h.qtbot.waitUntil(lambda: action in h.panel.action_buttons, timeout=5000)
    h.click(h.panel.action_buttons[action])
    return h.dialog(StatusChangeDialog)


def change_status(
    h: Harness, action: RoomAction, expected: RoomStatus, reason: str | None = None
) -> None:
    dialog = press_action(h, action)
    if reason is not None:
        h.type(dialog.reason, reason)
    h.click(dialog.ok_button)
    h.qtbot.waitUntil(
        lambda: (
            not shiboken6.isValid(dialog) or not dialog.isVisible() or bool(dialog.message.message)
        )
    )
    assert not shiboken6.isValid(dialog) or not dialog.message.message, dialog.message.message
    wait_status(h, expected)


def wait_plan_mark(h: Harness, room_id: str, text: str) -> None:
    def shows() -> bool:
        mark = h.window.plan.room_mark(room_id)
        return mark is not None and mark.text == text

    h.qtbot.waitUntil(shows, timeout=5000)


def set_date(h: Harness, edit: QDateEdit, day: date) -> None:
    edit.setFocus()
    edit.selectAll()
    h.type(edit, day.isoformat(), replace=False)
    assert edit.date().toPython() == day


def cancel(h: Harness, dialog: AsyncDialog[Any]) -> None:
    h.click(dialog.cancel_button)
    h.wait_closed(dialog)


# ------------------------------------------------------------------ the acceptance walk


def test_a_newcomer_runs_the_records_from_the_gui_alone(
    records_harness: Harness, tmp_path: Path
) -> None:
    h = records_harness
    desk = h.desk

    # 1. The first start asks for the first administrator (no default password).
    assert desk.cover.covering
    h.create_first_admin()
    assert not desk.room_logbook_action.isEnabled() or desk.session is not None

    # 2. The administrator adds two operators and a QA user; each role's rights are written out.
    desk.users_action.trigger()
    admin = h.dialog(UserAdminDialog)
    h.qtbot.waitUntil(lambda: ADMIN[0] in admin.model.column_texts("User name"), timeout=5000)
    h.pick(admin.role_pick, "QA")
    assert "release a cleaned room for use" in admin.role_text.text()
    h.add_user(admin, OPERATOR, Role.OPERATOR)
    h.add_user(admin, OPERATOR_2, Role.OPERATOR)
    h.add_user(admin, QA, Role.QA)
    assert admin.model.column_texts("Role") == ["Administrator", "Operator", "Operator", "QA"]
    h.click(admin.close_button)
    h.wait_closed(admin)

    # 3. The operator logs in (choosing their own password) and opens B-01 from the plan.
    h.switch_to(OPERATOR, first_time=True)
    assert not desk.audit_action.isEnabled()  # operators do not review the audit trail
    assert not desk.users_action.isEnabled()
    open_room(h)
    assert room_status(h) is RoomStatus.TO_BE_CLEANED
    wait_plan_mark(h, ROOM, "TO CLEAN")

    # 4. To be cleaned → Cleaning.
    change_status(h, RoomAction.START_CLEANING, RoomStatus.CLEANING)
    wait_plan_mark(h, ROOM, "CLEANING")

    # 5. Finishing before a verified cleaning is logged is refused, with the reason.
    refused = press_action(h, RoomAction.FINISH_CLEANING)
    h.click(refused.ok_button)
    assert "no verified cleaning record" in h.wait_message(refused)
    cancel(h, refused)
    assert room_status(h) is RoomStatus.CLEANING

    # 6. Log the cleaning: an expired agent and a short contact time are refused first.
    h.panel.tabs.setCurrentIndex(1)
    h.click(h.panel.log_cleaning_button)
    form = h.dialog(CleaningDialog)
    h.pick(form.cleaning_type, "Sporicidal")
    h.type(form.agent, "H2O2/PAA sporicide")
    h.type(form.lot, "SP-2611-07")
    set_date(h, form.prepared, date.today() - timedelta(days=10))
    set_date(h, form.expires, date.today() - timedelta(days=1))
    h.click(form.ok_button)
    words = h.wait_message(form)
    assert "expired agent cannot be recorded" in words
    assert "shorter than the required 10 min" in words
    set_date(h, form.expires, date.today() + timedelta(days=20))
    h.type(form.achieved, "12")
    h.click(form.ok_button)
    signature = h.sign(OPERATOR, expect_user_id=True)  # first signature: user ID + password
    assert signature.meaning_label.text() == "Performed"
    assert "Olga Operator (olga)" in signature.printed_name.text()
    h.wait_closed(signature)
    h.qtbot.waitUntil(lambda: h.panel.cleaning_model.rowCount() == 1, timeout=5000)
    assert h.panel.cleaning_model.column_texts("Verified by") == ["NOT VERIFIED"]
    wait_plan_mark(h, ROOM, "CLEANING")

    # 7. The operator cannot verify their own cleaning (password only: signed once already).
    h.select_row(h.panel.cleaning_table, 0)
    h.click(h.panel.verify_button)
    own = h.sign(OPERATOR, expect_user_id=False)
    assert "a second person must verify it" in h.wait_message(own)
    cancel(h, own)

    # 8. A second person verifies it with the signature dialog.
    h.switch_to(OPERATOR_2, first_time=True)
    open_room(h)
    h.panel.tabs.setCurrentIndex(1)
    h.select_row(h.panel.cleaning_table, 0)
    h.click(h.panel.verify_button)
    verify = h.sign(OPERATOR_2, expect_user_id=True)
    assert verify.meaning_label.text() == "Verified"
    h.wait_closed(verify)
    h.qtbot.waitUntil(
        lambda: h.panel.cleaning_model.column_texts("Verified by")[0].startswith("otto"),
        timeout=5000,
    )

    # 9. Cleaning → Cleaned (by the first operator).
    h.switch_to(OPERATOR)
    open_room(h)
    change_status(h, RoomAction.FINISH_CLEANING, RoomStatus.CLEANED)
    wait_plan_mark(h, ROOM, "CLEANED")

    # 10. QA releases the room with an electronic signature.
    h.switch_to(QA, first_time=True)
    open_room(h)
    release = press_action(h, RoomAction.RELEASE)
    assert release.ok_button.text() == "Continue to signature…"
    h.click(release.ok_button)
    signed = h.sign(QA, expect_user_id=True)
    assert signed.meaning_label.text() == "Released"
    h.wait_closed(signed)
    wait_status(h, RoomStatus.RELEASED)
    wait_plan_mark(h, ROOM, "RELEASED")
    assert not h.window.plan.room_mark(ROOM).marked  # type: ignore[union-attr]  # quiet

    # 11. Released → In operation (product and batch) → To be cleaned, by the operator.
    h.switch_to(OPERATOR)
    open_room(h)
    start = press_action(h, RoomAction.START_OPERATION)
    h.type(start.product, "CAR-T NG-101")
    h.type(start.batch, "B-2611-003")
    h.click(start.ok_button)
    h.wait_closed(start)
    wait_status(h, RoomStatus.IN_OPERATION)
    wait_plan_mark(h, ROOM, "IN OP")
    snapshot = h.panel.snapshot
    assert snapshot is not None and snapshot.current.batch == "B-2611-003"
    change_status(h, RoomAction.END_OPERATION, RoomStatus.TO_BE_CLEANED)
    wait_plan_mark(h, ROOM, "TO CLEAN")
    assert h.panel.history_model.column_texts("Status") == [
        "To be cleaned",
        "In operation",
        "Released",
        "Cleaned",
        "Cleaning",
    ]

    # 12. QA finds every step in the audit viewer, and exports it as CSV.
    h.switch_to(QA)
    viewer = h.open_audit_viewer()
    h.pick(viewer.room, ROOM)
    h.pick(viewer.record_type, "Room status")
    h.apply_audit_filters(viewer)
    statuses = [value for value in viewer.model.column_texts("New value") if '"status"' in value]
    for status in ("cleaning", "cleaned", "released", "in_operation", "to_be_cleaned"):
        assert any(f'"status":"{status}"' in value for value in statuses), status
    assert set(viewer.model.column_texts("User")) == {"olga", "quinn"}
    times = viewer.model.column_texts("Time (local)")
    assert all(t[-6] in "+-" and t[-3] == ":" for t in times)  # local time with the offset

    h.pick(viewer.record_type, "All record types")
    h.apply_audit_filters(viewer)
    types = set(viewer.model.column_texts("Record type"))
    assert {"Room status", "Cleaning", "Cleaning verification", "Signature"} <= types
    actions = viewer.model.column_texts("Action")
    assert "sign" in actions and "create" in actions

    target = tmp_path / "audit.csv"
    h.click(viewer.export_button)
    chooser = h.dialog(QFileDialog)
    name_field = chooser.findChild(QLineEdit, "fileNameEdit")
    assert isinstance(name_field, QLineEdit)
    assert name_field.text().startswith("audit-trail-")  # a dated default name
    h.type(name_field, str(target))
    buttons = chooser.findChild(QDialogButtonBox, "buttonBox")
    assert isinstance(buttons, QDialogButtonBox)
    save = buttons.button(QDialogButtonBox.StandardButton.Save)
    assert save is not None
    h.click(save)
    h.qtbot.waitUntil(
        lambda: viewer.last_export == target or bool(viewer.message.message), timeout=5000
    )
    assert viewer.last_export == target, viewer.message.message
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["record_type"] for r in rows} >= {"room_status_entry", "cleaning_record"}
    assert "Exported" in viewer.message.message

    h.click(viewer.verify_button)
    h.qtbot.waitUntil(lambda: viewer.report is not None, timeout=5000)
    assert viewer.report is not None and viewer.report.ok
    assert "intact" in viewer.chain.message


def test_a_wrong_password_is_refused_in_plain_words(records_harness: Harness) -> None:
    h = records_harness
    h.create_first_admin()
    h.desk.switch_user_action.trigger()
    login = h.dialog(LoginDialog)
    h.type(login.username, ADMIN[0])
    h.type(login.password, "not the password")
    h.click(login.ok_button)
    assert h.wait_message(login) == "The user name or password is not correct."
    assert login.password.text() == ""
    assert h.desk.session is None and h.desk.cover.state is CoverState.LOGGED_OUT
    h.type(login.password, ADMIN[2])
    h.click(login.ok_button)
    h.wait_logged_in(ADMIN[0])


def test_an_administrator_signs_no_gmp_record(records_harness: Harness) -> None:
    """Segregation of duties: the admin has no status actions and cannot log cleaning."""
    h = records_harness
    h.create_first_admin()
    open_room(h)
    assert h.panel.action_buttons == {}
    assert "has no status change" in h.panel.no_actions.text()
    assert not h.panel.log_cleaning_button.isEnabled()


def test_qa_puts_a_room_in_maintenance_and_records_a_qualification(
    records_harness: Harness,
) -> None:
    h = records_harness
    h.create_first_admin()
    h.desk.users_action.trigger()
    admin = h.dialog(UserAdminDialog)
    h.add_user(admin, QA, Role.QA)
    h.click(admin.close_button)
    h.wait_closed(admin)
    h.switch_to(QA, first_time=True)
    open_room(h)
    maintenance = press_action(h, RoomAction.START_MAINTENANCE)
    h.click(maintenance.ok_button)  # no reason given: refused before any call
    assert h.wait_message(maintenance).startswith("Give a reason")
    cancel(h, maintenance)
    change_status(h, RoomAction.START_MAINTENANCE, RoomStatus.MAINTENANCE, "HEPA filter change")
    wait_plan_mark(h, ROOM, "MAINT")
    mark = h.window.plan.room_mark(ROOM)
    assert mark is not None and mark.marked
    # Qualifications are QA's: record one with a signature ("approved").
    h.panel.tabs.setCurrentIndex(2)
    h.click(h.panel.qualifications_button)
    quals = h.dialog(QualificationsDialog)
    h.click(quals.record_button)
    form = h.dialog(QualificationFormDialog)
    h.type(form.person, "olga")
    h.type(form.reason, "passed gowning qualification")
    h.click(form.ok_button)
    signature = h.dialog(SignatureDialog)
    assert signature.meaning_label.text() == "Approved"
    assert "Gowning qualification of olga" in signature.record_label.text()
    assert signature.printed_name.text() == "Quinn QA (quinn)"
    h.sign(QA, expect_user_id=True)
    h.wait_closed(signature)
    h.qtbot.waitUntil(lambda: quals.model.column_texts("Person") == ["olga"], timeout=5000)
    assert quals.model.column_texts("Status") == ["Qualified"]
    quals.accept()
    h.wait_closed(quals)
