"""Accounts on screen: the first administrator, log-in, password change, user administration.

No default password exists (Part 11 §11.300): on the first start the person
at the screen creates the first administrator. Every administration step asks
for a reason, because the service records why with who and when (Annex 11
§12.4); the dialog says the service's refusal in its own words and stays open.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from necstgen_desk.records.errors import RuleViolation
from necstgen_desk.records.passwords import password_problems
from necstgen_desk.records.roles import Role
from necstgen_desk.services import UserInfo, UserSession
from ui.forms import (
    AsyncDialog,
    BusyBar,
    Column,
    InputProblem,
    MessageLabel,
    ReasonDialog,
    ViewTableModel,
    make_table,
    need_reason,
    run_dialog,
    selected_row,
)
from ui.records_context import RecordsContext
from ui.worker import TaskSet


def password_rules(min_length: int) -> str:
    return (
        f"Password rules: at least {min_length} characters; it must not be or contain the "
        "user name. Use a passphrase you use nowhere else. It is stored only as a salted "
        "argon2id hash: nobody, administrators included, can read it back."
    )


def _hint(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


def _password_field(parent: QWidget, name: str) -> QLineEdit:
    field = QLineEdit(parent)
    field.setObjectName(name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


def _check_new_password(username: str, password: str, repeat: str, min_length: int) -> None:
    if password != repeat:
        raise InputProblem("The two passwords differ; type the same password twice.")
    problems = password_problems(password, username, min_length=min_length)
    if problems:
        raise RuleViolation("Password not accepted", problems)


def _role_combo(parent: QWidget, name: str) -> QComboBox:
    combo = QComboBox(parent)
    combo.setObjectName(name)
    for role in Role:
        combo.addItem(role.display_name, role)
    return combo


def _role_text(parent: QWidget) -> QPlainTextEdit:
    """The written list of what the chosen role may do (read-only, scrolls)."""
    text = QPlainTextEdit(parent)
    text.setObjectName("roleDescription")
    text.setReadOnly(True)
    text.setFixedHeight(text.fontMetrics().lineSpacing() * 8 + 12)
    return text


def _combo_role(combo: QComboBox) -> Role:
    return Role(str(combo.currentData()))  # Qt hands the enum back as its str value


# ------------------------------------------------------------------ first start and log-in


class FirstAdminDialog(AsyncDialog[UserSession]):
    """The first start: create the first administrator, then log in as them."""

    def __init__(self, context: RecordsContext, parent: QWidget | None = None) -> None:
        super().__init__("Create the first administrator", parent, ok_text="Create and log in")
        self.context = context
        self.min_length = context.password_min_length
        title = QLabel("Welcome to NECSTGEN Desk", self.body)
        title.setObjectName("dialogTitle")
        intro = _hint(
            "No user account exists yet, and there is no default password. Create the first "
            "administrator now. Administrators manage accounts and roles but do not sign GMP "
            "records: create accounts for operators and QA next (Records → Users…).",
            self.body,
        )
        self.username = QLineEdit(self.body)
        self.username.setObjectName("username")
        self.full_name = QLineEdit(self.body)
        self.full_name.setObjectName("fullName")
        self.full_name.setPlaceholderText("printed on every signature, e.g. Jane Doe")
        self.password = _password_field(self.body, "password")
        self.repeat = _password_field(self.body, "repeatPassword")
        form = QFormLayout()
        form.addRow("User name:", self.username)
        form.addRow("Full name:", self.full_name)
        form.addRow("Password:", self.password)
        form.addRow("Password again:", self.repeat)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(_hint(password_rules(self.min_length), self.body))
        self.username.setFocus()
        self.setMinimumWidth(520)

    async def submit(self) -> UserSession:
        username = self.username.text().strip()
        full_name = self.full_name.text().strip()
        if not username or not full_name:
            raise InputProblem("Enter a user name and the full name.")
        password = self.password.text()
        _check_new_password(username, password, self.repeat.text(), self.min_length)
        accounts = self.context.records.accounts
        await self.context.call(accounts.create_first_admin, username, full_name, password)
        return await self.context.call(accounts.login, username, password)


class LoginDialog(AsyncDialog[UserSession]):
    """User name and password; the service's words for a refusal (locked, disabled, wrong)."""

    def __init__(
        self, context: RecordsContext, parent: QWidget | None = None, *, username: str = ""
    ) -> None:
        super().__init__("Log in — NECSTGEN Desk", parent, ok_text="Log in")
        self.context = context
        title = QLabel(f"Log in to {context.site.name}", self.body)
        title.setObjectName("dialogTitle")
        self.username = QLineEdit(username, self.body)
        self.username.setObjectName("username")
        self.password = _password_field(self.body, "password")
        form = QFormLayout()
        form.addRow("User name:", self.username)
        form.addRow("Password:", self.password)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(
            _hint(
                "Your own account only: GMP records carry the name of the person logged in.",
                self.body,
            )
        )
        (self.password if username else self.username).setFocus()
        self.setMinimumWidth(420)

    async def submit(self) -> UserSession:
        username = self.username.text().strip()
        password = self.password.text()
        if not username or not password:
            raise InputProblem("Enter your user name and your password.")
        return await self.context.call(self.context.records.accounts.login, username, password)

    def failed(self, error: BaseException) -> None:
        self.password.clear()
        self.password.setFocus()


class ChangePasswordDialog(AsyncDialog[UserInfo]):
    """The user's own password; required after an administrator set or reset it."""

    def __init__(
        self,
        context: RecordsContext,
        session: UserSession,
        parent: QWidget | None = None,
        *,
        required: bool = False,
    ) -> None:
        super().__init__(
            "Change your password",
            parent,
            ok_text="Change password",
            cancel_text="Log out" if required else "Cancel",
        )
        self.context = context
        self.session = session
        self.min_length = context.password_min_length
        self.old = _password_field(self.body, "oldPassword")
        self.new = _password_field(self.body, "newPassword")
        self.repeat = _password_field(self.body, "repeatPassword")
        form = QFormLayout()
        form.addRow("Current password:", self.old)
        form.addRow("New password:", self.new)
        form.addRow("New password again:", self.repeat)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        if required:
            layout.addWidget(
                _hint(
                    f"{session.user.full_name}, an administrator set your password. Choose your "
                    "own before you continue; only you will know it.",
                    self.body,
                )
            )
        layout.addLayout(form)
        layout.addWidget(_hint(password_rules(self.min_length), self.body))
        self.old.setFocus()
        self.setMinimumWidth(480)

    async def submit(self) -> UserInfo:
        new = self.new.text()
        _check_new_password(self.session.user.username, new, self.repeat.text(), self.min_length)
        accounts = self.context.records.accounts
        return await self.context.call(
            accounts.change_own_password, self.session, self.old.text(), new
        )

    def failed(self, error: BaseException) -> None:
        self.old.clear()
        self.new.clear()
        self.repeat.clear()
        self.old.setFocus()


# ------------------------------------------------------------------ administration


class AddUserDialog(AsyncDialog[UserInfo]):
    """A new account with a first password the person must change at first log-in."""

    def __init__(
        self,
        context: RecordsContext,
        admin: UserSession,
        roles: dict[Role, list[str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Add a user", parent, ok_text="Add user")
        self.context = context
        self.admin = admin
        self.roles = roles
        self.min_length = context.password_min_length
        self.username = QLineEdit(self.body)
        self.username.setObjectName("username")
        self.full_name = QLineEdit(self.body)
        self.full_name.setObjectName("fullName")
        self.role = _role_combo(self.body, "role")
        self.role_text = _role_text(self.body)
        self.password = _password_field(self.body, "password")
        self.repeat = _password_field(self.body, "repeatPassword")
        self.reason = QLineEdit(self.body)
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText("why, e.g. new operator on shift B")
        form = QFormLayout()
        form.addRow("User name:", self.username)
        form.addRow("Full name:", self.full_name)
        form.addRow("Role:", self.role)
        form.addRow("", self.role_text)
        form.addRow("First password:", self.password)
        form.addRow("Password again:", self.repeat)
        form.addRow("Reason:", self.reason)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(
            _hint(
                password_rules(self.min_length)
                + " The new user must choose their own password at first log-in.",
                self.body,
            )
        )
        self.role.currentIndexChanged.connect(self._show_role)
        self._show_role()
        self.setMinimumWidth(520)

    def _show_role(self) -> None:
        lines = self.roles.get(_combo_role(self.role), [])
        self.role_text.setPlainText("\n".join(lines))

    async def submit(self) -> UserInfo:
        username = self.username.text().strip()
        full_name = self.full_name.text().strip()
        if not username or not full_name:
            raise InputProblem("Enter a user name and the full name.")
        password = self.password.text()
        _check_new_password(username, password, self.repeat.text(), self.min_length)
        reason = need_reason(self.reason)
        accounts = self.context.records.accounts
        return await self.context.call(
            accounts.create_user,
            self.admin,
            username,
            full_name,
            _combo_role(self.role),
            password,
            reason,
        )


class ChangeRoleDialog(AsyncDialog[UserInfo]):
    def __init__(
        self,
        context: RecordsContext,
        admin: UserSession,
        user: UserInfo,
        roles: dict[Role, list[str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(f"Change the role of {user.username}", parent, ok_text="Change role")
        self.context = context
        self.admin = admin
        self.user = user
        self.roles = roles
        self.role = _role_combo(self.body, "role")
        self.role.setCurrentIndex(self.role.findData(user.role))
        self.role_text = _role_text(self.body)
        self.reason = QLineEdit(self.body)
        self.reason.setObjectName("reason")
        form = QFormLayout(self.body)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("User:", QLabel(f"{user.full_name} ({user.username})", self.body))
        form.addRow("Now:", QLabel(user.role.display_name, self.body))
        form.addRow("New role:", self.role)
        form.addRow("", self.role_text)
        form.addRow("Reason:", self.reason)
        self.role.currentIndexChanged.connect(self._show_role)
        self._show_role()
        self.setMinimumWidth(480)

    def _show_role(self) -> None:
        self.role_text.setPlainText("\n".join(self.roles.get(_combo_role(self.role), [])))

    async def submit(self) -> UserInfo:
        role = _combo_role(self.role)
        if role is self.user.role:
            raise InputProblem(f"{self.user.username} already has the role {role.display_name}.")
        reason = need_reason(self.reason)
        accounts = self.context.records.accounts
        return await self.context.call(
            accounts.change_role, self.admin, self.user.username, role, reason
        )


class ResetPasswordDialog(AsyncDialog[UserInfo]):
    def __init__(
        self,
        context: RecordsContext,
        admin: UserSession,
        user: UserInfo,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(f"Reset the password of {user.username}", parent, ok_text="Reset")
        self.context = context
        self.admin = admin
        self.user = user
        self.min_length = context.password_min_length
        self.password = _password_field(self.body, "password")
        self.repeat = _password_field(self.body, "repeatPassword")
        self.reason = QLineEdit(self.body)
        self.reason.setObjectName("reason")
        form = QFormLayout()
        form.addRow("New password:", self.password)
        form.addRow("Password again:", self.repeat)
        form.addRow("Reason:", self.reason)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(
            _hint(
                password_rules(self.min_length)
                + f" {user.full_name} must choose their own password at the next log-in.",
                self.body,
            )
        )
        self.setMinimumWidth(480)

    async def submit(self) -> UserInfo:
        password = self.password.text()
        _check_new_password(self.user.username, password, self.repeat.text(), self.min_length)
        reason = need_reason(self.reason)
        accounts = self.context.records.accounts
        return await self.context.call(
            accounts.reset_password, self.admin, self.user.username, password, reason
        )


def _yes(value: bool) -> str:
    return "yes" if value else "no"


USER_COLUMNS: list[Column[UserInfo]] = [
    Column("User name", lambda u: u.username),
    Column("Full name", lambda u: u.full_name),
    Column("Role", lambda u: u.role.display_name),
    Column("Active", lambda u: _yes(u.active)),
    Column("Locked", lambda u: "LOCKED" if u.locked else "no"),
    Column("Must change password", lambda u: _yes(u.must_change_password)),
]


class UserAdminDialog(QDialog):
    """Administrators: the accounts, what each role may do, and every change with a reason."""

    def __init__(
        self, context: RecordsContext, admin: UserSession, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("UserAdminDialog")
        self.setWindowTitle("Users — NECSTGEN Desk")
        self.context = context
        self.admin = admin
        self.tasks = TaskSet("users")
        self.roles: dict[Role, list[str]] = {}

        self.model = ViewTableModel(USER_COLUMNS, self, muted=lambda u: not u.active)
        self.table = make_table(self.model, self)
        self.table.setObjectName("usersTable")
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.add_button = self._button("Add user…", "addUser", self._add)
        self.role_button = self._button("Change role…", "changeRole", self._change_role)
        self.active_button = self._button("Disable…", "setActive", self._set_active)
        self.unlock_button = self._button("Unlock…", "unlock", self._unlock)
        self.reset_button = self._button("Reset password…", "resetPassword", self._reset)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.accept)

        buttons = QHBoxLayout()
        for button in (
            self.add_button,
            self.role_button,
            self.active_button,
            self.unlock_button,
            self.reset_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        roles_box = QGroupBox("What each role may do", self)
        self.role_pick = _role_combo(roles_box, "rolePick")
        self.role_text = QLabel(roles_box)
        self.role_text.setObjectName("roleDescription")
        self.role_text.setWordWrap(True)
        self.role_text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.role_text.setMinimumWidth(300)
        roles_layout = QVBoxLayout(roles_box)
        roles_layout.addWidget(self.role_pick)
        roles_layout.addWidget(self.role_text, 1)
        self.role_pick.currentIndexChanged.connect(self._show_role)

        self.message = MessageLabel(self)
        self.busy_bar = BusyBar("Loading…", self)
        top = QHBoxLayout()
        top.addWidget(self.table, 3)
        top.addWidget(roles_box, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_bar)
        layout.addLayout(buttons)
        self.resize(1100, 520)
        self._selection_changed()
        self.tasks.start(self.reload(), name="load users")

    def _button(self, text: str, name: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.clicked.connect(slot)
        return button

    # -------------------------------------------------------------- data

    async def reload(self, select: str | None = None) -> None:
        self.busy_bar.show()
        try:
            accounts = self.context.records.accounts
            if not self.roles:
                self.roles = await self.context.call(accounts.describe_roles)
                self._show_role()
            users = await self.context.call(accounts.list_users, self.admin)
        except Exception as error:
            self.message.show_error(error)
            return
        finally:
            self.busy_bar.hide()
        self.model.set_rows(users)
        if select is not None:
            for row, user in enumerate(users):
                if user.username == select:
                    self.table.selectRow(row)
        self._selection_changed()

    def selected_user(self) -> UserInfo | None:
        row = selected_row(self.table)
        return None if row is None else self.model.row_at(row)

    def _selection_changed(self) -> None:
        user = self.selected_user()
        for button in (self.role_button, self.active_button, self.reset_button):
            button.setEnabled(user is not None)
        self.unlock_button.setEnabled(user is not None and user.locked)
        self.active_button.setText(
            "Enable…" if user is not None and not user.active else "Disable…"
        )
        if user is not None:
            self.role_pick.setCurrentIndex(self.role_pick.findData(user.role))

    def _show_role(self) -> None:
        role = _combo_role(self.role_pick)
        lines = self.roles.get(role, [])
        body = "\n".join(f"• {line}" for line in lines) if lines else "May do nothing yet."
        self.role_text.setText(f"{role.display_name}:\n{body}")

    # -------------------------------------------------------------- actions

    def _run(self, dialog: AsyncDialog[UserInfo], done: str) -> None:
        async def flow() -> None:
            if await run_dialog(dialog) and dialog.value is not None:
                self.message.show_message(done.format(user=dialog.value.username), "ok")
                await self.reload(select=dialog.value.username)

        self.tasks.start(flow(), name=dialog.windowTitle())

    def _add(self) -> None:
        self._run(AddUserDialog(self.context, self.admin, self.roles, self), "User {user} added.")

    def _change_role(self) -> None:
        user = self.selected_user()
        if user is not None:
            self._run(
                ChangeRoleDialog(self.context, self.admin, user, self.roles, self),
                "Role of {user} changed.",
            )

    def _set_active(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        accounts = self.context.records.accounts
        enable = not user.active

        async def act(reason: str) -> UserInfo:
            return await self.context.call(
                accounts.set_active, self.admin, user.username, enable, reason
            )

        verb = "Enable" if enable else "Disable"
        question = (
            f"Enable the account {user.username} ({user.full_name}) so it can log in again?"
            if enable
            else f"Disable the account {user.username} ({user.full_name})? It can no longer "
            "log in; its records and signatures stay."
        )
        self._run(
            ReasonDialog(f"{verb} {user.username}", question, act, self, ok_text=verb),
            f"Account {{user}} {verb.lower()}d.",
        )

    def _unlock(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        accounts = self.context.records.accounts

        async def act(reason: str) -> UserInfo:
            return await self.context.call(accounts.unlock, self.admin, user.username, reason)

        self._run(
            ReasonDialog(
                f"Unlock {user.username}",
                f"Unlock the account {user.username} ({user.full_name}), locked after failed "
                "log-ins? Make sure it was the person themselves who mistyped.",
                act,
                self,
                ok_text="Unlock",
            ),
            "Account {user} unlocked.",
        )

    def _reset(self) -> None:
        user = self.selected_user()
        if user is not None:
            self._run(
                ResetPasswordDialog(self.context, self.admin, user, self),
                "Password of {user} reset; they choose a new one at the next log-in.",
            )

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)
