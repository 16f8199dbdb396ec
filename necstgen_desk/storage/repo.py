"""Repository functions: the only way the services write and read records.

Every write appends its audit entries in the same session, so the record and
its audit trail commit together (the caller commits). GMP records are only
ever added: a correction is a new version (:func:`add_correction`) whose
``supersedes_id`` points to the row it corrects; the original stays and
:func:`history` shows both. Users are updated only by :func:`update_user`,
which audits every changed field. Nothing here deletes.

Times given to these functions must be timezone-aware; they are stored in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict, Unpack, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    exists,
    func,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.orm import Session

from necstgen_desk.records.cleaning import CleaningType
from necstgen_desk.records.hashing import canonical_json, record_hash
from necstgen_desk.records.roles import Role
from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.storage.audit import append_audit, format_value
from necstgen_desk.storage.errors import ReasonRequired
from necstgen_desk.storage.models import (
    ALARM_RECORD_TYPE,
    INTERLOCK_RECORD_TYPE,
    MODELS_BY_RECORD_TYPE,
    NAME_LENGTH,
    VERSIONED_MODELS,
    AlarmJournalEntry,
    AuditEntry,
    Base,
    CleaningRecord,
    CleaningVerification,
    GowningQualification,
    GowningRecord,
    RoomStatusEntry,
    Setting,
    Signature,
    User,
)

#: Columns that are not part of a record's signed content: the row id (the
#: signature binds it separately), the link to the signature itself, and the
#: password hash of a user.
NOT_CONTENT = frozenset({"id", "signature_id", "password_hash"})
#: Bookkeeping columns a correction may differ in without that being "a change".
NOT_COMPARED = frozenset({*NOT_CONTENT, "supersedes_id", "reason", "created_at", "recorded_at"})


def _now() -> datetime:
    return datetime.now(UTC)


def _table(model: type[Base]) -> Any:
    return model.__table__


def _col(model: type[Base], name: str) -> ColumnElement[Any]:
    column: ColumnElement[Any] = _table(model).c[name]
    return column


def _require_reason(reason: str, what: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired(f"A reason is required to {what}; none was given.")
    return reason.strip()


def _persistent_id(record: Base) -> int:
    state = inspect(record)
    if not state.persistent:
        raise ValueError(f"{type(record).__name__} is not saved yet")
    value = getattr(record, "id", None)
    assert isinstance(value, int)
    return value


def record_content(record: Base) -> dict[str, object]:
    """The record's own data, for signatures and audit entries: every column but
    :data:`NOT_CONTENT`."""
    mapper = inspect(type(record))
    return {
        attr.key: getattr(record, attr.key)
        for attr in mapper.column_attrs
        if attr.key not in NOT_CONTENT
    }


def content_hash(record: Base) -> str:
    """``record_hash(record_type, record_content(record))``: what a signature binds."""
    return record_hash(type(record).RECORD_TYPE, record_content(record))


# ---------------------------------------------------------------- generic records


def add_record[R: Base](
    session: Session,
    record: R,
    *,
    username: str,
    reason: str = "created",
    at: datetime | None = None,
) -> R:
    """Insert a new GMP record (not a correction) with its ``create`` audit entry.

    The entry's ``new_value`` is the record's content as canonical JSON.
    """
    model = type(record)
    if not model.append_only:
        raise TypeError(f"{model.__name__} rows are added with their own function")
    if getattr(record, "supersedes_id", None) is not None:
        raise ValueError("a record with supersedes_id is a correction: use add_correction")
    if inspect(record).persistent:
        raise ValueError(f"{model.__name__} {getattr(record, 'id', '?')} is already saved")
    session.add(record)
    session.flush()
    append_audit(
        session,
        username=username,
        action="create",
        record_type=model.RECORD_TYPE,
        record_id=_persistent_id(record),
        new_value=canonical_json(record_content(record)),
        reason=reason,
        at=at,
    )
    return record


def get_record[R: Base](session: Session, model: type[R], record_id: int) -> R | None:
    return session.get(model, record_id)


def superseded_by[R: Base](session: Session, record: R) -> R | None:
    """The version that corrects ``record``, if any."""
    model = type(record)
    _check_versioned(model)
    return session.scalars(
        select(model).where(_col(model, "supersedes_id") == _persistent_id(record))
    ).first()


def _check_versioned(model: type[Base]) -> None:
    if model not in VERSIONED_MODELS:
        raise TypeError(f"{model.__name__} records have no versions")


def add_correction[R: Base](
    session: Session,
    original: R,
    correction: R,
    *,
    username: str,
    reason: str,
    at: datetime | None = None,
    action: str = "correct",
) -> R:
    """Add ``correction`` as the new version of ``original`` (which must be the newest).

    Sets ``correction.supersedes_id`` and ``correction.reason``; appends one
    audit entry per changed field (old and new value, the reason). A
    correction that changes nothing is refused.
    """
    model = type(original)
    _check_versioned(model)
    if type(correction) is not model:
        raise TypeError(f"a {model.__name__} is corrected by a {model.__name__}")
    why = _require_reason(reason, f"correct {model.RECORD_TYPE} {getattr(original, 'id', '?')}")
    original_id = _persistent_id(original)
    newer = superseded_by(session, original)
    if newer is not None:
        raise ValueError(
            f"{model.RECORD_TYPE} {original_id} was already corrected by version "
            f"{getattr(newer, 'id', '?')}: correct the newest version"
        )
    before = record_content(original)
    after = record_content(correction)
    changed = [
        name
        for name in before
        if name not in NOT_COMPARED and format_value(before[name]) != format_value(after[name])
    ]
    if not changed:
        raise ValueError(f"the correction of {model.RECORD_TYPE} {original_id} changes nothing")
    cast(Any, correction).supersedes_id = original_id
    cast(Any, correction).reason = why
    session.add(correction)
    session.flush()
    new_id = _persistent_id(correction)
    for name in changed:
        append_audit(
            session,
            username=username,
            action=action,
            record_type=model.RECORD_TYPE,
            record_id=new_id,
            field=name,
            old_value=before[name],
            new_value=after[name],
            reason=why,
            at=at,
        )
    return correction


def current_versions_query[R: Base](model: type[R]) -> Select[R]:
    """``SELECT`` of the rows no other row supersedes: the newest version of each chain."""
    _check_versioned(model)
    newer = _table(model).alias("newer")
    return select(model).where(~exists().where(newer.c.supersedes_id == _col(model, "id")))


def current_versions[R: Base](
    session: Session,
    model: type[R],
    *where: ColumnElement[bool],
    order_by: Sequence[ColumnElement[Any]] = (),
    limit: int | None = None,
    offset: int = 0,
) -> list[R]:
    """The newest version of each record chain of ``model``, filtered by ``where``."""
    query = current_versions_query(model).where(*where)
    query = query.order_by(*order_by) if order_by else query.order_by(_col(model, "id"))
    return list(session.scalars(query.offset(offset).limit(limit)))


def history[R: Base](session: Session, record: R) -> list[R]:
    """Every version of ``record``'s chain, oldest first (the original stays visible)."""
    model = type(record)
    _check_versioned(model)
    chain = [record]
    current: R | None = record
    while current is not None and getattr(current, "supersedes_id", None) is not None:
        current = session.get(model, cast(Any, current).supersedes_id)
        if current is not None:
            chain.insert(0, current)
    current = record
    while (current := superseded_by(session, current)) is not None:
        chain.append(current)
    return chain


def newest_version[R: Base](session: Session, record: R) -> R:
    return history(session, record)[-1]


# ---------------------------------------------------------------- filters


def _window(
    column: ColumnElement[Any], since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    """``since <= column < until`` (either end open)."""
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    return conditions


def _listed[R: Base](
    session: Session,
    model: type[R],
    conditions: list[ColumnElement[bool]],
    order: ColumnElement[Any],
    *,
    current_only: bool,
    newest_first: bool,
    limit: int | None,
    offset: int,
) -> list[R]:
    query = current_versions_query(model) if current_only else select(model)
    id_order = _col(model, "id")
    ordering = (order.desc(), id_order.desc()) if newest_first else (order, id_order)
    query = query.where(*conditions).order_by(*ordering).offset(offset).limit(limit)
    return list(session.scalars(query))


# ---------------------------------------------------------------- audit entries


def list_audit_entries(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    username: str | None = None,
    record_type: str | None = None,
    record_id: str | int | None = None,
    action: str | None = None,
    room_id: str | None = None,
    newest_first: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[AuditEntry]:
    """Audit entries for the viewer, filtered by time (``since <= at < until``),
    user, record type and id, action, and room (:func:`room_condition`); in
    chain order (or newest first)."""
    conditions = _window(_col(AuditEntry, "at"), since, until)
    if room_id is not None:
        conditions.append(room_condition(room_id))
    if username is not None:
        conditions.append(AuditEntry.username == username)
    if record_type is not None:
        conditions.append(AuditEntry.record_type == record_type)
    if record_id is not None:
        conditions.append(AuditEntry.record_id == str(record_id))
    if action is not None:
        conditions.append(AuditEntry.action == action)
    order = AuditEntry.id.desc() if newest_first else AuditEntry.id
    query = select(AuditEntry).where(*conditions).order_by(order).offset(offset).limit(limit)
    return list(session.scalars(query))


def room_condition(room_id: str) -> ColumnElement[bool]:
    """Audit entries about a room: its status entries, cleanings (and their
    verifications), gowning records, the journal rows of its alarms, and the
    signatures of any of these (a shelving, an interlock-fault acknowledgement);
    people's actions on its alarms (record type ``alarm``: acknowledge, shelve,
    unshelve, acknowledge an interlock fault, and their refusals) and, for an
    airlock, on its interlock (record type ``interlock``: reset, refusals).

    An alarm is the room's when the alarm journal places it there (its
    ``room_id``, the room the alarm definitions give: a point's space, a door's
    airlock or inner side, an airlock itself). An airlock's id is its space id,
    and its interlock's room is the airlock itself."""

    def ids(model: type[Base], *where: ColumnElement[bool]) -> Select[Any]:
        return select(cast_text(_col(model, "id"))).where(*where)

    journal_in_room = AlarmJournalEntry.room_id == room_id
    in_room = {
        RoomStatusEntry.RECORD_TYPE: ids(RoomStatusEntry, RoomStatusEntry.room_id == room_id),
        CleaningRecord.RECORD_TYPE: ids(CleaningRecord, CleaningRecord.room_id == room_id),
        GowningRecord.RECORD_TYPE: ids(GowningRecord, GowningRecord.room_id == room_id),
        CleaningVerification.RECORD_TYPE: ids(
            CleaningVerification,
            CleaningVerification.cleaning_id.in_(
                select(CleaningRecord.id).where(CleaningRecord.room_id == room_id)
            ),
        ),
        AlarmJournalEntry.RECORD_TYPE: ids(AlarmJournalEntry, journal_in_room),
    }
    # Audit entries name an alarm by its id cut to fit (services.audit_id).
    alarms = select(func.substr(AlarmJournalEntry.alarm_id, 1, NAME_LENGTH)).where(journal_in_room)
    signed = select(cast_text(_col(Signature, "id"))).where(
        or_(
            *(
                and_(Signature.record_type == kind, Signature.record_id.in_(subquery))
                for kind, subquery in in_room.items()
            )
        )
    )
    return or_(
        *(
            and_(AuditEntry.record_type == kind, AuditEntry.record_id.in_(subquery))
            for kind, subquery in in_room.items()
        ),
        and_(AuditEntry.record_type == Signature.RECORD_TYPE, AuditEntry.record_id.in_(signed)),
        and_(AuditEntry.record_type == ALARM_RECORD_TYPE, AuditEntry.record_id.in_(alarms)),
        and_(AuditEntry.record_type == INTERLOCK_RECORD_TYPE, AuditEntry.record_id == room_id),
    )


def cast_text(column: ColumnElement[Any]) -> ColumnElement[str]:
    """An integer id as the text stored in ``record_id`` columns."""
    return sa_cast(column, String(NAME_LENGTH))


def count_audit_entries(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


# ---------------------------------------------------------------- users


class UserChanges(TypedDict, total=False):
    full_name: str
    role: Role
    password_hash: str
    active: bool
    failed_logins: int
    locked: bool
    must_change_password: bool


_SECRET_FIELDS = frozenset({"password_hash"})


def add_user(
    session: Session,
    *,
    username: str,
    full_name: str,
    role: Role,
    password_hash: str,
    by: str,
    reason: str = "account created",
    must_change_password: bool = True,
    at: datetime | None = None,
) -> User:
    """Create an account (user names are unique regardless of case) and audit it."""
    name = username.strip()
    if not name:
        raise ValueError("a user needs a user name")
    if get_user_by_username(session, name) is not None:
        raise ValueError(f"the user name {name} is taken")
    when = at or _now()
    user = User(
        username=name,
        full_name=full_name.strip(),
        role=role,
        password_hash=password_hash,
        created_at=when,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    append_audit(
        session,
        username=by,
        action="create",
        record_type=User.RECORD_TYPE,
        record_id=user.id,
        new_value=canonical_json(record_content(user)),
        reason=_require_reason(reason, f"create the account {name}"),
        at=when,
    )
    return user


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_by_username(session: Session, username: str) -> User | None:
    """The account of ``username``, compared trimmed and case-insensitively."""
    key = username.strip().casefold()
    return session.scalars(select(User).where(func.lower(User.username) == key)).first()


def list_users(
    session: Session, *, active: bool | None = None, role: Role | None = None
) -> list[User]:
    query = select(User).order_by(User.username)
    if active is not None:
        query = query.where(User.active == active)
    if role is not None:
        query = query.where(User.role == role)
    return list(session.scalars(query))


def update_user(
    session: Session,
    user: User,
    *,
    by: str,
    reason: str,
    at: datetime | None = None,
    **changes: Unpack[UserChanges],
) -> list[AuditEntry]:
    """Change ``user``'s fields and append one audit entry per changed field.

    Unchanged values write nothing. A password hash is never written into the
    audit trail (the entry says it changed). Returns the entries appended.
    """
    why = _require_reason(reason, f"change the account {user.username}")
    entries: list[AuditEntry] = []
    when = at or _now()
    for name, value in changes.items():
        old = getattr(user, name)
        if old == value:
            continue
        setattr(user, name, value)
        secret = name in _SECRET_FIELDS
        entries.append(
            append_audit(
                session,
                username=by,
                action="update",
                record_type=User.RECORD_TYPE,
                record_id=user.id,
                field=name,
                old_value=None if secret else old,
                new_value="(changed)" if secret else value,
                reason=why,
                at=when,
            )
        )
    return entries


# ---------------------------------------------------------------- signatures


def _allocate_id(session: Session, model: type[Base]) -> int:
    """The id the next row of ``model`` will get, reserved now (inside the write
    transaction), so a signature can name a record before it is inserted."""
    name = _table(model).name
    if session.get_bind().dialect.name == "postgresql":
        value = session.scalar(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id'))"), {"table": name}
        )
    else:
        session.flush()
        value = session.scalar(select(func.coalesce(func.max(_col(model, "id")), 0) + 1))
    assert isinstance(value, int)
    return value


def _signature(
    session: Session,
    *,
    record_type: str,
    record_id: int | str,
    record_hash_: str,
    signer: User,
    meaning: SignatureMeaning,
    printed_name: str | None,
    reason: str | None,
    at: datetime | None,
) -> Signature:
    if not signer.active or signer.locked:
        raise ValueError(f"the account {signer.username} may not sign (disabled or locked)")
    when = at or _now()
    signature = Signature(
        record_type=record_type,
        record_id=str(record_id),
        record_hash=record_hash_,
        user_id=signer.id,
        username=signer.username,
        printed_name=(printed_name or signer.full_name).strip(),
        meaning=meaning,
        signed_at=when,
    )
    session.add(signature)
    session.flush()
    append_audit(
        session,
        username=signer.username,
        action="sign",
        record_type=Signature.RECORD_TYPE,
        record_id=signature.id,
        new_value=canonical_json(record_content(signature)),
        reason=reason or f"electronic signature: {meaning.value}",
        at=when,
    )
    return signature


def sign_record(
    session: Session,
    record: Base,
    *,
    signer: User,
    meaning: SignatureMeaning,
    printed_name: str | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> Signature:
    """Sign a saved record: the signature binds its type, id and content hash."""
    return _signature(
        session,
        record_type=type(record).RECORD_TYPE,
        record_id=_persistent_id(record),
        record_hash_=content_hash(record),
        signer=signer,
        meaning=meaning,
        printed_name=printed_name,
        reason=reason,
        at=at,
    )


def add_signed_record[R: Base](
    session: Session,
    record: R,
    *,
    signer: User,
    meaning: SignatureMeaning,
    reason: str = "created",
    printed_name: str | None = None,
    at: datetime | None = None,
) -> tuple[R, Signature]:
    """Insert a new record that carries its own signature (``signature_id``, e.g. a
    room release): the record's id is reserved, the signature written, then the
    record referencing it. Both are audited."""
    model = type(record)
    if "signature_id" not in _table(model).c:
        raise TypeError(f"{model.__name__} rows do not carry a signature; use sign_record")
    record_id = _allocate_id(session, model)
    cast(Any, record).id = record_id
    signature = _signature(
        session,
        record_type=model.RECORD_TYPE,
        record_id=record_id,
        record_hash_=content_hash(record),
        signer=signer,
        meaning=meaning,
        printed_name=printed_name,
        reason=None,
        at=at,
    )
    cast(Any, record).signature_id = signature.id
    return add_record(session, record, username=signer.username, reason=reason, at=at), signature


def signatures_for(session: Session, record: Base) -> list[Signature]:
    """The signatures bound to ``record``, oldest first."""
    query = (
        select(Signature)
        .where(
            Signature.record_type == type(record).RECORD_TYPE,
            Signature.record_id == str(_persistent_id(record)),
        )
        .order_by(Signature.id)
    )
    return list(session.scalars(query))


def signature_matches(session: Session, signature: Signature) -> bool:
    """Whether the signed record still hashes to what was signed (False if it is gone)."""
    model = MODELS_BY_RECORD_TYPE.get(signature.record_type)
    if model is None or not signature.record_id.isdigit():
        return False
    record = session.get(model, int(signature.record_id))
    return record is not None and content_hash(record) == signature.record_hash


def list_signatures(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    username: str | None = None,
    record_type: str | None = None,
    meaning: SignatureMeaning | None = None,
    newest_first: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[Signature]:
    conditions = _window(_col(Signature, "signed_at"), since, until)
    if username is not None:
        conditions.append(Signature.username == username)
    if record_type is not None:
        conditions.append(Signature.record_type == record_type)
    if meaning is not None:
        conditions.append(Signature.meaning == meaning)
    order = Signature.id.desc() if newest_first else Signature.id
    query = select(Signature).where(*conditions).order_by(order).offset(offset).limit(limit)
    return list(session.scalars(query))


# ---------------------------------------------------------------- room status


def list_room_status(
    session: Session,
    *,
    room_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    username: str | None = None,
    current_only: bool = True,
    newest_first: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[RoomStatusEntry]:
    """Status entries (the newest version of each unless ``current_only=False``)."""
    at = _col(RoomStatusEntry, "at")
    conditions = _window(at, since, until)
    if room_id is not None:
        conditions.append(RoomStatusEntry.room_id == room_id)
    if username is not None:
        conditions.append(RoomStatusEntry.username == username)
    return _listed(
        session,
        RoomStatusEntry,
        conditions,
        at,
        current_only=current_only,
        newest_first=newest_first,
        limit=limit,
        offset=offset,
    )


def current_room_status(session: Session, room_id: str) -> RoomStatusEntry | None:
    """The room's status now: its latest entry (by time) that no correction replaced."""
    entries = list_room_status(session, room_id=room_id, limit=1)
    return entries[0] if entries else None


def current_room_statuses(session: Session) -> dict[str, RoomStatusEntry]:
    """Every room's current status entry, by room id."""
    latest: dict[str, RoomStatusEntry] = {}
    for entry in list_room_status(session, newest_first=False):
        latest[entry.room_id] = entry  # ordered by time, then id: the last one wins
    return latest


# ---------------------------------------------------------------- cleaning


def list_cleanings(
    session: Session,
    *,
    room_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    performed_by: str | None = None,
    cleaning_type: CleaningType | None = None,
    current_only: bool = True,
    newest_first: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[CleaningRecord]:
    """Cleaning records by start time (``since <= started_at < until``)."""
    started = _col(CleaningRecord, "started_at")
    conditions = _window(started, since, until)
    if room_id is not None:
        conditions.append(CleaningRecord.room_id == room_id)
    if performed_by is not None:
        conditions.append(CleaningRecord.performed_by == performed_by)
    if cleaning_type is not None:
        conditions.append(CleaningRecord.cleaning_type == cleaning_type)
    return _listed(
        session,
        CleaningRecord,
        conditions,
        started,
        current_only=current_only,
        newest_first=newest_first,
        limit=limit,
        offset=offset,
    )


def last_cleaning(
    session: Session, room_id: str, cleaning_type: CleaningType | None = None
) -> CleaningRecord | None:
    """The room's latest cleaning (of that type), current versions only."""
    found = list_cleanings(session, room_id=room_id, cleaning_type=cleaning_type, limit=1)
    return found[0] if found else None


def add_verification(
    session: Session,
    cleaning: CleaningRecord,
    *,
    verifier: User,
    printed_name: str | None = None,
    reason: str = "cleaning verified",
    at: datetime | None = None,
) -> CleaningVerification:
    """The second person's verification: a ``verified`` signature of the cleaning
    record and a verification row referencing it (the cleaning row never changes)."""
    when = at or _now()
    signature = sign_record(
        session,
        cleaning,
        signer=verifier,
        meaning=SignatureMeaning.VERIFIED,
        printed_name=printed_name,
        at=when,
    )
    verification = CleaningVerification(
        cleaning_id=_persistent_id(cleaning),
        verified_by=verifier.username,
        verified_at=when,
        signature_id=signature.id,
    )
    return add_record(session, verification, username=verifier.username, reason=reason, at=when)


def verification_of(session: Session, cleaning: CleaningRecord) -> CleaningVerification | None:
    query = select(CleaningVerification).where(
        CleaningVerification.cleaning_id == _persistent_id(cleaning)
    )
    return session.scalars(query).first()


# ---------------------------------------------------------------- gowning


def list_gowning(
    session: Session,
    *,
    room_id: str | None = None,
    person: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    username: str | None = None,
    open_only: bool = False,
    current_only: bool = True,
    newest_first: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[GowningRecord]:
    """Gowning records by time in; ``open_only``: people still inside (no time out)."""
    time_in = _col(GowningRecord, "time_in")
    conditions = _window(time_in, since, until)
    if room_id is not None:
        conditions.append(GowningRecord.room_id == room_id)
    if person is not None:
        conditions.append(GowningRecord.person == person)
    if username is not None:
        conditions.append(GowningRecord.username == username)
    if open_only:
        conditions.append(GowningRecord.time_out.is_(None))
    return _listed(
        session,
        GowningRecord,
        conditions,
        time_in,
        current_only=current_only,
        newest_first=newest_first,
        limit=limit,
        offset=offset,
    )


def list_qualifications(
    session: Session,
    *,
    person: str | None = None,
    current_only: bool = True,
    include_revoked: bool = True,
) -> list[GowningQualification]:
    qualified_on = _col(GowningQualification, "qualified_on")
    conditions: list[ColumnElement[bool]] = []
    if person is not None:
        conditions.append(GowningQualification.person == person)
    if not include_revoked:
        conditions.append(GowningQualification.revoked.is_(False))
    return _listed(
        session,
        GowningQualification,
        conditions,
        qualified_on,
        current_only=current_only,
        newest_first=True,
        limit=None,
        offset=0,
    )


def latest_qualification(session: Session, person: str) -> GowningQualification | None:
    """The person's most recent qualification that is neither corrected nor revoked."""
    found = list_qualifications(session, person=person, include_revoked=False)
    return found[0] if found else None


# ---------------------------------------------------------------- settings


def get_setting(session: Session, key: str, default: str | None = None) -> str | None:
    setting = session.get(Setting, key)
    return setting.value if setting is not None else default


def set_setting(
    session: Session,
    key: str,
    value: str,
    *,
    username: str,
    reason: str,
    at: datetime | None = None,
) -> AuditEntry | None:
    """Set a setting, audited (old and new value); None when the value is unchanged."""
    why = _require_reason(reason, f"change the setting {key}")
    setting = session.get(Setting, key)
    old = setting.value if setting is not None else None
    if old == value:
        return None
    if setting is None:
        session.add(Setting(key=key, value=value))
    else:
        setting.value = value
    return append_audit(
        session,
        username=username,
        action="update" if old is not None else "create",
        record_type=Setting.RECORD_TYPE,
        record_id=key,
        field="value",
        old_value=old,
        new_value=value,
        reason=why,
        at=at,
    )
