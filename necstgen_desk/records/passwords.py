"""Passwords: argon2id hashing, the strength rule and the five-strikes lockout.

Part 11 §11.300 and Annex 11 §12 ask for controls on user id / password
combinations: no default password, passwords stored only as salted slow hashes,
and attempts at unauthorised use detected and stopped. The lockout is pure
state (:class:`LoginState`), so the storage layer persists it and the services
apply it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from necstgen_desk.records.errors import AuthenticationError, RuleViolation

#: Failed logins in a row after which the account locks until an administrator unlocks it.
MAX_FAILED_LOGINS = 5
MIN_PASSWORD_LENGTH = 10
#: Upper bound, so a pasted megabyte cannot tie up the hasher.
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """argon2id parameters.

    The defaults are RFC 9106's second recommended option (and argon2-cffi's
    defaults): 3 passes over 64 MiB with 4 lanes, 16-byte salt, 32-byte tag,
    about 50 ms on a desktop. Tests pass tiny values, e.g.
    ``PasswordPolicy(time_cost=1, memory_cost=8, parallelism=1)``.
    """

    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 4
    hash_len: int = 32
    salt_len: int = 16
    min_length: int = MIN_PASSWORD_LENGTH

    def hasher(self) -> PasswordHasher:
        return _hasher(
            self.time_cost, self.memory_cost, self.parallelism, self.hash_len, self.salt_len
        )


DEFAULT_POLICY = PasswordPolicy()


@lru_cache(maxsize=8)
def _hasher(
    time_cost: int, memory_cost: int, parallelism: int, hash_len: int, salt_len: int
) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost,
        memory_cost=memory_cost,
        parallelism=parallelism,
        hash_len=hash_len,
        salt_len=salt_len,
        type=Type.ID,
    )


def hash_password(password: str, policy: PasswordPolicy = DEFAULT_POLICY) -> str:
    """The argon2id hash string (salt and parameters included) to store for ``password``."""
    return policy.hasher().hash(password)


def verify_password(
    stored_hash: str, password: str, policy: PasswordPolicy = DEFAULT_POLICY
) -> bool:
    """Whether ``password`` matches ``stored_hash``; never raises on a mismatch.

    argon2 compares the tags in constant time. A malformed stored hash is a
    mismatch too: nobody can log in with a damaged row.
    """
    try:
        return policy.hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_unknown_user(password: str, policy: PasswordPolicy = DEFAULT_POLICY) -> Literal[False]:
    """Spend the time of a real check, then fail: an unknown user name costs as
    long as a wrong password, so timing does not reveal which accounts exist."""
    verify_password(_dummy_hash(policy), password, policy)
    return False


@lru_cache(maxsize=8)
def _dummy_hash(policy: PasswordPolicy) -> str:
    return hash_password("not a password of anyone", policy)


def needs_rehash(stored_hash: str, policy: PasswordPolicy = DEFAULT_POLICY) -> bool:
    """Whether the hash was made with other parameters (rehash at the next good login)."""
    try:
        return policy.hasher().check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


def password_problems(
    password: str, username: str, *, min_length: int = MIN_PASSWORD_LENGTH
) -> list[str]:
    """Every reason ``password`` may not be set for ``username``; empty when acceptable."""
    problems = []
    if not password.strip():
        problems.append("the password is empty")
    elif len(password) < min_length:
        problems.append(
            f"the password has {len(password)} characters; it needs at least {min_length}"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"the password is longer than {MAX_PASSWORD_LENGTH} characters")
    name = username.strip().casefold()
    if name and name in password.casefold():
        if password.casefold() == name:
            problems.append("the password is the user name")
        else:
            problems.append("the password contains the user name")
    return problems


def check_password(password: str, username: str, *, min_length: int = MIN_PASSWORD_LENGTH) -> None:
    """Raise :class:`RuleViolation` listing every problem of a new password."""
    problems = password_problems(password, username, min_length=min_length)
    if problems:
        raise RuleViolation("Password not accepted", problems)


@dataclass(frozen=True, slots=True)
class LoginState:
    """The lockout state of one account, as stored with the user."""

    failed_count: int = 0
    locked: bool = False


class LoginOutcome(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"  # wrong password, account still open
    LOCKED_NOW = "locked_now"  # this failure locked the account
    REFUSED_LOCKED = "refused_locked"  # the account was already locked

    @property
    def ok(self) -> bool:
        return self is LoginOutcome.SUCCESS


def apply_login_attempt(
    state: LoginState, ok: bool, *, max_failed: int = MAX_FAILED_LOGINS
) -> tuple[LoginState, LoginOutcome]:
    """The state after one login attempt whose password check gave ``ok``.

    A success resets the count. The ``max_failed``-th failure in a row locks
    the account; a locked account refuses even the right password until
    :func:`unlock` (an administrator's act).
    """
    if state.locked:
        return state, LoginOutcome.REFUSED_LOCKED
    if ok:
        return LoginState(), LoginOutcome.SUCCESS
    count = state.failed_count + 1
    if count >= max_failed:
        return LoginState(failed_count=count, locked=True), LoginOutcome.LOCKED_NOW
    return LoginState(failed_count=count), LoginOutcome.FAILED


def unlock(state: LoginState) -> LoginState:
    """The state after an administrator unlocks the account (count reset)."""
    del state
    return LoginState()


def login_error(outcome: LoginOutcome, username: str) -> AuthenticationError | None:
    """The error to raise for ``outcome``, or ``None`` on success."""
    if outcome is LoginOutcome.SUCCESS:
        return None
    if outcome is LoginOutcome.FAILED:
        return AuthenticationError.wrong_credentials()
    return AuthenticationError.account_locked(username)
