"""The records screens one by one: idle lock, accounts, gowning, logbooks, the plan, the chain."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from necstgen_desk.live import PointStore
from necstgen_desk.records.lifecycle import RoomAction, RoomStatus
from necstgen_desk.records.roles import Role
from necstgen_desk.site import Site
from tests.gui.records_support import (
    ADMIN,
    FIRST_PASSWORD,
    OPERATOR,
    OPERATOR_2,
    QA,
    Harness,
    sqlite_url,
)
from ui.account_dialogs import ChangeRoleDialog, LoginDialog, UserAdminDialog
from ui.forms import ReasonDialog
from ui.lock import CoverState
from ui.logbooks import LogbooksWindow
from ui.main_window import MainWindow
from ui.qualifications import QualificationFormDialog, QualificationsDialog
from ui.records_desk import RecordsConfig, RecordsDesk
from ui.room_logbook import CleaningDialog, GowningEntryDialog, GowningExitDialog

from .test_records_desk import (
    change_status,
    open_room,
    press_action,
    wait_plan_mark,
    wait_status,
)

# ------------------------------------------------------------------ helpers


def add_users(h: Harness, *users: tuple[tuple[str, str, str], Role]) -> None:
    h.desk.users_action.trigger()
    admin = h.dialog(UserAdminDialog)
    h.qtbot.waitUntil(lambda: ADMIN[0] in admin.model.column_texts("User name"), timeout=5000)
    for user, role in users:
        h.add_user(admin, user, role)
    h.click(admin.close_button)
    h.wait_closed(admin)


def users_row(admin: UserAdminDialog, username: str) -> int:
    return admin.model.column_texts("User name").index(username)


# ------------------------------------------------------------------ idle lock


@pytest.mark.records_config(idle_lock=timedelta(seconds=0.5))
def test_idle_lock_covers_the_window_and_unlocks_with_the_password(
    records_harness: Harness,
) -> None:
    h = records_harness
    desk = h.desk
    h.create_first_admin()
    assert not desk.cover.covering
    h.qtbot.waitUntil(lambda: desk.cover.state is CoverState.LOCKED, timeout=5000)
    cover = desk.cover
    assert cover.covering and cover.geometry() == h.window.rect()  # the whole window
    assert "Locked — Ada Admin (admin)" in cover.title.text()
    assert not desk.users_action.isEnabled() and not desk.room_logbook_action.isEnabled()
    assert not h.window.plan.isEnabled() and not h.window.menuBar().isEnabled()  # no Tab in
    session = desk.session
    assert session is not None and not session.signing.signed_once

    h.type(cover.password, "wrong password")
    h.click(cover.unlock_button)
    h.qtbot.waitUntil(lambda: bool(cover.message.message), timeout=5000)
    assert "not correct" in cover.message.message
    assert cover.covering

    h.type(cover.password, ADMIN[2])
    h.click(cover.unlock_button)
    h.qtbot.waitUntil(lambda: not cover.covering, timeout=5000)
    assert desk.session is session  # the same session goes on
    assert h.window.plan.isEnabled()

    # It locks again when left alone; "Switch user" lets someone else in at once.
    h.qtbot.waitUntil(lambda: cover.state is CoverState.LOCKED, timeout=5000)
    h.click(cover.switch_button)
    login = h.dialog(LoginDialog)
    assert h.desk.context is not None and h.desk.context.session is None
    h.type(login.username, ADMIN[0])
    h.type(login.password, ADMIN[2])
    h.click(login.ok_button)
    h.wait_logged_in(ADMIN[0])


def test_lock_from_the_menu_hides_open_windows_until_unlocked(records_harness: Harness) -> None:
    h = records_harness
    desk = h.desk
    h.create_first_admin()
    desk.audit_action.trigger()
    viewer = desk.audit_viewer
    assert viewer is not None and viewer.isVisible()
    desk.lock_action.trigger()
    assert desk.cover.state is CoverState.LOCKED
    assert not viewer.isVisible()
    h.type(desk.cover.password, ADMIN[2])
    h.click(desk.cover.unlock_button)
    h.qtbot.waitUntil(lambda: not desk.cover.covering, timeout=5000)
    assert viewer.isVisible()


# ------------------------------------------------------------------ accounts


def test_five_wrong_passwords_lock_the_account_until_an_administrator_unlocks(
    records_harness: Harness,
) -> None:
    h = records_harness
    h.create_first_admin()
    add_users(h, (OPERATOR, Role.OPERATOR))
    h.desk.switch_user_action.trigger()
    login = h.dialog(LoginDialog)
    for _ in range(5):
        h.type(login.username, OPERATOR[0])
        h.type(login.password, "not it at all")
        h.click(login.ok_button)
        h.wait_message(login)
        login.message.clear_message()
    h.type(login.password, FIRST_PASSWORD)
    h.click(login.ok_button)
    words = h.wait_message(login)
    assert "locked" in words and "an administrator must unlock it" in words

    h.type(login.username, ADMIN[0])
    h.type(login.password, ADMIN[2])
    h.click(login.ok_button)
    h.wait_logged_in(ADMIN[0])
    h.desk.users_action.trigger()
    admin = h.dialog(UserAdminDialog)
    h.qtbot.waitUntil(lambda: OPERATOR[0] in admin.model.column_texts("User name"))
    row = users_row(admin, OPERATOR[0])
    assert admin.model.column_texts("Locked")[row] == "LOCKED"
    h.select_row(admin.table, row)
    h.click(admin.unlock_button)
    unlock = h.dialog(ReasonDialog)
    h.click(unlock.ok_button)
    assert h.wait_message(unlock).startswith("Give a reason")
    h.type(unlock.reason, "operator mistyped; identity checked in person")
    h.click(unlock.ok_button)
    h.wait_closed(unlock)
    h.qtbot.waitUntil(lambda: admin.model.column_texts("Locked")[row] == "no", timeout=5000)

    # Change the role with a reason; the written list of rights follows the choice.
    h.select_row(admin.table, row)
    h.click(admin.role_button)
    role = h.dialog(ChangeRoleDialog)
    h.pick(role.role, "Shift lead")
    assert "view the audit trail" in role.role_text.toPlainText()
    h.type(role.reason, "promoted to shift lead")
    h.click(role.ok_button)
    h.wait_closed(role)
    h.qtbot.waitUntil(lambda: admin.model.column_texts("Role")[row] == "Shift lead")
    h.click(admin.close_button)
    h.wait_closed(admin)

    h.switch_to(OPERATOR, first_time=True)
    assert h.desk.audit_action.isEnabled()  # a shift lead reviews the audit trail


# ------------------------------------------------------------------ gowning


def test_grade_b_entry_needs_a_gowning_qualification(records_harness: Harness) -> None:
    h = records_harness
    h.create_first_admin()
    add_users(h, (QA, Role.QA))
    h.switch_to(QA, first_time=True)
    open_room(h, "B-02")
    h.panel.tabs.setCurrentIndex(2)

    h.click(h.panel.gowning_entry_button)
    entry = h.dialog(GowningEntryDialog)
    h.qtbot.waitUntil(lambda: entry.qualification.text().startswith("MISSING"), timeout=5000)
    h.type(entry.garment_lot, "GL-2611-01")
    h.click(entry.ok_button)
    assert "needs a valid gowning qualification" in h.wait_message(entry)
    h.click(entry.cancel_button)
    h.wait_closed(entry)

    h.click(h.panel.qualifications_button)
    quals = h.dialog(QualificationsDialog)
    h.click(quals.record_button)
    form = h.dialog(QualificationFormDialog)
    h.type(form.person, QA[0])
    h.type(form.reason, "gowning qualification passed")
    h.click(form.ok_button)
    h.sign(QA, expect_user_id=True)
    h.qtbot.waitUntil(lambda: quals.model.column_texts("Person") == [QA[0]], timeout=5000)
    quals.accept()
    h.wait_closed(quals)

    h.click(h.panel.gowning_entry_button)
    entry = h.dialog(GowningEntryDialog)
    h.qtbot.waitUntil(lambda: entry.qualification.text().startswith("Qualified"), timeout=5000)
    h.type(entry.garment_lot, "GL-2611-01")
    h.click(entry.ok_button)
    h.wait_closed(entry)
    h.qtbot.waitUntil(lambda: h.panel.gowning_model.rowCount() == 1, timeout=5000)
    assert h.panel.gowning_model.column_texts("Time out") == ["inside"]

    h.select_row(h.panel.gowning_table, 0)
    h.click(h.panel.gowning_exit_button)
    leaving = h.dialog(GowningExitDialog)
    h.click(leaving.ok_button)
    h.wait_closed(leaving)
    h.qtbot.waitUntil(
        lambda: h.panel.gowning_model.column_texts("Time out")[0] != "inside", timeout=5000
    )


# ------------------------------------------------------------------ logbooks and plan


def test_logbooks_list_every_room_and_filter_by_room(records_harness: Harness) -> None:
    h = records_harness
    h.create_first_admin()
    add_users(h, (QA, Role.QA))
    h.switch_to(QA, first_time=True)
    for room in ("B-01", "C-01"):
        open_room(h, room)
        change_status(h, RoomAction.START_CLEANING, RoomStatus.CLEANING)
    h.desk.logbooks_action.trigger()
    books = h.desk.logbooks
    assert isinstance(books, LogbooksWindow)
    h.qtbot.waitUntil(lambda: books.status_model.rowCount() == 2, timeout=5000)
    assert sorted(books.status_model.column_texts("Room")) == ["B-01", "C-01"]
    h.pick(books.room, "C-01")
    h.qtbot.waitUntil(
        lambda: books.status_model.column_texts("Room") == ["C-01"] and not books.reloader.busy,
        timeout=5000,
    )
    assert "status changes" in books.summary.text()


def test_the_plan_shows_status_and_the_sporicidal_flag(records_harness: Harness) -> None:
    h = records_harness
    plan = h.window.plan
    h.qtbot.waitUntil(lambda: plan.room_mark("B-01") is not None, timeout=5000)
    for space in h.window.site.spaces:
        mark = plan.room_mark(space.id)
        assert mark is not None and mark.text == "TO CLEAN" and mark.marked
    # No sporicidal clean on record yet: classified rooms carry the flag, CNC does not.
    b01 = plan.room_mark("B-01")
    assert b01 is not None and b01.sporicidal_overdue and "SPOR!" in b01.tooltip
    qc = plan.room_mark("QC-LAB")
    assert qc is not None and not qc.sporicidal_overdue
    h.create_first_admin()
    add_users(h, (QA, Role.QA))
    h.switch_to(QA, first_time=True)
    open_room(h, "C-02")
    change_status(h, RoomAction.TAKE_OUT_OF_SERVICE, RoomStatus.OUT_OF_SERVICE, "leak in HVAC")
    wait_plan_mark(h, "C-02", "OUT OF SVC")


# ------------------------------------------------------------------ a broken audit chain


def test_a_broken_audit_chain_raises_a_high_system_message(
    records_harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Tamper with the file behind the app's back; the next start says so, loudly."""
    h = records_harness
    h.create_first_admin()
    h.run(h.desk.stop())
    with sqlite3.connect(tmp_path / "records.sqlite") as connection:
        connection.execute("DROP TRIGGER audit_entries_no_update")
        connection.execute("UPDATE audit_entries SET reason = 'nothing to see' WHERE id = 1")
    connection.close()

    caplog.set_level(logging.CRITICAL, logger="ui.records_desk")
    window = MainWindow(h.window.site, h.window.store, remember_geometry=False)
    desk = RecordsDesk(window, window.site, h.desk.config)
    window.show()
    again = Harness(h.qtbot, h.loop, window, desk)
    try:
        assert again.run(desk.start())
        bar = desk.system_message
        assert desk.system_bar.isVisible() and bar.active
        assert "Audit trail BROKEN at audit entry 1" in bar.label.text()
        assert "report this to QA" in bar.label.text()
        assert bar.label.text().startswith("▲ HIGH")
        assert "Audit trail BROKEN" in desk.cover.system_message.text()
        assert not bar.ack_button.isEnabled()  # nobody logged in yet
        assert any("Audit trail BROKEN" in r.getMessage() for r in caplog.records)

        login = again.dialog(LoginDialog)
        again.type(login.username, ADMIN[0])
        again.type(login.password, ADMIN[2])
        again.click(login.ok_button)
        again.wait_logged_in(ADMIN[0])
        again.click(bar.ack_button)
        assert bar.acknowledged_by == ADMIN[0]
        assert desk.system_bar.isVisible() and "acknowledged by admin" in bar.label.text()
        assert not bar.ack_button.isVisible()
    finally:
        again.run(desk.stop())
        window.close()
        window.deleteLater()


# ------------------------------------------------------------------ start-up problems


def test_a_file_that_is_no_database_is_said_so_and_nothing_else_opens(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, site: Site, store: PointStore, tmp_path: Path
) -> None:
    bad = tmp_path / "records.sqlite"
    bad.write_bytes(b"this is not a database, just text " * 200)
    window = MainWindow(site, store, remember_geometry=False)
    desk = RecordsDesk(window, site, RecordsConfig(db_url=sqlite_url(bad)))
    window.show()
    h = Harness(qtbot, qloop, window, desk)
    try:
        assert h.run(desk.start()) is False
        assert desk.cover.state is CoverState.FAILED and desk.cover.covering
        assert "cannot be opened" in desk.cover.title.text()
        assert str(bad) in desk.cover.detail.text()
        assert not desk.room_logbook_action.isEnabled()
        assert not any(isinstance(w, LoginDialog) for w in QApplication.topLevelWidgets())
    finally:
        h.run(desk.stop())
        window.close()
        window.deleteLater()


# ------------------------------------------------------------------ the clean hold


@pytest.mark.records_config(clean_hold=timedelta(seconds=2), hold_check_ms=200)
def test_a_released_room_goes_back_to_be_cleaned_when_its_hold_expires(
    records_harness: Harness,
) -> None:
    h = records_harness
    h.create_first_admin()
    add_users(h, (OPERATOR, Role.OPERATOR), (OPERATOR_2, Role.OPERATOR), (QA, Role.QA))
    release_room(h, "B-03")
    wait_plan_mark(h, "B-03", "RELEASED")
    snapshot = h.panel.snapshot
    assert snapshot is not None and snapshot.current.hold_expires_at is not None
    # The desk asks the services every hold_check_ms; the system takes the step.
    wait_plan_mark(h, "B-03", "TO CLEAN")
    h.qtbot.waitUntil(
        lambda: (
            h.panel.snapshot is not None
            and h.panel.snapshot.current.status is RoomStatus.TO_BE_CLEANED
        ),
        timeout=5000,
    )
    expired = h.panel.snapshot
    assert expired is not None and expired.current.by == "system"


def release_room(h: Harness, room: str) -> None:
    """Cleaning by one operator, verified by another, released by QA."""
    h.switch_to(OPERATOR, first_time=True)
    open_room(h, room)
    change_status(h, RoomAction.START_CLEANING, RoomStatus.CLEANING)
    h.click(h.panel.log_cleaning_button)
    form = h.dialog(CleaningDialog)
    h.type(form.agent, "70 % IPA")
    h.type(form.lot, "IPA-2611-02")
    h.type(form.achieved, "15")
    h.click(form.ok_button)
    h.wait_closed(h.sign(OPERATOR, expect_user_id=True))
    h.switch_to(OPERATOR_2, first_time=True)
    open_room(h, room)
    h.qtbot.waitUntil(lambda: h.panel.cleaning_model.rowCount() == 1, timeout=5000)
    h.select_row(h.panel.cleaning_table, 0)
    h.click(h.panel.verify_button)
    h.wait_closed(h.sign(OPERATOR_2, expect_user_id=True))
    change_status(h, RoomAction.FINISH_CLEANING, RoomStatus.CLEANED)
    h.switch_to(QA, first_time=True)
    open_room(h, room)
    release = press_action(h, RoomAction.RELEASE)
    h.click(release.ok_button)
    h.wait_closed(h.sign(QA, expect_user_id=True))
    wait_status(h, RoomStatus.RELEASED)
