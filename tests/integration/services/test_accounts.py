"""Accounts: the first administrator, lockout, administration with reasons."""

from __future__ import annotations

import pytest

from necstgen_desk.records.lifecycle import RoomAction, RoomStatus
from necstgen_desk.records.roles import Role
from necstgen_desk.services import (
    AuthenticationError,
    PasswordChangeRequired,
    PermissionDenied,
    RuleViolation,
    SessionEnded,
    SignatureError,
)
from tests.integration.services.helpers import PASSWORD, TEMPORARY, Env, cleaning_entry, sign


def test_the_first_administrator_only_while_no_account_exists(env: Env) -> None:
    accounts = env.records.accounts
    assert not accounts.has_users()
    with pytest.raises(RuleViolation) as weak:
        accounts.create_first_admin("root admin", "", "short")
    assert set(weak.value.reasons) >= {
        "the full name is blank (it is printed on every signature)",
        "the password has 5 characters; it needs at least 10",
    }
    assert not accounts.has_users()
    info = accounts.create_first_admin("admin", "Ada Admin", PASSWORD)
    assert (info.role, info.must_change_password) == (Role.ADMIN, False)
    assert accounts.has_users()
    with pytest.raises(RuleViolation, match="accounts already exist"):
        accounts.create_first_admin("admin2", "Eve Admin", PASSWORD)
    [created] = env.audit(action="create", record_type="user")
    assert (created.username, created.record_id) == ("admin", str(info.id))
    assert "password_hash" not in (created.new_value or "")


def test_five_failed_logins_lock_until_an_administrator_unlocks(env: Env) -> None:
    env["op1"]
    accounts = env.records.accounts
    for _ in range(4):
        with pytest.raises(AuthenticationError, match="not correct") as raised:
            accounts.login("op1", "wrong password")
        assert not raised.value.locked
    with pytest.raises(AuthenticationError, match="locked") as raised:
        accounts.login("OP1", "wrong password")  # user names ignore case
    assert raised.value.locked
    with pytest.raises(AuthenticationError, match="an administrator must unlock"):
        accounts.login("op1", PASSWORD)
    with pytest.raises(AuthenticationError, match="locked"):  # the open session stops too
        env.change("op1", "B-01", RoomAction.START_CLEANING)

    failed = env.audit(action="login_failed")
    assert [(e.field, e.old_value, e.new_value, e.reason) for e in failed] == [
        ("failed_logins", "0", "1", "wrong password"),
        ("failed_logins", "1", "2", "wrong password"),
        ("failed_logins", "2", "3", "wrong password"),
        ("failed_logins", "3", "4", "wrong password"),
        ("failed_logins", "4", "5", "wrong password"),
        (None, None, None, "login to a locked account"),
    ]
    [locked] = env.audit(action="account_locked")
    assert (locked.username, locked.field, locked.old_value, locked.new_value) == (
        "op1",
        "locked",
        "false",
        "true",
    )

    with pytest.raises(RuleViolation, match="a reason is required"):
        accounts.unlock(env["admin"], "op1", "")
    info = accounts.unlock(env["admin"], "op1", "user called the help desk, identity checked")
    assert not info.locked
    unlocked = env.audit(action="update", username="admin", record_id=info.id)
    assert {(e.field, e.old_value, e.new_value) for e in unlocked} >= {
        ("locked", "true", "false"),
        ("failed_logins", "5", "0"),
    }
    assert all(e.reason == "user called the help desk, identity checked" for e in unlocked)
    assert accounts.login("op1", PASSWORD).user.username == "op1"


def test_an_unknown_user_name_fails_like_a_wrong_password_and_is_audited(env: Env) -> None:
    env["admin"]
    with pytest.raises(AuthenticationError, match="user name or password is not correct"):
        env.records.accounts.login("nobody", PASSWORD)
    [entry] = env.audit(action="login_failed")
    assert (entry.username, entry.record_id) == ("nobody", "unknown")


def test_only_administrators_manage_accounts_and_denials_are_audited(env: Env) -> None:
    accounts = env.records.accounts
    with pytest.raises(PermissionDenied, match="only Administrator may"):
        accounts.create_user(env["qa1"], "mallory", "Mallory", Role.QA, TEMPORARY, "why not")
    with pytest.raises(PermissionDenied):
        accounts.list_users(env["op1"])
    denied = env.audit(action="permission_denied")
    assert [(e.username, e.record_type, e.record_id) for e in denied] == [
        ("qa1", "user", "mallory"),
        ("op1", "user", "all"),
    ]
    assert denied[0].reason.startswith("attempted to create the account mallory: qa1 (QA)")
    users = accounts.list_users(env["admin"])
    assert [u.username for u in users] == ["admin", "op1", "qa1"]


def test_account_changes_need_reasons_and_are_audited(env: Env) -> None:
    accounts, admin = env.records.accounts, env["admin"]
    with pytest.raises(RuleViolation, match="a reason is required"):
        accounts.create_user(admin, "newbie", "New Bie", Role.OPERATOR, TEMPORARY, " ")
    with pytest.raises(RuleViolation, match="is taken"):
        accounts.create_user(env["admin"], "ADMIN", "Other", Role.QA, TEMPORARY, "dup")
    env["op1"]
    info = accounts.change_role(admin, "op1", Role.SHIFT_LEAD, "promoted to shift lead")
    assert info.role is Role.SHIFT_LEAD
    [entry] = env.audit(action="update", record_id=info.id)[-1:]
    assert (entry.username, entry.field, entry.old_value, entry.new_value, entry.reason) == (
        "admin",
        "role",
        "operator",
        "shift_lead",
        "promoted to shift lead",
    )
    # The open session acts with the new role at once.
    env.records.audit.query(env["op1"], limit=1)
    assert env["op1"].user.role is Role.SHIFT_LEAD

    accounts.set_active(admin, "op1", False, "left the company")
    with pytest.raises(AuthenticationError, match="disabled"):
        accounts.login("op1", PASSWORD)
    with pytest.raises(RuleViolation, match="last active administrator"):
        accounts.set_active(admin, "admin", False, "oops")
    with pytest.raises(RuleViolation, match="last active administrator"):
        accounts.change_role(admin, "admin", Role.QA, "oops")


def test_a_password_set_by_an_administrator_must_be_changed_first(env: Env) -> None:
    accounts = env.records.accounts
    accounts.create_user(env["admin"], "op9", "Op Nine", Role.OPERATOR, TEMPORARY, "new starter")
    session = accounts.login("op9", TEMPORARY)
    assert session.user.must_change_password
    with pytest.raises(PasswordChangeRequired):
        env.records.rooms.change(session, "B-01", RoomAction.START_CLEANING, reason="start")
    with pytest.raises(AuthenticationError, match="current password is not correct"):
        accounts.change_own_password(session, "not it at all", PASSWORD)
    with pytest.raises(RuleViolation, match="the new password is the current one"):
        accounts.change_own_password(session, TEMPORARY, TEMPORARY)
    info = accounts.change_own_password(session, TEMPORARY, PASSWORD)
    assert not info.must_change_password
    assert session.user == info
    view = env.records.rooms.change(session, "B-01", RoomAction.START_CLEANING, reason="start")
    assert view.by == "op9"
    [changed] = [
        e for e in env.audit(record_id=info.id, action="update") if e.field == "password_hash"
    ]
    assert (changed.old_value, changed.new_value) == (None, "(changed)")

    accounts.reset_password(env["admin"], "op9", "another temp 9", "forgot it")
    with pytest.raises(PasswordChangeRequired):
        env.records.rooms.change(session, "B-01", RoomAction.FINISH_CLEANING, reason="x")


def test_administrators_sign_no_gmp_record(env: Env) -> None:
    env.bring_to("B-01", RoomStatus.CLEANED)
    admin = env["admin"]
    with pytest.raises(PermissionDenied, match="only QA may"):
        env.records.rooms.change(
            admin, "B-01", RoomAction.RELEASE, reason="x", signature=sign(admin)
        )
    cleaning = env.records.cleaning.list(room_id="B-01")[0]
    with pytest.raises(PermissionDenied):
        env.records.cleaning.verify(admin, cleaning.id, signature=sign(admin))
    assert not env.audit(action="sign", username="admin")


def test_logout_ends_the_session_and_its_signing(env: Env) -> None:
    accounts, session = env.records.accounts, env["op1"]
    env.change("op1", "B-01", RoomAction.START_CLEANING)
    env.records.cleaning.log(
        session,
        cleaning_entry(env.clock.now, "B-01", "op1"),
        signature=sign(session),
    )
    assert session.signing.credentials_needed() == "password"
    accounts.logout(session)
    assert not session.active
    assert session.signing.credentials_needed() == "user_and_password"
    with pytest.raises(SessionEnded):
        env.change("op1", "B-01", RoomAction.FINISH_CLEANING)
    assert [e.action for e in env.audit(username="op1")][-1] == "logout"


def test_unlocking_the_screen_checks_the_password_and_restarts_signing(env: Env) -> None:
    accounts, session = env.records.accounts, env["qa1"]
    session.signing.mark_signed()
    assert not accounts.verify_password(session, "wrong password")
    assert not session.signing.signed_once
    [failed] = env.audit(action="unlock_failed")
    assert (failed.username, failed.field, failed.new_value) == ("qa1", "failed_logins", "1")
    assert accounts.verify_password(session, PASSWORD)
    [reset] = env.audit(action="screen_unlocked")
    assert (reset.old_value, reset.new_value) == ("1", "0")


def test_wrong_signature_passwords_count_toward_the_lockout(env: Env) -> None:
    env.bring_to("B-01", RoomStatus.CLEANED)
    qa = env["qa1"]
    for _ in range(5):
        with pytest.raises(SignatureError):
            env.records.rooms.change(
                qa,
                "B-01",
                RoomAction.RELEASE,
                reason="x",
                signature=sign(qa, "wrong password"),
            )
    assert len(env.audit(action="signature_failed")) == 5
    assert len(env.audit(action="account_locked")) == 1
    with pytest.raises(AuthenticationError, match="locked"):
        env.records.rooms.change(qa, "B-01", RoomAction.RELEASE, reason="x", signature=sign(qa))


def test_roles_are_described_in_words(env: Env) -> None:
    roles = env.records.accounts.describe_roles()
    assert set(roles) == set(Role)
    assert "May release a cleaned room for use (with an electronic signature)." in roles[Role.QA]
    assert not any("release" in line for line in roles[Role.ADMIN])
