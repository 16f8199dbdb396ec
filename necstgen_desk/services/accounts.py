"""Accounts: the first administrator, login with lockout, user management (ADR 0004).

Part 11 §11.300 and Annex 11 §12: unique accounts, passwords stored only as
argon2id hashes, five wrong passwords in a row lock the account until an
administrator unlocks it, every change to an account audited with its reason.
Administrators manage accounts and sign no GMP record.
"""

from __future__ import annotations

import builtins
import re
from datetime import datetime

from sqlalchemy import func, select

from necstgen_desk.records.errors import AuthenticationError, RuleViolation
from necstgen_desk.records.passwords import (
    LoginOutcome,
    LoginState,
    apply_login_attempt,
    hash_password,
    login_error,
    needs_rehash,
    password_problems,
    verify_unknown_user,
)
from necstgen_desk.records.roles import Permission, Role, describe_role, same_user
from necstgen_desk.services._core import (
    USER_RECORD,
    Core,
    Refusal,
    Tx,
    audit_id,
    reason_or_problem,
    refuse,
    user_info,
)
from necstgen_desk.services.errors import NotFound
from necstgen_desk.services.views import UserInfo, UserSession
from necstgen_desk.storage import repo
from necstgen_desk.storage.audit import SYSTEM_USER, append_audit
from necstgen_desk.storage.models import NAME_LENGTH, TEXT_LENGTH, User

#: User names: a letter or digit, then letters, digits and ``. _ - @`` (no spaces).
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")


def username_problems(username: str) -> list[str]:
    name = username.strip()
    if not name:
        return ["the user name is blank"]
    problems = []
    if len(name) > NAME_LENGTH:
        problems.append(f"the user name is longer than {NAME_LENGTH} characters")
    if not USERNAME_PATTERN.fullmatch(name):
        problems.append(
            "the user name may hold only letters, digits and . _ - @ (no spaces), "
            "and starts with a letter or digit"
        )
    if same_user(name, SYSTEM_USER):
        problems.append(f"{SYSTEM_USER!r} is the name of the program's own entries")
    return problems


def full_name_problems(full_name: str) -> list[str]:
    name = full_name.strip()
    if not name:
        return ["the full name is blank (it is printed on every signature)"]
    if len(name) > TEXT_LENGTH:
        return [f"the full name is longer than {TEXT_LENGTH} characters"]
    return []


class AccountService:
    def __init__(self, core: Core) -> None:
        self._core = core

    def _password_problems(self, password: str, username: str) -> list[str]:
        policy = self._core.settings.password_policy
        return password_problems(password, username, min_length=policy.min_length)

    def _hash(self, password: str) -> str:
        return hash_password(password, self._core.settings.password_policy)

    # ------------------------------------------------------------ first start

    def has_users(self) -> bool:
        return self._core.read(lambda tx: _count_users(tx) > 0)

    def create_first_admin(self, username: str, full_name: str, password: str) -> UserInfo:
        """The first account, an administrator; refused once any account exists."""
        name = username.strip()
        problems = [
            *username_problems(name),
            *full_name_problems(full_name),
            *self._password_problems(password, name),
        ]
        refuse("First administrator refused", problems)
        password_hash = self._hash(password)

        def work(tx: Tx) -> UserInfo:
            if _count_users(tx) > 0:
                raise RuleViolation(
                    "First administrator refused",
                    "accounts already exist; an administrator adds further accounts",
                )
            user = repo.add_user(
                tx.db,
                username=name,
                full_name=full_name,
                role=Role.ADMIN,
                password_hash=password_hash,
                by=name,
                reason="first administrator, created at installation",
                must_change_password=False,
                at=tx.now,
            )
            tx.changed(USER_RECORD, user.id, None)
            return user_info(user)

        return self._core.write(work)

    # ------------------------------------------------------------ sessions

    def login(self, username: str, password: str) -> UserSession:
        """Open a session; :class:`AuthenticationError` on a wrong user name or
        password (the same message), a disabled or a locked account. Every
        attempt is audited; the fifth failure in a row locks the account."""
        core = self._core
        policy = core.settings.password_policy
        typed = username.strip()
        found = core.read(lambda tx: _snapshot(tx, typed))
        # The slow hash runs outside any transaction.
        ok = (
            verify_unknown_user(password, policy)
            if found is None
            else core.password_ok(found, password)
        )

        def work(tx: Tx) -> tuple[UserSession | None, AuthenticationError | None]:
            user = repo.get_user_by_username(tx.db, typed) if typed else None
            if user is None:
                _login_failed(
                    tx, audit_id(typed), "unknown", "login with a user name that has no account"
                )
                return None, AuthenticationError.wrong_credentials()
            if found is None or found.id != user.id:  # the account appeared meanwhile
                return None, AuthenticationError.wrong_credentials()
            if not user.active:
                _login_failed(tx, user.username, user.id, "login to a disabled account")
                error = (
                    AuthenticationError.account_disabled(user.username)
                    if ok
                    else AuthenticationError.wrong_credentials()
                )
                return None, error
            state = LoginState(failed_count=user.failed_logins, locked=user.locked)
            _, outcome = apply_login_attempt(state, ok)
            if outcome is LoginOutcome.REFUSED_LOCKED:
                _login_failed(tx, user.username, user.id, "login to a locked account")
                return None, login_error(outcome, user.username)
            if not ok:
                core.count_failure(tx, user.id, action="login_failed", reason="wrong password")
                return None, login_error(
                    LoginOutcome.LOCKED_NOW if user.locked else LoginOutcome.FAILED,
                    user.username,
                )
            core.count_success(tx, user, action="login")
            if needs_rehash(user.password_hash, policy):
                repo.update_user(
                    tx.db,
                    user,
                    by=user.username,
                    reason="password hash renewed with the current argon2id parameters",
                    at=tx.now,
                    password_hash=hash_password(password, policy),
                )
            append_audit(
                tx.db,
                username=user.username,
                action="login",
                record_type=USER_RECORD,
                record_id=user.id,
                reason="logged in",
                at=tx.now,
            )
            return UserSession(user=user_info(user), started_at=tx.now), None

        session, error = core.write(work)
        if error is not None:
            raise error
        assert session is not None
        return session

    def logout(self, session: UserSession) -> None:
        """End the session (audited); its signing continuity ends with it."""
        session.signing.reset()
        if session.ended_at is not None:
            return

        def work(tx: Tx) -> datetime:
            append_audit(
                tx.db,
                username=session.user.username,
                action="logout",
                record_type=USER_RECORD,
                record_id=session.user.id,
                reason="logged out",
                at=tx.now,
            )
            return tx.now

        session.ended_at = self._core.write(work)

    def verify_password(self, session: UserSession, password: str) -> bool:
        """Unlock an idle-locked screen: whether ``password`` is the session user's.

        A failure is audited and counts toward the lockout. Either way the
        signing continuity restarts: the next signature needs user ID and password.
        """
        core = self._core
        session.signing.reset()
        if session.ended_at is not None:
            return False
        found = core.read(lambda tx: tx.db.get(User, session.user.id))
        if found is None or not found.active or found.locked:
            return False
        ok = core.password_ok(found, password)

        def work(tx: Tx) -> None:
            user = tx.db.get(User, found.id)
            if user is None:
                return
            if ok:
                core.count_success(tx, user, action="screen_unlocked")
            else:
                core.count_failure(
                    tx,
                    user.id,
                    action="unlock_failed",
                    reason="wrong password to unlock the screen",
                )

        core.write(work)
        return ok

    def change_own_password(
        self, session: UserSession, old_password: str, new_password: str
    ) -> UserInfo:
        """The owner sets a new password (required after an administrator set one)."""
        core = self._core

        def work(tx: Tx) -> UserInfo:
            user = core.actor(tx, session, password_change_ok=True)
            if not core.password_ok(user, old_password):
                user_id = user.id

                def record(t: Tx) -> None:
                    core.count_failure(
                        t,
                        user_id,
                        action="password_change_failed",
                        reason="wrong current password when changing the password",
                    )

                raise Refusal(
                    AuthenticationError(
                        "The current password is not correct; the password was not changed."
                    ),
                    record,
                )
            problems = self._password_problems(new_password, user.username)
            if not problems and core.password_ok(user, new_password):
                problems.append("the new password is the current one")
            refuse("Password not changed", problems)
            core.count_success(tx, user, action="password_ok")
            repo.update_user(
                tx.db,
                user,
                by=user.username,
                reason="password changed by its owner",
                at=tx.now,
                password_hash=self._hash(new_password),
                must_change_password=False,
            )
            tx.changed(USER_RECORD, user.id, None)
            return user_info(user)

        info = core.write(work)
        session.user = info
        return info

    # ------------------------------------------------------------ administration

    def _admin(self, tx: Tx, admin: UserSession, attempted: str, target: str) -> User:
        return self._core.permitted(
            tx,
            admin,
            Permission.MANAGE_USERS,
            attempted=attempted,
            record_type=USER_RECORD,
            record_id=target,
        )

    def _target(self, tx: Tx, username: str) -> User:
        user = repo.get_user_by_username(tx.db, username)
        if user is None:
            raise NotFound(f"There is no account {username.strip()!r}.")
        return user

    def create_user(
        self,
        admin: UserSession,
        username: str,
        full_name: str,
        role: Role,
        password: str,
        reason: str,
    ) -> UserInfo:
        """A new account with a first password its owner must change at first login."""
        name = username.strip()
        role = Role(role)

        def work(tx: Tx) -> UserInfo:
            actor = self._admin(tx, admin, f"create the account {name}", name)
            problems = [
                *username_problems(name),
                *full_name_problems(full_name),
                *self._password_problems(password, name),
            ]
            why = reason_or_problem(reason, problems)
            if not problems and repo.get_user_by_username(tx.db, name) is not None:
                problems.append(f"the user name {name} is taken (user names ignore case)")
            refuse(f"Account {name or '(blank)'} not created", problems)
            user = repo.add_user(
                tx.db,
                username=name,
                full_name=full_name,
                role=role,
                password_hash=self._hash(password),
                by=actor.username,
                reason=why,
                must_change_password=True,
                at=tx.now,
            )
            tx.changed(USER_RECORD, user.id, None)
            return user_info(user)

        return self._core.write(work)

    def change_role(self, admin: UserSession, username: str, role: Role, reason: str) -> UserInfo:
        role = Role(role)

        def work(tx: Tx) -> UserInfo:
            actor = self._admin(tx, admin, f"change the role of {username.strip()}", username)
            user = self._target(tx, username)
            problems: list[str] = []
            why = reason_or_problem(reason, problems)
            if user.role is Role.ADMIN and role is not Role.ADMIN:
                problems.extend(_last_admin_problem(tx, user))
            refuse(f"Role of {user.username} not changed", problems)
            repo.update_user(tx.db, user, by=actor.username, reason=why, at=tx.now, role=role)
            tx.changed(USER_RECORD, user.id, None)
            return user_info(user)

        return self._core.write(work)

    def set_active(self, admin: UserSession, username: str, active: bool, reason: str) -> UserInfo:
        """Enable or disable an account (never deleted: its records keep its name)."""

        def work(tx: Tx) -> UserInfo:
            doing = "enable" if active else "disable"
            actor = self._admin(tx, admin, f"{doing} the account {username.strip()}", username)
            user = self._target(tx, username)
            problems: list[str] = []
            why = reason_or_problem(reason, problems)
            if not active and user.role is Role.ADMIN:
                problems.extend(_last_admin_problem(tx, user))
            refuse(f"Account {user.username} not {doing}d", problems)
            repo.update_user(tx.db, user, by=actor.username, reason=why, at=tx.now, active=active)
            tx.changed(USER_RECORD, user.id, None)
            return user_info(user)

        return self._core.write(work)

    def unlock(self, admin: UserSession, username: str, reason: str) -> UserInfo:
        def work(tx: Tx) -> UserInfo:
            actor = self._admin(tx, admin, f"unlock the account {username.strip()}", username)
            user = self._target(tx, username)
            problems: list[str] = []
            why = reason_or_problem(reason, problems)
            refuse(f"Account {user.username} not unlocked", problems)
            repo.update_user(
                tx.db,
                user,
                by=actor.username,
                reason=why,
                at=tx.now,
                locked=False,
                failed_logins=0,
            )
            tx.changed(USER_RECORD, user.id, None)
            return user_info(user)

        return self._core.write(work)

    def reset_password(
        self, admin: UserSession, username: str, new_password: str, reason: str
    ) -> UserInfo:
        """Set a temporary password; its owner must change it at the next login."""

        def work(tx: Tx) -> UserInfo:
            actor = self._admin(tx, admin, f"reset the password of {username.strip()}", username)
            user = self._target(tx, username)
            problems = self._password_problems(new_password, user.username)
            why = reason_or_problem(reason, problems)
            if user.id == actor.id:
                problems.append("administrators change their own password themselves")
            refuse(f"Password of {user.username} not reset", problems)
            repo.update_user(
                tx.db,
                user,
                by=actor.username,
                reason=why,
                at=tx.now,
                password_hash=self._hash(new_password),
                must_change_password=True,
            )
            tx.changed(USER_RECORD, user.id, None)
            return user_info(user)

        return self._core.write(work)

    def list_users(self, admin: UserSession) -> builtins.list[UserInfo]:
        def work(tx: Tx) -> builtins.list[UserInfo]:
            self._admin(tx, admin, "list the user accounts", "all")
            return [user_info(user) for user in repo.list_users(tx.db)]

        return self._core.read(work)

    def describe_roles(self) -> dict[Role, builtins.list[str]]:
        """The written list of what each role may do (ADR 0003's table)."""
        return {role: describe_role(role) for role in Role}


def _count_users(tx: Tx) -> int:
    return tx.db.scalar(select(func.count()).select_from(User)) or 0


def _login_failed(tx: Tx, username: str, record_id: str | int, reason: str) -> None:
    """Audit a refused login (a wrong password is counted by ``count_failure`` instead)."""
    append_audit(
        tx.db,
        username=username,
        action="login_failed",
        record_type=USER_RECORD,
        record_id=record_id,
        reason=reason,
        at=tx.now,
    )


def _snapshot(tx: Tx, username: str) -> User | None:
    return repo.get_user_by_username(tx.db, username) if username else None


def _last_admin_problem(tx: Tx, user: User) -> list[str]:
    others = tx.db.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    )
    if not others:
        return [f"{user.username} is the last active administrator; nobody could manage accounts"]
    return []


__all__ = ["AccountService", "full_name_problems", "username_problems"]
