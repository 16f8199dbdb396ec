"""Driving the records screens as a person would: find the dialog, type, click, wait."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QTableView,
    QWidget,
)
from pytestqt.qtbot import QtBot

from necstgen_desk.records.passwords import PasswordPolicy
from necstgen_desk.records.roles import Role
from ui.account_dialogs import (
    AddUserDialog,
    ChangePasswordDialog,
    FirstAdminDialog,
    LoginDialog,
    UserAdminDialog,
)
from ui.audit_viewer import AuditViewer
from ui.forms import AsyncDialog
from ui.main_window import MainWindow
from ui.records_desk import RecordsDesk
from ui.room_logbook import RoomLogbookPanel
from ui.signature_dialog import SignatureDialog

#: Fast argon2 for tests (ADR 0004's suggestion); never in production.
FAST_POLICY = PasswordPolicy(time_cost=1, memory_cost=8, parallelism=1)

ADMIN = ("admin", "Ada Admin", "silver compass 5")
OPERATOR = ("olga", "Olga Operator", "blue tractor 42")
OPERATOR_2 = ("otto", "Otto Operator", "green ladder 77")
QA = ("quinn", "Quinn QA", "yellow harbour 9")
FIRST_PASSWORD = "temporary pass 123"  # set by the administrator, changed at first log-in


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@dataclass
class Harness:
    """The main window with its records desk, and a person's hands on it."""

    qtbot: QtBot
    loop: asyncio.AbstractEventLoop
    window: MainWindow
    desk: RecordsDesk

    # -------------------------------------------------------------- waiting

    def run[T](self, coro: Coroutine[Any, Any, T], timeout_ms: int = 10_000) -> T:
        task = self.loop.create_task(coro)
        self.qtbot.waitUntil(task.done, timeout=timeout_ms)
        return task.result()

    def dialog[D: QWidget](self, kind: type[D], timeout: int = 5000) -> D:
        """The newest visible dialog of ``kind`` (waits for it to appear)."""
        found: list[D] = []

        def visible() -> bool:
            found[:] = [
                w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()
            ]
            return bool(found)

        self.qtbot.waitUntil(visible, timeout=timeout)
        return found[-1]

    def no_dialog(self, kind: type[QWidget]) -> None:
        self.qtbot.waitUntil(
            lambda: (
                not any(
                    isinstance(w, kind) and w.isVisible() for w in QApplication.topLevelWidgets()
                )
            ),
            timeout=5000,
        )

    def wait_closed(self, dialog: QWidget, timeout: int = 5000) -> None:
        self.qtbot.waitUntil(
            lambda: not shiboken6.isValid(dialog) or not dialog.isVisible(), timeout=timeout
        )

    def wait_message(self, dialog: AsyncDialog[Any], timeout: int = 5000) -> str:
        """Wait until ``dialog`` shows a refusal, and return its words."""
        self.qtbot.waitUntil(
            lambda: not dialog.busy and bool(dialog.message.message), timeout=timeout
        )
        return dialog.message.message

    # -------------------------------------------------------------- hands

    def type(self, widget: QWidget, text: str, *, replace: bool = True) -> None:
        if replace:
            if isinstance(widget, QLineEdit):
                widget.clear()
            elif isinstance(widget, QAbstractSpinBox):
                widget.selectAll()
        QTest.keyClicks(widget, text)

    def pick(self, combo: QComboBox, text: str) -> None:
        """Open the list and click the first item that starts with ``text``."""
        row = next((i for i in range(combo.count()) if combo.itemText(i).startswith(text)), None)
        assert row is not None, f"{text!r} is not in {combo.objectName()}"
        combo.showPopup()
        view = combo.view()
        self.qtbot.waitUntil(view.isVisible, timeout=2000)
        index = view.model().index(row, combo.modelColumn())
        view.scrollTo(index)
        QTest.mouseClick(
            view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center()
        )
        self.qtbot.waitUntil(lambda: not view.isVisible(), timeout=2000)
        assert combo.currentText().startswith(text), (combo.currentText(), text)

    def click(self, button: QAbstractButton) -> None:
        assert button.isEnabled(), f"{button.text()!r} is disabled"
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)

    def select_row(self, table: QTableView, row: int) -> None:
        table.scrollTo(table.model().index(row, 0))
        rect = table.visualRect(table.model().index(row, 0))
        QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    def double_click_room(self, room_id: str) -> None:
        plan = self.window.plan
        item = plan.space_item(room_id)
        corner = item.bounds.topLeft()
        scene_pos = corner + (item.bounds.bottomRight() - corner) * 0.15
        pos: QPoint = plan.mapFromScene(scene_pos)
        QTest.mouseDClick(plan.viewport(), Qt.MouseButton.LeftButton, pos=pos)

    # -------------------------------------------------------------- steps

    def create_first_admin(self) -> None:
        username, full_name, password = ADMIN
        dialog = self.dialog(FirstAdminDialog)
        self.type(dialog.username, username)
        self.type(dialog.full_name, full_name)
        self.type(dialog.password, password)
        self.type(dialog.repeat, password)
        self.click(dialog.ok_button)
        self.wait_logged_in(username)

    def wait_logged_in(self, username: str) -> None:
        def ready() -> bool:
            session = self.desk.session
            return (
                session is not None
                and session.user.username == username
                and not self.desk.cover.covering
            )

        self.qtbot.waitUntil(ready, timeout=5000)

    def add_user(self, admin: UserAdminDialog, user: tuple[str, str, str], role: Role) -> None:
        username, full_name, _password = user
        self.click(admin.add_button)
        dialog = self.dialog(AddUserDialog)
        self.type(dialog.username, username)
        self.type(dialog.full_name, full_name)
        self.pick(dialog.role, role.display_name)
        self.type(dialog.password, FIRST_PASSWORD)
        self.type(dialog.repeat, FIRST_PASSWORD)
        self.type(dialog.reason, f"new {role.display_name} account")
        self.click(dialog.ok_button)
        self.wait_closed(dialog)
        self.qtbot.waitUntil(
            lambda: username in admin.model.column_texts("User name"), timeout=5000
        )

    def log_in(self, user: tuple[str, str, str], *, first_time: bool = False) -> None:
        """Log in at the log-in dialog; at the first log-in choose one's own password."""
        username, _full_name, password = user
        dialog = self.dialog(LoginDialog)
        self.type(dialog.username, username)
        self.type(dialog.password, FIRST_PASSWORD if first_time else password)
        self.click(dialog.ok_button)
        if first_time:
            change = self.dialog(ChangePasswordDialog)
            self.type(change.old, FIRST_PASSWORD)
            self.type(change.new, password)
            self.type(change.repeat, password)
            self.click(change.ok_button)
        self.wait_logged_in(username)

    def switch_to(self, user: tuple[str, str, str], *, first_time: bool = False) -> None:
        self.desk.switch_user_action.trigger()
        self.log_in(user, first_time=first_time)

    def sign(self, user: tuple[str, str, str], *, expect_user_id: bool) -> SignatureDialog[Any]:
        """Sign in the open signature dialog (the caller waits for the outcome)."""
        dialog = self.dialog(SignatureDialog)
        assert dialog.needs_user_id is expect_user_id
        assert dialog.user_id.isVisible() is expect_user_id
        if expect_user_id:
            self.type(dialog.user_id, user[0])
        self.type(dialog.password, user[2])
        self.click(dialog.ok_button)
        return dialog

    def open_audit_viewer(self) -> AuditViewer:
        """Records → Audit trail… as the logged-in person; waits for the first entries."""
        self.desk.audit_action.trigger()
        viewer = self.desk.audit_viewer
        assert isinstance(viewer, AuditViewer)
        self.qtbot.waitUntil(lambda: viewer.model.rowCount() > 0, timeout=5000)
        return viewer

    def apply_audit_filters(self, viewer: AuditViewer) -> None:
        """Click "Apply filters" and wait for the entries to load again."""
        before = viewer.reloader.loads
        self.click(viewer.apply_button)
        self.qtbot.waitUntil(lambda: viewer.reloader.loads > before, timeout=5000)

    @property
    def panel(self) -> RoomLogbookPanel:
        panel = self.desk.panel
        assert panel is not None
        return panel

    def panel_loaded(self) -> None:
        """Wait for the room logbook to show fresh data after a change."""
        before = self.panel.reloader.loads
        self.qtbot.waitUntil(
            lambda: self.panel.reloader.loads > before and not self.panel.reloader.busy,
            timeout=5000,
        )
