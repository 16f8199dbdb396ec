"""What a service call can refuse, in plain words (ADR 0004).

The refusals of the GMP rules are those of :mod:`necstgen_desk.records.errors`,
re-exported so the UI catches them from one place: :class:`PermissionDenied`
(the role may not; also written to the audit trail), :class:`RuleViolation`
(a GMP rule refused, with every reason), :class:`SignatureError` (nothing was
signed) and :class:`AuthenticationError` (login refused, or the session can no
longer act). The services add the few that only a use case can meet.
Environment problems (database busy, disk full) come from
:mod:`necstgen_desk.storage.errors` unchanged.
"""

from __future__ import annotations

from necstgen_desk.records.errors import (
    AuthenticationError,
    PermissionDenied,
    RecordError,
    RuleViolation,
    SignatureError,
)

__all__ = [
    "AuthenticationError",
    "NotFound",
    "PasswordChangeRequired",
    "PermissionDenied",
    "RecordError",
    "RuleViolation",
    "SessionEnded",
    "SignatureError",
]


class NotFound(RecordError, LookupError):
    """The room, record or account named does not exist."""


class SessionEnded(AuthenticationError):
    """The session was logged out (or its account is gone): log in again."""

    def __init__(self, username: str) -> None:
        super().__init__(f"The session of {username} has ended; log in again.")


class PasswordChangeRequired(AuthenticationError):
    """The password was set by an administrator: its owner must change it before acting.

    A password someone else knows cannot stand for the person (Part 11
    §11.300), so nothing but changing it (or logging out) is allowed.
    """

    def __init__(self, username: str) -> None:
        super().__init__(
            f"{username} must change the password an administrator set before doing anything else."
        )
