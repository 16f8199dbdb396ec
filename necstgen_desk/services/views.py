"""What the services give back: frozen dataclasses with plain values (ADR 0004).

Times are aware UTC datetimes; the UI shows them in local time with the offset
(:func:`necstgen_desk.records.signatures.format_local`). A view of a signed
record carries each signature's manifest and whether the record still hashes
to what was signed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from necstgen_desk.records.cleaning import CleaningEntry, CleaningType
from necstgen_desk.records.gowning import QualificationStatus
from necstgen_desk.records.lifecycle import RoomStatus
from necstgen_desk.records.roles import Role
from necstgen_desk.records.signatures import SignatureManifest, SigningSession


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    full_name: str
    role: Role
    active: bool
    locked: bool
    must_change_password: bool


@dataclass(slots=True)
class UserSession:
    """One login: who, since when, and the signing continuity of Part 11 §11.200.

    ``ended_at`` is set by logout; an ended session can do nothing more.
    ``user`` is refreshed from the database at every call (a role changed by an
    administrator applies at once).
    """

    user: UserInfo
    started_at: datetime
    signing: SigningSession = field(default_factory=SigningSession)
    ended_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class SignatureRequest:
    """The credentials typed into a signature dialog.

    ``username`` is needed on the first signing of a session (and must be the
    session's own); later only the password.
    """

    password: str = field(repr=False)
    username: str | None = None


@dataclass(frozen=True, slots=True)
class RecordChange:
    """Given to ``Records.on_change`` listeners after a commit."""

    record_type: str
    record_id: str
    room_id: str | None


@dataclass(frozen=True, slots=True)
class SignatureView:
    """A signature of a record and whether the record still matches it."""

    id: int
    manifest: SignatureManifest
    matches: bool

    def text(self, tz: tzinfo = UTC) -> str:
        suffix = "" if self.matches else " — DOES NOT MATCH the record (changed after signing)"
        return self.manifest.text(tz) + suffix


@dataclass(frozen=True, slots=True)
class RoomStatusView:
    """A room's status from ``since`` on.

    ``never_logged``: no status was ever recorded for the room, so it is shown
    as To be cleaned (``since``, ``by`` and ``entry_id`` are then None).
    ``hold_expires_at`` is set while Released. ``cleanup_ends_at`` (the current
    status only): when the clean-up period after leaving operation ends and the
    at-rest limits apply.
    """

    room_id: str
    room_name: str
    grade: str
    status: RoomStatus
    never_logged: bool
    since: datetime | None
    by: str | None
    product: str | None
    batch: str | None
    reason: str | None
    entry_id: int | None
    hold_expires_at: datetime | None = None
    cleanup_ends_at: datetime | None = None
    signatures: tuple[SignatureView, ...] = ()


@dataclass(frozen=True, slots=True)
class CleaningView:
    """One version of a cleaning record with its verification and signatures."""

    id: int
    room_id: str
    started_at: datetime
    ended_at: datetime | None
    cleaning_type: CleaningType
    agent: str
    agent_lot: str
    agent_prepared_on: date
    agent_expires_on: date
    required_contact_min: float
    achieved_contact_min: float
    performed_by: str
    created_at: datetime
    reason: str | None
    supersedes_id: int | None
    superseded_by_id: int | None
    verified_by: str | None
    verified_at: datetime | None
    signatures: tuple[SignatureView, ...] = ()

    @property
    def current(self) -> bool:
        """Whether this is the newest version (no correction replaced it)."""
        return self.superseded_by_id is None

    @property
    def verified(self) -> bool:
        return self.verified_by is not None

    def entry(self) -> CleaningEntry:
        """The record as an entry, e.g. to prefill a correction."""
        return CleaningEntry(
            room_id=self.room_id,
            started_at=self.started_at,
            ended_at=self.ended_at if self.ended_at is not None else self.started_at,
            cleaning_type=self.cleaning_type,
            agent=self.agent,
            agent_lot=self.agent_lot,
            agent_prepared_on=self.agent_prepared_on,
            agent_expires_on=self.agent_expires_on,
            required_contact_min=self.required_contact_min,
            achieved_contact_min=self.achieved_contact_min,
            performed_by=self.performed_by,
        )


@dataclass(frozen=True, slots=True)
class GowningView:
    """One version of a gowning record; ``qualification_status`` is the status at entry."""

    id: int
    person: str
    room_id: str
    grade: str
    time_in: datetime
    time_out: datetime | None
    garment_lot: str
    qualification_status: QualificationStatus
    logged_by: str
    created_at: datetime
    reason: str | None
    supersedes_id: int | None
    superseded_by_id: int | None
    signatures: tuple[SignatureView, ...] = ()

    @property
    def current(self) -> bool:
        return self.superseded_by_id is None

    @property
    def inside(self) -> bool:
        """Whether the person is still in the room (no exit logged)."""
        return self.time_out is None


@dataclass(frozen=True, slots=True)
class QualificationView:
    """A person's gowning qualification; ``status`` is as of the view's making
    (a revoked qualification counts as missing)."""

    id: int
    person: str
    qualified_on: date
    valid_months: int
    valid_until: date
    status: QualificationStatus
    revoked: bool
    recorded_by: str
    recorded_at: datetime
    reason: str | None
    supersedes_id: int | None
    signatures: tuple[SignatureView, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditView:
    """One audit trail entry."""

    id: int
    at: datetime
    username: str
    action: str
    record_type: str
    record_id: str
    field: str | None
    old_value: str | None
    new_value: str | None
    reason: str
    prev_hash: str
    hash: str
