"""The audit trail for its readers: query, CSV export (itself audited), chain check.

Annex 11 §9 and Part 11 §11.10(b)/(e): the trail is reviewable and can be
given to an inspector as an accurate and complete copy, in a readable form.
The CSV holds every stored field of every entry, the time in UTC and in local
time with its offset.
"""

from __future__ import annotations

import builtins
import os
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TypedDict, Unpack

from necstgen_desk.records.roles import Permission
from necstgen_desk.services._core import Core, Tx
from necstgen_desk.services.views import AuditView, UserSession
from necstgen_desk.storage import repo
from necstgen_desk.storage.audit import ChainReport, verify_chain
from necstgen_desk.storage.models import AuditEntry

RECORD_TYPE = "audit_trail"
CSV_COLUMNS = (
    "id",
    "at_utc",
    "at_local",
    "username",
    "action",
    "record_type",
    "record_id",
    "field",
    "old_value",
    "new_value",
    "reason",
    "prev_hash",
    "hash",
)


class AuditFilters(TypedDict, total=False):
    since: datetime | None
    until: datetime | None
    username: str | None
    room_id: str | None
    record_type: str | None


def _view(entry: AuditEntry) -> AuditView:
    return AuditView(
        id=entry.id,
        at=entry.at,
        username=entry.username,
        action=entry.action,
        record_type=entry.record_type,
        record_id=entry.record_id,
        field=entry.field,
        old_value=entry.old_value,
        new_value=entry.new_value,
        reason=entry.reason,
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


def local_text(at: datetime, tz: tzinfo | None) -> str:
    """``2026-11-26 17:02:11.123456 +01:00``: local time (the computer's zone when
    ``tz`` is None, with its daylight-saving offset at that instant)."""
    local = at.astimezone(tz)
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{local:%Y-%m-%d %H:%M:%S.%f} {sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _describe_filters(filters: AuditFilters) -> str:
    parts = []
    for key in ("since", "until", "username", "room_id", "record_type"):
        value = filters.get(key)
        if value is not None:
            text = value.isoformat() if isinstance(value, datetime) else str(value)
            parts.append(f"{key}={text}")
    return ", ".join(parts) if parts else "none"


class AuditService:
    def __init__(self, core: Core) -> None:
        self._core = core

    def _entries(
        self,
        tx: Tx,
        session: UserSession,
        attempted: str,
        filters: AuditFilters,
        *,
        newest_first: bool,
        limit: int | None,
    ) -> builtins.list[AuditEntry]:
        self._core.permitted(
            tx,
            session,
            Permission.VIEW_AUDIT_TRAIL,
            attempted=attempted,
            record_type=RECORD_TYPE,
            record_id="all",
        )
        return repo.list_audit_entries(
            tx.db,
            since=filters.get("since"),
            until=filters.get("until"),
            username=filters.get("username"),
            room_id=filters.get("room_id"),
            record_type=filters.get("record_type"),
            newest_first=newest_first,
            limit=limit,
        )

    def query(
        self,
        session: UserSession,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        username: str | None = None,
        room_id: str | None = None,
        record_type: str | None = None,
        limit: int = 1000,
    ) -> builtins.list[AuditView]:
        """Entries newest first, filtered by time (``since <= at < until``), user,
        room (entries about that room's records and their signatures, and
        people's actions on its alarms and, for an airlock, its interlock:
        :func:`~necstgen_desk.storage.repo.room_condition`) and record type."""
        filters = AuditFilters(
            since=since, until=until, username=username, room_id=room_id, record_type=record_type
        )
        return self._core.read(
            lambda tx: [
                _view(entry)
                for entry in self._entries(
                    tx, session, "view the audit trail", filters, newest_first=True, limit=limit
                )
            ]
        )

    def export_csv(
        self, session: UserSession, path: str | os.PathLike[str], **filters: Unpack[AuditFilters]
    ) -> int:
        """Write the matching entries, oldest first, to ``path`` as UTF-8 CSV with a
        header; returns the number of entries. The export is audited; the file
        appears only once that entry is committed."""
        core = self._core
        unknown = sorted(set(filters) - set(AuditFilters.__annotations__))
        if unknown:
            raise TypeError(f"export_csv() got unknown filters: {', '.join(unknown)}")
        target = Path(path)
        entries = core.read(
            lambda tx: self._entries(
                tx,
                session,
                f"export the audit trail to {target}",
                filters,
                newest_first=False,
                limit=None,
            )
        )
        tz = core.settings.local_tz
        core.write_csv_export(
            session,
            target,
            header=CSV_COLUMNS,
            rows=(
                (
                    e.id,
                    e.at.isoformat(timespec="microseconds"),
                    local_text(e.at, tz),
                    e.username,
                    e.action,
                    e.record_type,
                    e.record_id,
                    e.field or "",
                    "" if e.old_value is None else e.old_value,
                    "" if e.new_value is None else e.new_value,
                    e.reason,
                    e.prev_hash,
                    e.hash,
                )
                for e in entries
            ),
            record_type=RECORD_TYPE,
            span=f"{entries[0].id}-{entries[-1].id}" if entries else "none",
            reason=f"exported {len(entries)} entries as CSV (filters: "
            f"{_describe_filters(filters)})",
        )
        return len(entries)

    def verify(self) -> ChainReport:
        """Check the whole hash chain; the report names the first broken entry."""
        return verify_chain(self._core.engine)


__all__ = ["CSV_COLUMNS", "AuditFilters", "AuditService", "local_text"]
