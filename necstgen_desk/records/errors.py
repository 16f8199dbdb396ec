"""Errors of the GMP record rules, each saying in plain words what was refused and why.

The services turn these into messages on screen unchanged, so every message is a
complete sentence a cleanroom operator can act on.
"""

from __future__ import annotations

from collections.abc import Sequence


class RecordError(Exception):
    """Base of every refusal raised by ``necstgen_desk.records``."""


class PermissionDenied(RecordError):
    """The user's role may not do this (Part 11 §11.10(g) authority checks, Annex 11 §12).

    Names the user, the role, the action and the roles that may, so the person
    knows whom to ask.
    """

    def __init__(self, username: str, role: str, action: str, allowed: Sequence[str]) -> None:
        self.username = username
        self.role = role
        self.action = action
        self.allowed = tuple(allowed)
        if not self.allowed:
            who = "no role may"
        elif len(self.allowed) == 1:
            who = f"only {self.allowed[0]} may"
        else:
            who = f"only {', '.join(self.allowed[:-1])} or {self.allowed[-1]} may"
        super().__init__(f"{username} ({role}) may not {action}: {who}.")


class RuleViolation(RecordError):
    """A GMP rule refused the record or the change; ``reasons`` lists every problem."""

    def __init__(self, rule: str, reasons: str | Sequence[str]) -> None:
        self.rule = rule
        self.reasons: tuple[str, ...] = (reasons,) if isinstance(reasons, str) else tuple(reasons)
        if len(self.reasons) == 1:
            text = f"{rule}: {self.reasons[0]}"
        else:
            lines = "\n".join(f"  - {r}" for r in self.reasons)
            text = f"{rule}:\n{lines}"
        super().__init__(text)


class AuthenticationError(RecordError):
    """A login was refused.

    A wrong user name and a wrong password give the same message, so the screen
    never tells an attacker which accounts exist (Part 11 §11.300). A locked
    account says so, and that only an administrator can unlock it.
    """

    def __init__(self, message: str, *, locked: bool = False) -> None:
        self.locked = locked
        super().__init__(message)

    @classmethod
    def wrong_credentials(cls) -> AuthenticationError:
        return cls("The user name or password is not correct.")

    @classmethod
    def account_locked(cls, username: str) -> AuthenticationError:
        return cls(
            f"The account {username} is locked after too many failed logins; "
            "an administrator must unlock it.",
            locked=True,
        )

    @classmethod
    def account_disabled(cls, username: str) -> AuthenticationError:
        return cls(f"The account {username} is disabled; ask an administrator.")


class SignatureError(RecordError):
    """An electronic signature was refused (Part 11 §11.200, Annex 11 §14); nothing was signed."""
