"""Electronic signatures: the signing-session rule and the signature manifest.

Part 11 §11.200(a)(1): in one continuous session the first signing needs the
user id and the password, later signings the password only; a session ends
on logout or lock. §11.50: a signature shows the printed name, the date and
time and its meaning. §11.70 and Annex 11 §14: it is linked to its record, so
a record changed after signing no longer matches (``record_hash``).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Literal

from necstgen_desk.records.errors import SignatureError
from necstgen_desk.records.hashing import record_hash
from necstgen_desk.records.roles import same_user


class SignatureMeaning(StrEnum):
    PERFORMED = "performed"
    VERIFIED = "verified"
    RELEASED = "released"
    ACKNOWLEDGED = "acknowledged"
    SHELVED = "shelved"
    CORRECTED = "corrected"
    APPROVED = "approved"

    @property
    def display_name(self) -> str:
        return self.value.capitalize()


Credentials = Literal["user_and_password", "password"]


class SigningSession:
    """Whether the logged-in user has signed once in this continuous session.

    One per login; :meth:`reset` on logout, screen lock or session timeout.
    """

    def __init__(self) -> None:
        self._signed_once = False

    @property
    def signed_once(self) -> bool:
        return self._signed_once

    def credentials_needed(self) -> Credentials:
        return "password" if self._signed_once else "user_and_password"

    def check_credentials(
        self, session_username: str, given_username: str | None, password_ok: bool
    ) -> None:
        """Raise :class:`SignatureError` unless these credentials may sign now.

        Nobody signs for someone else: a user id, when given, must be the
        session's own.
        """
        if not session_username.strip():
            raise SignatureError("No user is logged in; log in to sign.")
        given = (given_username or "").strip()
        if not self._signed_once and not given:
            raise SignatureError(
                "The first signature in a session needs your user ID and your password."
            )
        if given and not same_user(given, session_username):
            raise SignatureError(
                f"You are logged in as {session_username} and can sign only as "
                f"{session_username}, not as {given}."
            )
        if not password_ok:
            raise SignatureError("The password is not correct; the record is not signed.")

    def mark_signed(self) -> None:
        self._signed_once = True

    def reset(self) -> None:
        self._signed_once = False


_HEX64 = re.compile(r"[0-9a-f]{64}")


def format_local(at: datetime, tz: tzinfo) -> str:
    """``2026-11-26 17:02:11 +01:00``: local time with its UTC offset (DESIGN.md §3)."""
    local = at.astimezone(tz)
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{local:%Y-%m-%d %H:%M:%S} {sign}{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class SignatureManifest:
    """What a signature records (Part 11 §11.50) and the record it is bound to."""

    printed_name: str
    username: str
    meaning: SignatureMeaning
    signed_at: datetime
    record_type: str
    record_id: str | int
    record_hash: str

    def __post_init__(self) -> None:
        if self.signed_at.tzinfo is None or self.signed_at.utcoffset() is None:
            raise ValueError("signed_at has no time zone; use UTC")
        if not self.printed_name.strip():
            raise ValueError("a signature needs the signer's printed name")
        if not self.username.strip():
            raise ValueError("a signature needs the signer's user name")
        if not _HEX64.fullmatch(self.record_hash):
            raise ValueError("record_hash is not a sha256 hex digest")

    def text(self, tz: tzinfo = UTC) -> str:
        """``Signed by Jane Doe (jdoe) — released — 2026-11-26 17:02:11 +01:00``."""
        return (
            f"Signed by {self.printed_name} ({self.username}) — {self.meaning.value} — "
            f"{format_local(self.signed_at, tz)}"
        )

    def matches(self, current_record_hash: str) -> bool:
        """Whether the record still hashes to what was signed."""
        return hmac.compare_digest(self.record_hash, current_record_hash)

    def matches_content(self, content: Mapping[str, object]) -> bool:
        return self.matches(record_hash(self.record_type, content))


def make_manifest(
    *,
    printed_name: str,
    username: str,
    meaning: SignatureMeaning,
    signed_at: datetime,
    record_type: str,
    record_id: str | int,
    content: Mapping[str, object],
) -> SignatureManifest:
    """The manifest binding a signature to ``content`` as it is now."""
    return SignatureManifest(
        printed_name=printed_name,
        username=username,
        meaning=meaning,
        signed_at=signed_at.astimezone(UTC) if signed_at.tzinfo is not None else signed_at,
        record_type=record_type,
        record_id=record_id,
        record_hash=record_hash(record_type, content),
    )
