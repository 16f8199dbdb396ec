"""The audit trail: an append-only hash chain, written and verified here.

Each entry's ``hash`` is ``chain_hash(prev_hash, fields)``
(:mod:`necstgen_desk.records.hashing`), where ``fields`` are all its columns but
``hash``, ``id`` and ``prev_hash`` included; the first entry's ``prev_hash`` is
:data:`~necstgen_desk.records.hashing.GENESIS_HASH`. Changing, removing or
inserting a row breaks the chain at that row (or the next one), and
:func:`verify_chain` names it.

:func:`append_audit` runs inside the caller's transaction, so the record and
its audit entry commit together or not at all. Writers are serialised: on
SQLite the transaction holds the write lock from its ``BEGIN IMMEDIATE`` (see
:mod:`~necstgen_desk.storage.engine`), on PostgreSQL a transaction-level
advisory lock is taken before the last hash is read. As a last guard the
database refuses two entries with the same id or the same ``prev_hash``, so a
fork can never be committed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, column, select, table, text
from sqlalchemy.orm import Session

from necstgen_desk.records.hashing import (
    GENESIS_HASH,
    canonical_json,
    chain_hash,
    first_broken,
    to_json_value,
)
from necstgen_desk.storage.engine import for_reading
from necstgen_desk.storage.errors import ReasonRequired
from necstgen_desk.storage.models import CHAIN_FIELDS, NAME_LENGTH, AuditEntry
from necstgen_desk.storage.types import as_utc

#: The user name of entries the program writes by itself.
SYSTEM_USER = "system"
#: Advisory lock key (PostgreSQL) serialising audit writers: any constant.
AUDIT_LOCK_KEY = 0x4E4543_415544  # "NEC" "AUD"
#: Rows read per query by :func:`verify_chain`.
VERIFY_BATCH = 5000

# The audit table without column types: the verifier reads the stored values
# as they are, so a row damaged beyond parsing is reported, not a crash.
_RAW = table("audit_entries", *(column(name) for name in (*CHAIN_FIELDS, "hash")))


def format_value(value: object) -> str | None:
    """A value as audit text: strings as they are, None stays None, times as
    ISO 8601 UTC with microseconds, enums by value, numbers and booleans as
    JSON (``12``, ``2.5``, ``true``), anything else as canonical JSON."""
    if value is None or isinstance(value, str):
        return value
    plain = to_json_value(value)
    if isinstance(plain, str):
        return plain
    return canonical_json(plain)


def _check_text(name: str, value: str | None, *, limit: int | None, required: bool) -> None:
    if value is None:
        if required:
            raise ValueError(f"an audit entry needs a {name}")
        return
    if required and not value.strip():
        raise ValueError(f"an audit entry needs a {name}")
    if limit is not None and len(value) > limit:
        raise ValueError(f"the audit {name} {value[:20]!r}… is longer than {limit} characters")
    if "\x00" in value:
        raise ValueError(f"the audit {name} contains a NUL character")


def append_audit(
    session: Session,
    *,
    username: str,
    action: str,
    record_type: str,
    record_id: str | int,
    field: str | None = None,
    old_value: object = None,
    new_value: object = None,
    reason: str,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry to the chain inside ``session``'s transaction and flush it.

    ``reason`` is required (:class:`ReasonRequired` when empty). Values are
    stored as text (:func:`format_value`). The caller commits; a rollback
    removes the entry with the record it describes.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired(
            f"A reason is required for every change ({action} {record_type} {record_id}); "
            "none was given."
        )
    record_id_text = str(record_id)
    old_text = format_value(old_value)
    new_text = format_value(new_value)
    for name, value, limit, required in (
        ("user name", username, NAME_LENGTH, True),
        ("action", action, NAME_LENGTH, True),
        ("record type", record_type, NAME_LENGTH, True),
        ("record id", record_id_text, NAME_LENGTH, True),
        ("field", field, NAME_LENGTH, False),
        ("old value", old_text, None, False),
        ("new value", new_text, None, False),
        ("reason", reason, None, True),
    ):
        _check_text(name, value, limit=limit, required=required)
    when = as_utc(at) if at is not None else datetime.now(UTC)

    # Pending rows (an earlier entry of this transaction, the record itself)
    # go to the database first, so the last entry read below is the last one.
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    prev_id, prev_hash = (last[0], last[1]) if last is not None else (0, GENESIS_HASH)
    entry = AuditEntry(
        id=prev_id + 1,
        at=when,
        username=username,
        action=action,
        record_type=record_type,
        record_id=record_id_text,
        field=field,
        old_value=old_text,
        new_value=new_text,
        reason=reason.strip(),
        prev_hash=prev_hash,
        hash="",
    )
    entry.hash = chain_hash(prev_hash, entry.chain_fields())
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of :func:`verify_chain`."""

    ok: bool
    entries_checked: int  # entries found intact before the first broken one (all when ok)
    first_broken_id: int | None
    message: str
    last_id: int | None = None  # the newest intact entry (an anchor to compare later)
    last_hash: str | None = None

    def __str__(self) -> str:
        return self.message


def _time_value(value: Any) -> Any:
    """A stored time as an aware UTC datetime; an unreadable one stays as it is
    (it will not hash to the stored hash, so the entry is reported)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return value


def _describe(entry: Mapping[str, Any]) -> str:
    at = entry.get("at")
    when = (
        at.astimezone(UTC).isoformat(timespec="microseconds")
        if isinstance(at, datetime)
        else repr(at)
    )
    record = f"{entry.get('record_type')} {entry.get('record_id')}"
    if entry.get("field"):
        record += f" field {entry.get('field')}"
    return (
        f"audit entry {entry.get('id')} (at {when}, user {entry.get('username')}, "
        f"{entry.get('action')} {record})"
    )


def _verify(connection: Connection, batch_size: int) -> ChainReport:
    checked = 0
    prev_hash = GENESIS_HASH
    prev_id: int | None = None
    after = -1
    while True:
        rows = connection.execute(
            select(_RAW).where(_RAW.c.id > after).order_by(_RAW.c.id).limit(batch_size)
        ).mappings()
        batch = [{**row, "at": _time_value(row["at"])} for row in rows]
        if not batch:
            break
        broken_id = first_broken(batch, start=prev_hash)
        if broken_id is not None:
            index = next(i for i, entry in enumerate(batch) if entry["id"] == broken_id)
            entry = batch[index]
            checked += index
            before = batch[index - 1]["id"] if index > 0 else prev_id
            if entry.get("prev_hash") != (batch[index - 1]["hash"] if index > 0 else prev_hash):
                link = f"entry {before}" if before is not None else "the start of the chain"
                why = (
                    f"does not link to {link}: an entry before it was changed, removed or inserted"
                )
            else:
                why = "does not match its hash: it was changed after it was written"
            return ChainReport(
                ok=False,
                entries_checked=checked,
                first_broken_id=broken_id,
                message=f"Audit trail BROKEN at {_describe(entry)}: it {why}.",
                last_id=before,
                last_hash=(batch[index - 1]["hash"] if index > 0 else prev_hash)
                if before is not None
                else None,
            )
        checked += len(batch)
        prev_hash = batch[-1]["hash"]
        prev_id = after = batch[-1]["id"]
    noun = "entry" if checked == 1 else "entries"
    return ChainReport(
        ok=True,
        entries_checked=checked,
        first_broken_id=None,
        message=f"Audit trail intact: {checked} {noun} checked.",
        last_id=prev_id,
        last_hash=prev_hash if prev_id is not None else None,
    )


def verify_chain(
    source: Session | Engine | Connection, *, batch_size: int = VERIFY_BATCH
) -> ChainReport:
    """Check every audit entry, oldest first, ``batch_size`` rows per query.

    Works on millions of entries in constant memory. With an engine, reads in
    one read-only transaction (a consistent snapshot on SQLite).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if isinstance(source, Engine):
        with for_reading(source).connect() as connection:
            return _verify(connection, batch_size)
    if isinstance(source, Session):
        return _verify(source.connection(), batch_size)
    return _verify(source, batch_size)
