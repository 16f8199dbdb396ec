"""Signing-session rules (Part 11 §11.200) and the signature manifest (§11.50, §11.70)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from necstgen_desk.records.errors import SignatureError
from necstgen_desk.records.hashing import record_hash
from necstgen_desk.records.signatures import (
    SignatureManifest,
    SignatureMeaning,
    SigningSession,
    make_manifest,
)


def test_first_signing_needs_user_and_password_then_password_only() -> None:
    session = SigningSession()
    assert session.credentials_needed() == "user_and_password"
    with pytest.raises(SignatureError, match="user ID and your password"):
        session.check_credentials("jdoe", None, True)
    session.check_credentials("jdoe", "jdoe", True)
    session.mark_signed()
    assert session.signed_once
    assert session.credentials_needed() == "password"
    session.check_credentials("jdoe", None, True)
    session.reset()  # logout or lock
    assert session.credentials_needed() == "user_and_password"


@pytest.mark.parametrize("signed_before", [False, True])
@pytest.mark.parametrize(
    ("given", "password_ok", "error"),
    [
        ("jdoe", True, None),
        (" JDoe ", True, None),
        ("asmith", True, "can sign only as jdoe, not as asmith"),
        ("jdoe", False, "password is not correct"),
        ("asmith", False, "can sign only as jdoe"),
        (None, True, "first signature"),
        ("", False, "first signature"),
        (None, False, "first signature"),
    ],
)
def test_credential_rules(
    signed_before: bool, given: str | None, password_ok: bool, error: str | None
) -> None:
    session = SigningSession()
    if signed_before:
        session.mark_signed()
        if error == "first signature":  # later signings need the password only
            error = None if password_ok else "password is not correct"
    if error is None:
        session.check_credentials("jdoe", given, password_ok)
    else:
        with pytest.raises(SignatureError, match=error):
            session.check_credentials("jdoe", given, password_ok)


def test_nobody_logged_in_cannot_sign() -> None:
    with pytest.raises(SignatureError, match="No user is logged in"):
        SigningSession().check_credentials(" ", "jdoe", True)


CONTENT = {"room_id": "B-01", "status": "released", "batch": "B-2026-114"}
SIGNED_AT = datetime(2026, 11, 26, 16, 2, 11, 5, tzinfo=UTC)


def manifest() -> SignatureManifest:
    return make_manifest(
        printed_name="Jane Doe",
        username="jdoe",
        meaning=SignatureMeaning.RELEASED,
        signed_at=SIGNED_AT,
        record_type="room_status",
        record_id=42,
        content=CONTENT,
    )


def test_manifest_text_in_local_time_with_offset() -> None:
    m = manifest()
    cet = timezone(timedelta(hours=1))
    assert m.text(cet) == "Signed by Jane Doe (jdoe) — released — 2026-11-26 17:02:11 +01:00"
    assert m.text() == "Signed by Jane Doe (jdoe) — released — 2026-11-26 16:02:11 +00:00"
    west = timezone(-timedelta(hours=3, minutes=30))
    assert m.text(west).endswith("2026-11-26 12:32:11 -03:30")


def test_manifest_is_bound_to_the_content() -> None:
    m = manifest()
    assert m.record_hash == record_hash("room_status", CONTENT)
    assert m.matches(record_hash("room_status", dict(CONTENT)))
    assert m.matches_content(CONTENT)
    assert not m.matches_content({**CONTENT, "batch": "B-2026-115"})
    assert not m.matches(record_hash("cleaning", CONTENT))


def test_make_manifest_stores_utc() -> None:
    cet = timezone(timedelta(hours=1))
    m = make_manifest(
        printed_name="Jane Doe",
        username="jdoe",
        meaning=SignatureMeaning.VERIFIED,
        signed_at=SIGNED_AT.astimezone(cet),
        record_type="cleaning",
        record_id="7",
        content=CONTENT,
    )
    assert m.signed_at.utcoffset() == timedelta(0)
    assert m.signed_at == SIGNED_AT


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"signed_at": datetime(2026, 11, 26, 16, 2)}, "time zone"),
        ({"printed_name": " "}, "printed name"),
        ({"username": ""}, "user name"),
        ({"record_hash": "abc"}, "sha256"),
        ({"record_hash": "A" * 64}, "sha256"),
    ],
)
def test_manifest_refuses_incomplete_fields(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "printed_name": "Jane Doe",
        "username": "jdoe",
        "meaning": SignatureMeaning.RELEASED,
        "signed_at": SIGNED_AT,
        "record_type": "room_status",
        "record_id": 42,
        "record_hash": "0" * 64,
        **changes,
    }
    with pytest.raises(ValueError, match=message):
        SignatureManifest(**fields)  # type: ignore[arg-type]


def test_meanings() -> None:
    assert [m.value for m in SignatureMeaning] == [
        "performed",
        "verified",
        "released",
        "acknowledged",
        "shelved",
        "corrected",
        "approved",
    ]
    assert SignatureMeaning.RELEASED.display_name == "Released"
