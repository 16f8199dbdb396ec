"""The tables, as SQLAlchemy 2 typed declarative dataclasses.

Every GMP table is append-only (the database refuses UPDATE and DELETE, see
the first migration): a correction is a new row whose ``supersedes_id`` points
to the row it corrects, with a ``reason``; the original stays. ``users`` rows
change (password, lock, role, active) but are never deleted, and every change
goes through :func:`necstgen_desk.storage.repo.update_user`, which audits it.

Times are :class:`~necstgen_desk.storage.types.UTCDateTime` (aware UTC on
every backend); enumerations are stored as their string values.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    MetaData,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedAsDataclass, mapped_column

from necstgen_desk.alarms.model import AlarmEvent, AlarmKind, AlarmState
from necstgen_desk.records.cleaning import CleaningType
from necstgen_desk.records.gowning import QualificationStatus
from necstgen_desk.records.lifecycle import RoomStatus
from necstgen_desk.records.roles import Role
from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.site.model import Priority
from necstgen_desk.storage.types import UTCDateTime

NAME_LENGTH = 64  # user names, room ids, record types, actions, field names
TEXT_LENGTH = 200  # printed names, products, agents
LOT_LENGTH = 100
ENUM_LENGTH = 32

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum[E: enum.Enum](cls: type[E]) -> Enum:
    """A string column holding the enum's values (no native type, no CHECK: new
    values need no migration)."""
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=ENUM_LENGTH,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(MappedAsDataclass, DeclarativeBase, kw_only=True, eq=False):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        date: Date(),
        str: String(NAME_LENGTH),
        float: Float(),
        Role: _enum(Role),
        RoomStatus: _enum(RoomStatus),
        CleaningType: _enum(CleaningType),
        QualificationStatus: _enum(QualificationStatus),
        SignatureMeaning: _enum(SignatureMeaning),
        AlarmState: _enum(AlarmState),
        AlarmEvent: _enum(AlarmEvent),
        AlarmKind: _enum(AlarmKind),
        Priority: _enum(Priority),
    }

    #: The ``record_type`` naming this table's rows in audit entries and signatures.
    RECORD_TYPE: ClassVar[str] = ""
    #: Whether the database refuses UPDATE and DELETE on the table.
    append_only: ClassVar[bool] = True


class User(Base):
    __tablename__ = "users"
    RECORD_TYPE = "user"
    append_only = False  # updatable (audited), never deleted

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    username: Mapped[str] = mapped_column(unique=True)
    full_name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    role: Mapped[Role]
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked: Mapped[bool] = mapped_column(default=False)
    must_change_password: Mapped[bool] = mapped_column(default=True)


class AuditEntry(Base):
    """One link of the audit chain (ADR 0003): ``hash = chain_hash(prev_hash, fields)``.

    Ids are given by the writer (the hash covers them) and run 1, 2, 3, ….
    ``prev_hash`` is unique: two entries can never follow the same one.
    """

    __tablename__ = "audit_entries"
    RECORD_TYPE = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entries_record", "record_type", "record_id", "id"),
        Index("ix_audit_entries_user_at", "username", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)
    username: Mapped[str]
    action: Mapped[str]
    record_type: Mapped[str]
    record_id: Mapped[str]
    field: Mapped[str | None]
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def chain_fields(self) -> dict[str, object]:
        """The hashed fields (everything but ``hash``)."""
        return {name: getattr(self, name) for name in CHAIN_FIELDS}


#: The audit entry fields the chain hash covers, in column order.
CHAIN_FIELDS = (
    "id",
    "at",
    "username",
    "action",
    "record_type",
    "record_id",
    "field",
    "old_value",
    "new_value",
    "reason",
    "prev_hash",
)


class Signature(Base):
    """An electronic signature bound to a record's content hash (Part 11 §11.50/§11.70)."""

    __tablename__ = "signatures"
    RECORD_TYPE = "signature"
    __table_args__ = (Index("ix_signatures_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    record_type: Mapped[str]
    record_id: Mapped[str]
    record_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str]
    printed_name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    meaning: Mapped[SignatureMeaning]
    signed_at: Mapped[datetime] = mapped_column(index=True)


def _correction_check() -> CheckConstraint:
    return CheckConstraint(
        "supersedes_id IS NULL OR (reason IS NOT NULL AND length(trim(reason)) > 0)",
        name="correction_has_reason",
    )


class RoomStatusEntry(Base):
    """A room's status from ``at`` on; the newest non-superseded entry is the current one."""

    __tablename__ = "room_status_entries"
    RECORD_TYPE = "room_status_entry"
    __table_args__ = (
        Index("ix_room_status_entries_room_at", "room_id", "at"),
        _correction_check(),
    )

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    room_id: Mapped[str]
    status: Mapped[RoomStatus]
    at: Mapped[datetime] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(index=True)
    product: Mapped[str | None] = mapped_column(String(TEXT_LENGTH), default=None)
    batch: Mapped[str | None] = mapped_column(String(LOT_LENGTH), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("room_status_entries.id"), unique=True, default=None
    )
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"), default=None)


class CleaningRecord(Base):
    """One cleaning as performed; its verification is a :class:`CleaningVerification` row."""

    __tablename__ = "cleaning_records"
    RECORD_TYPE = "cleaning_record"
    __table_args__ = (
        Index("ix_cleaning_records_room_started", "room_id", "started_at"),
        _correction_check(),
    )

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    room_id: Mapped[str]
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    cleaning_type: Mapped[CleaningType]
    agent: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    agent_lot: Mapped[str] = mapped_column(String(LOT_LENGTH))
    agent_prepared_on: Mapped[date]
    agent_expires_on: Mapped[date]
    required_contact_min: Mapped[float]
    achieved_contact_min: Mapped[float]
    performed_by: Mapped[str] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("cleaning_records.id"), unique=True, default=None
    )
    reason: Mapped[str | None] = mapped_column(Text, default=None)


class CleaningVerification(Base):
    """The second person's signed verification of one cleaning record version."""

    __tablename__ = "cleaning_verifications"
    RECORD_TYPE = "cleaning_verification"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    cleaning_id: Mapped[int] = mapped_column(ForeignKey("cleaning_records.id"), unique=True)
    verified_by: Mapped[str] = mapped_column(index=True)
    verified_at: Mapped[datetime] = mapped_column(index=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id"))


class GowningRecord(Base):
    """A person's entry into a room (``time_out`` is set by a new version at exit)."""

    __tablename__ = "gowning_records"
    RECORD_TYPE = "gowning_record"
    __table_args__ = (
        Index("ix_gowning_records_room_time_in", "room_id", "time_in"),
        Index("ix_gowning_records_person_time_in", "person", "time_in"),
        _correction_check(),
    )

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    person: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    room_id: Mapped[str]
    grade: Mapped[str] = mapped_column(String(8))
    time_in: Mapped[datetime] = mapped_column(index=True)
    time_out: Mapped[datetime | None]  # None while the person is inside
    garment_lot: Mapped[str] = mapped_column(String(LOT_LENGTH))
    qualification_status: Mapped[QualificationStatus]
    created_at: Mapped[datetime]
    username: Mapped[str] = mapped_column(index=True)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("gowning_records.id"), unique=True, default=None
    )
    reason: Mapped[str | None] = mapped_column(Text, default=None)


class GowningQualification(Base):
    """A person's gowning qualification; a revocation or correction is a new version."""

    __tablename__ = "gowning_qualifications"
    RECORD_TYPE = "gowning_qualification"
    __table_args__ = (
        Index("ix_gowning_qualifications_person_qualified_on", "person", "qualified_on"),
        _correction_check(),
    )

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    person: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    qualified_on: Mapped[date]
    recorded_by: Mapped[str]
    recorded_at: Mapped[datetime] = mapped_column(index=True)
    valid_months: Mapped[int] = mapped_column(default=12)
    revoked: Mapped[bool] = mapped_column(default=False)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("gowning_qualifications.id"), unique=True, default=None
    )
    reason: Mapped[str | None] = mapped_column(Text, default=None)


class Setting(Base):
    """A site setting (key → text), changed only with an audit entry."""

    __tablename__ = "settings"
    RECORD_TYPE = "setting"
    append_only = False

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


ALARM_ID_LENGTH = 128
#: Audit record types of people's actions on alarms (``necstgen_desk.alarms.service``):
#: an alarm, by its id (cut to ``NAME_LENGTH``), and an airlock's interlock, by
#: the airlock id (which is the airlock's space id).
ALARM_RECORD_TYPE = "alarm"
INTERLOCK_RECORD_TYPE = "interlock"


class AlarmJournalEntry(Base):
    """One change of one alarm, in the engine's order (``seq``): the alarm journal.

    Append-only like the GMP records (migration r0002_alarms). ``username`` is
    set for a person's action and ``None`` for the process and the system. The
    latest entry of each alarm (by ``seq``) is its state for the restore after
    a restart. A signature of a person's action (an interlock-fault
    acknowledgement, a shelving) names its entry: record type ``alarm_event``.
    """

    __tablename__ = "alarm_events"
    RECORD_TYPE = "alarm_event"
    __table_args__ = (
        Index("ix_alarm_events_alarm_seq", "alarm_id", "seq"),
        Index("ix_alarm_events_source_at", "source", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    seq: Mapped[int] = mapped_column(index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    alarm_id: Mapped[str] = mapped_column(String(ALARM_ID_LENGTH))
    kind: Mapped[AlarmKind]
    source: Mapped[str]
    room_id: Mapped[str | None]
    priority: Mapped[Priority]
    event: Mapped[AlarmEvent]
    # not old_state/new_state: SQLAlchemy's generated __init__ uses "new_state" itself
    from_state: Mapped[AlarmState]
    to_state: Mapped[AlarmState]
    active: Mapped[bool]
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text, default=None)
    username: Mapped[str | None] = mapped_column(default=None)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    shelved_until: Mapped[datetime | None] = mapped_column(default=None)
    raised_at: Mapped[datetime | None] = mapped_column(default=None)


# ---------------------------------------------------------------- historian
#
# Migration r0003_historian; written by necstgen_desk.historian. Sample times
# are whole microseconds since the epoch (UTC) in a BIGINT, and points are
# small integers (``hist_points``), so a sample row stays small. The sample
# tables have no foreign key to ``hist_points`` (a key check per inserted row
# costs a row lock on PostgreSQL; the one writer registers a point before its
# first row). On SQLite they are WITHOUT ROWID tables: clustered by
# (point, time), so a range query reads consecutive pages and the primary key
# is not stored twice.

_SAMPLE_TABLE_ARGS: dict[str, Any] = {"sqlite_with_rowid": False}


class HistPoint(Base):
    """A point the historian has recorded: its small id and whether it is critical.

    ``critical`` only ever goes from false to true: raw samples of a point that
    was once a critical differential are never purged by retention.
    """

    __tablename__ = "hist_points"
    append_only = False

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    point_id: Mapped[str] = mapped_column(String(ALARM_ID_LENGTH), unique=True)
    created_at: Mapped[datetime]
    critical: Mapped[bool] = mapped_column(default=False)


class HistRaw(Base):
    """One recorded sample (change-based: see necstgen_desk.historian.recording).

    ``t``: microseconds since the epoch, UTC. ``quality``: the historian's
    quality code (0 good, 1 stale, 2 bad, 3 comm_fail; higher is worse).
    """

    __tablename__ = "hist_raw"
    __table_args__ = (_SAMPLE_TABLE_ARGS,)
    append_only = False  # retention and the audited archive step delete rows

    point: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    t: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    value: Mapped[float | None]
    quality: Mapped[int] = mapped_column(SmallInteger)
    reason: Mapped[str | None] = mapped_column(Text, default=None)


class HistMinute(Base):
    """Roll-up of every sample received in one minute (``bucket``: its start, µs).

    min/max/mean are over the GOOD samples (NULL when there was none);
    ``sample_count`` counts every sample, ``worst_quality`` is the worst code
    seen and ``last_quality`` the code of the latest one. ``first_t``/``last_t``
    are the times of the first and latest sample merged in.
    """

    __tablename__ = "hist_1m"
    __table_args__ = (_SAMPLE_TABLE_ARGS,)
    append_only = False

    point: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sample_count: Mapped[int]
    good_count: Mapped[int]
    min_value: Mapped[float | None]
    max_value: Mapped[float | None]
    mean_value: Mapped[float | None]
    worst_quality: Mapped[int] = mapped_column(SmallInteger)
    last_quality: Mapped[int] = mapped_column(SmallInteger)
    first_t: Mapped[int] = mapped_column(BigInteger)
    last_t: Mapped[int] = mapped_column(BigInteger)


class HistQuarterHour(Base):
    """Roll-up of every sample received in 15 minutes; the columns of :class:`HistMinute`."""

    __tablename__ = "hist_15m"
    __table_args__ = (_SAMPLE_TABLE_ARGS,)
    append_only = False

    point: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sample_count: Mapped[int]
    good_count: Mapped[int]
    min_value: Mapped[float | None]
    max_value: Mapped[float | None]
    mean_value: Mapped[float | None]
    worst_quality: Mapped[int] = mapped_column(SmallInteger)
    last_quality: Mapped[int] = mapped_column(SmallInteger)
    first_t: Mapped[int] = mapped_column(BigInteger)
    last_t: Mapped[int] = mapped_column(BigInteger)


class HistArchiveLog(Base):
    """What left the historian and why: an audited archive, or a retention purge.

    Append-only (migration r0003_historian). An archive names the CSV file and
    its sha256; its audit entry (record type ``hist_archive``) names this row.
    A retention purge is the system's (``username`` "system") and is logged
    here, not audited.
    """

    __tablename__ = "hist_archive_log"
    RECORD_TYPE = "hist_archive"
    __table_args__ = (Index("ix_hist_archive_log_point_id_at", "point_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    at: Mapped[datetime] = mapped_column(index=True)
    username: Mapped[str]
    action: Mapped[str] = mapped_column(String(ENUM_LENGTH))  # "archive" or "retention"
    tier: Mapped[str] = mapped_column(String(8))  # "raw", "1m", "15m"
    point_id: Mapped[str | None] = mapped_column(String(ALARM_ID_LENGTH))  # None: many points
    until: Mapped[datetime]  # rows older than this left
    rows: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    first_t: Mapped[datetime | None] = mapped_column(default=None)
    last_t: Mapped[datetime | None] = mapped_column(default=None)
    file_path: Mapped[str | None] = mapped_column(Text, default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)


#: Tables whose rows are corrected by new versions (``supersedes_id``/``reason``).
type VersionedRecord = RoomStatusEntry | CleaningRecord | GowningRecord | GowningQualification
VERSIONED_MODELS: tuple[type[VersionedRecord], ...] = (
    RoomStatusEntry,
    CleaningRecord,
    GowningRecord,
    GowningQualification,
)

#: Every mapped class by its ``record_type``.
MODELS_BY_RECORD_TYPE: dict[str, type[Base]] = {
    model.RECORD_TYPE: model
    for model in (
        User,
        AuditEntry,
        Signature,
        RoomStatusEntry,
        CleaningRecord,
        CleaningVerification,
        GowningRecord,
        GowningQualification,
        Setting,
    )
}

#: Tables on which the database refuses UPDATE and DELETE.
APPEND_ONLY_TABLES: tuple[str, ...] = tuple(
    model.__tablename__ for model in MODELS_BY_RECORD_TYPE.values() if model.append_only
)
#: Tables on which the database refuses DELETE only.
NO_DELETE_TABLES: tuple[str, ...] = (User.__tablename__,)
