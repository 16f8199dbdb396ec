"""argon2id hashing (fast parameters), the strength rule and the five-strikes lockout."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from necstgen_desk.records.errors import AuthenticationError, RuleViolation
from necstgen_desk.records.passwords import (
    DEFAULT_POLICY,
    MAX_FAILED_LOGINS,
    LoginOutcome,
    LoginState,
    PasswordPolicy,
    apply_login_attempt,
    check_password,
    hash_password,
    login_error,
    needs_rehash,
    password_problems,
    unlock,
    verify_password,
    verify_unknown_user,
)

FAST = PasswordPolicy(time_cost=1, memory_cost=8, parallelism=1)


def test_round_trip() -> None:
    stored = hash_password("correct horse battery", FAST)
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert verify_password(stored, "correct horse battery", FAST)
    assert not verify_password(stored, "correct horse batterz", FAST)
    assert not verify_password(stored, "", FAST)


def test_hashes_are_salted() -> None:
    assert hash_password("same password", FAST) != hash_password("same password", FAST)


@pytest.mark.parametrize("stored", ["", "plain text", "$argon2id$v=19$m=8,t=1,p=1$broken"])
def test_a_damaged_hash_never_verifies_and_never_raises(stored: str) -> None:
    assert verify_password(stored, "anything at all", FAST) is False
    assert needs_rehash(stored, FAST) is True


def test_needs_rehash_when_parameters_change() -> None:
    stored = hash_password("a long enough one", FAST)
    assert not needs_rehash(stored, FAST)
    assert needs_rehash(stored, PasswordPolicy(time_cost=2, memory_cost=8, parallelism=1))


def test_default_policy_is_rfc_9106_second_option() -> None:
    assert (DEFAULT_POLICY.time_cost, DEFAULT_POLICY.memory_cost, DEFAULT_POLICY.parallelism) == (
        3,
        65536,
        4,
    )
    assert DEFAULT_POLICY.min_length == 10


def test_unknown_user_is_refused() -> None:
    assert verify_unknown_user("whatever it is", FAST) is False


@pytest.mark.parametrize(
    ("password", "username", "expected"),
    [
        ("tenletters", "jdoe", []),
        ("ninechars", "jdoe", ["the password has 9 characters; it needs at least 10"]),
        ("", "jdoe", ["the password is empty"]),
        ("          ", "jdoe", ["the password is empty"]),
        ("averylongname", "AVeryLongName", ["the password is the user name"]),
        ("my-jdoe-password", "JDOE", ["the password contains the user name"]),
        (
            "jdoe1",
            "jdoe",
            [
                "the password has 5 characters; it needs at least 10",
                "the password contains the user name",
            ],
        ),
        ("x" * 1025, "jdoe", ["the password is longer than 1024 characters"]),
    ],
)
def test_password_problems(password: str, username: str, expected: list[str]) -> None:
    assert password_problems(password, username) == expected


def test_min_length_is_configurable() -> None:
    assert password_problems("twelve-chars", "jdoe", min_length=14) == [
        "the password has 12 characters; it needs at least 14"
    ]


def test_check_password_raises_with_every_reason() -> None:
    with pytest.raises(RuleViolation) as caught:
        check_password("jdoe", "jdoe")
    assert caught.value.rule == "Password not accepted"
    assert len(caught.value.reasons) == 2


def test_lockout_sequence() -> None:
    state = LoginState()
    outcomes = []
    for _ in range(MAX_FAILED_LOGINS):
        state, outcome = apply_login_attempt(state, False)
        outcomes.append(outcome)
    assert outcomes == [LoginOutcome.FAILED] * 4 + [LoginOutcome.LOCKED_NOW]
    assert state == LoginState(failed_count=5, locked=True)

    # Locked: even the right password is refused, and the state does not move.
    state, outcome = apply_login_attempt(state, True)
    assert outcome is LoginOutcome.REFUSED_LOCKED
    assert state.locked

    state = unlock(state)
    state, outcome = apply_login_attempt(state, True)
    assert outcome is LoginOutcome.SUCCESS
    assert state == LoginState()


def test_a_success_resets_the_count() -> None:
    state = LoginState()
    for _ in range(4):
        state, _ = apply_login_attempt(state, False)
    state, outcome = apply_login_attempt(state, True)
    assert outcome.ok and state.failed_count == 0
    state, outcome = apply_login_attempt(state, False)
    assert outcome is LoginOutcome.FAILED and state.failed_count == 1


@given(st.lists(st.booleans(), max_size=30))
def test_locked_exactly_after_five_failures_in_a_row(attempts: list[bool]) -> None:
    state = LoginState()
    run = 0
    locked = False
    for ok in attempts:
        state, outcome = apply_login_attempt(state, ok)
        if not locked:
            run = 0 if ok else run + 1
            locked = run >= MAX_FAILED_LOGINS
        assert state.locked is locked
        assert outcome.ok is (ok and not locked)


def test_login_errors_never_say_which_part_was_wrong() -> None:
    assert login_error(LoginOutcome.SUCCESS, "jdoe") is None
    failed = login_error(LoginOutcome.FAILED, "jdoe")
    assert isinstance(failed, AuthenticationError)
    assert str(failed) == str(AuthenticationError.wrong_credentials())
    assert "jdoe" not in str(failed)
    assert not failed.locked
    for outcome in (LoginOutcome.LOCKED_NOW, LoginOutcome.REFUSED_LOCKED):
        err = login_error(outcome, "jdoe")
        assert err is not None and err.locked
        assert "locked" in str(err) and "administrator must unlock" in str(err)
