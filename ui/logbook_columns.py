"""How logbook records read in a table: one column list per record type.

Shared by the room logbook panel and the facility-wide Logbooks window, so a
record reads the same everywhere. Times are local with the offset; the UTC
time is in the tooltip.
"""

from __future__ import annotations

from necstgen_desk.services import (
    CleaningView,
    GowningView,
    QualificationView,
    RoomStatusView,
    SignatureView,
)
from ui.forms import Column
from ui.timefmt import date_text, local_text, utc_text


def signature_text(signature: SignatureView) -> str:
    """``Signed by Jane Doe (jdoe) — released — 2026-11-26 17:02:11 +01:00``."""
    m = signature.manifest
    text = (
        f"Signed by {m.printed_name} ({m.username}) — {m.meaning.value} — {local_text(m.signed_at)}"
    )
    if not signature.matches:
        text += " — DOES NOT MATCH the record (changed after signing)"
    return text


def signatures_text(signatures: tuple[SignatureView, ...]) -> str:
    if not signatures:
        return "not signed"
    return "\n".join(signature_text(s) for s in signatures)


def _minutes(value: float) -> str:
    return f"{value:g}"


def _version(record_id: int, supersedes: int | None, superseded_by: int | None) -> str:
    if superseded_by is not None:
        return f"superseded by #{superseded_by}"
    if supersedes is not None:
        return f"current (corrects #{supersedes})"
    return "current"


STATUS_COLUMNS: list[Column[RoomStatusView]] = [
    Column("When", lambda v: local_text(v.since), lambda v: utc_text(v.since)),
    Column("Room", lambda v: v.room_id, lambda v: v.room_name),
    Column("Status", lambda v: v.status.display_name),
    Column("By", lambda v: v.by or ""),
    Column("Product", lambda v: v.product or ""),
    Column("Batch", lambda v: v.batch or ""),
    Column("Reason", lambda v: v.reason or "", lambda v: v.reason or ""),
    Column(
        "Signature",
        lambda v: "; ".join(
            f"{s.manifest.meaning.value} by {s.manifest.username}" for s in v.signatures
        ),
        lambda v: signatures_text(v.signatures),
    ),
]


def _verified(v: CleaningView) -> str:
    if v.verified_by is None:
        return "NOT VERIFIED"
    return f"{v.verified_by}, {local_text(v.verified_at)}"


CLEANING_COLUMNS: list[Column[CleaningView]] = [
    Column("#", lambda v: str(v.id), align_right=True),
    Column("Room", lambda v: v.room_id),
    Column("Type", lambda v: v.cleaning_type.display_name),
    Column("Start", lambda v: local_text(v.started_at), lambda v: utc_text(v.started_at)),
    Column("End", lambda v: local_text(v.ended_at), lambda v: utc_text(v.ended_at)),
    Column("Performed by", lambda v: v.performed_by, lambda v: signatures_text(v.signatures)),
    Column("Verified by", _verified, lambda v: signatures_text(v.signatures)),
    Column("Agent", lambda v: v.agent),
    Column("Lot", lambda v: v.agent_lot),
    Column("Prepared", lambda v: date_text(v.agent_prepared_on)),
    Column("Expires", lambda v: date_text(v.agent_expires_on)),
    Column(
        "Contact (min)",
        lambda v: f"{_minutes(v.achieved_contact_min)} of {_minutes(v.required_contact_min)}",
        lambda v: "achieved of required contact time, minutes",
    ),
    Column(
        "Version",
        lambda v: _version(v.id, v.supersedes_id, v.superseded_by_id),
        lambda v: f"Reason: {v.reason}" if v.reason else "",
    ),
]


GOWNING_COLUMNS: list[Column[GowningView]] = [
    Column("#", lambda v: str(v.id), align_right=True),
    Column("Person", lambda v: v.person),
    Column("Room", lambda v: v.room_id),
    Column("Grade", lambda v: v.grade),
    Column("Time in", lambda v: local_text(v.time_in), lambda v: utc_text(v.time_in)),
    Column(
        "Time out",
        lambda v: local_text(v.time_out) if v.time_out is not None else "inside",
        lambda v: utc_text(v.time_out),
    ),
    Column("Garment lot", lambda v: v.garment_lot),
    Column("Qualification", lambda v: v.qualification_status.display_name),
    Column("Logged by", lambda v: v.logged_by),
    Column(
        "Version",
        lambda v: _version(v.id, v.supersedes_id, v.superseded_by_id),
        lambda v: f"Reason: {v.reason}" if v.reason else "",
    ),
]


QUALIFICATION_COLUMNS: list[Column[QualificationView]] = [
    Column("Person", lambda v: v.person),
    Column("Qualified on", lambda v: date_text(v.qualified_on)),
    Column("Valid until", lambda v: date_text(v.valid_until)),
    Column("Status", lambda v: "Revoked" if v.revoked else v.status.display_name),
    Column("Recorded by", lambda v: v.recorded_by, lambda v: signatures_text(v.signatures)),
    Column("Recorded", lambda v: local_text(v.recorded_at), lambda v: utc_text(v.recorded_at)),
    Column("Reason", lambda v: v.reason or "", lambda v: v.reason or ""),
]
