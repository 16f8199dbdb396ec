"""The alarm journal: every alarm change on disk, and the restore after a restart.

Rows go to the append-only ``alarm_events`` table (migration r0002_alarms,
model :class:`~necstgen_desk.storage.models.AlarmJournalEntry`).

- Changes made by the process and the system (a condition, a shelf expiring,
  a suppression) are queued by :class:`JournalWriter`, which listens to the
  engine, and written in batches by :meth:`JournalWriter.flush` from a worker
  thread, never on the event loop.
- A person's action is written by the alarm service itself, in the
  transaction of its audit entry (and signature), with :func:`add_entry`.

:meth:`AlarmJournal.restore` reads the latest entry of every alarm (highest
``seq``: the engine's order, whichever writer stored it) and gives the
engine back everything that was not normal: active and unacknowledged alarms
survive a restart.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.model import (
    AlarmChange,
    AlarmEvent,
    AlarmKind,
    AlarmSnapshot,
    AlarmState,
)
from necstgen_desk.storage.audit import format_value
from necstgen_desk.storage.engine import for_reading
from necstgen_desk.storage.errors import StorageEnvironmentError
from necstgen_desk.storage.models import NAME_LENGTH, AlarmJournalEntry

__all__ = [
    "AlarmJournal",
    "JournalWriter",
    "Restored",
    "add_entry",
    "entry_for",
]

log = logging.getLogger(__name__)


def entry_for(change: AlarmChange, *, raised_at: datetime | None = None) -> AlarmJournalEntry:
    """The journal row of one change (not yet added to a session)."""
    d = change.definition
    value = format_value(change.value) if change.value is not None else None
    if raised_at is None and change.event is AlarmEvent.CONDITION_ACTIVE:
        raised_at = change.at
    return AlarmJournalEntry(
        seq=change.seq,
        at=change.at,
        alarm_id=d.id,
        kind=d.kind,
        source=d.source[:NAME_LENGTH],
        room_id=d.room,
        priority=d.priority,
        event=change.event,
        from_state=change.old_state,
        to_state=change.new_state,
        active=change.active,
        message=change.message,
        value=value,
        username=change.by,
        comment=change.comment or None,
        shelved_until=change.shelved_until,
        raised_at=raised_at,
    )


def add_entry(
    db: Session, change: AlarmChange, *, raised_at: datetime | None = None
) -> AlarmJournalEntry:
    """Add one change inside the caller's transaction (flushed, so it has its id)."""
    row = entry_for(change, raised_at=raised_at)
    db.add(row)
    db.flush()
    return row


@dataclass(frozen=True, slots=True)
class Restored:
    """What the journal gives back: the alarms to restore and where ``seq`` goes on."""

    alarms: tuple[AlarmSnapshot, ...]
    next_seq: int


class AlarmJournal:
    """Reads and writes the journal on one database engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, changes: Sequence[AlarmChange]) -> int:
        """Write ``changes`` in one transaction; returns how many."""
        if not changes:
            return 0
        with Session(self.engine) as db, db.begin():
            db.add_all(entry_for(c) for c in changes)
        return len(changes)

    def restore(self) -> Restored:
        """The latest entry of every alarm that is not normal (see the module docstring)."""
        with Session(for_reading(self.engine)) as db:
            latest = (
                select(
                    AlarmJournalEntry.alarm_id,
                    func.max(AlarmJournalEntry.seq).label("seq"),
                )
                .group_by(AlarmJournalEntry.alarm_id)
                .subquery()
            )
            rows = db.scalars(
                select(AlarmJournalEntry)
                .join(
                    latest,
                    (AlarmJournalEntry.alarm_id == latest.c.alarm_id)
                    & (AlarmJournalEntry.seq == latest.c.seq),
                )
                .order_by(AlarmJournalEntry.seq, AlarmJournalEntry.id)
            ).all()
            top = db.scalar(select(func.max(AlarmJournalEntry.seq))) or 0
            by_alarm: dict[str, AlarmJournalEntry] = {}
            for row in rows:  # equal seqs (two desks): the later row wins
                by_alarm[row.alarm_id] = row
            snapshots = [
                self._snapshot(db, row)
                for row in by_alarm.values()
                if row.to_state is not AlarmState.NORMAL
            ]
        return Restored(tuple(snapshots), top)

    @staticmethod
    def _snapshot(db: Session, row: AlarmJournalEntry) -> AlarmSnapshot:
        acked_by = acked_at = None
        raised_at = row.raised_at
        if row.to_state in (AlarmState.ACKNOWLEDGED, AlarmState.SHELVED):
            ack = db.scalars(
                select(AlarmJournalEntry)
                .where(
                    AlarmJournalEntry.alarm_id == row.alarm_id,
                    AlarmJournalEntry.event == AlarmEvent.ACKNOWLEDGE,
                )
                .order_by(AlarmJournalEntry.seq.desc())
                .limit(1)
            ).first()
            if ack is not None:
                acked_by, acked_at = ack.username, ack.at
        if raised_at is None and row.active:
            raised = db.scalars(
                select(AlarmJournalEntry.at)
                .where(
                    AlarmJournalEntry.alarm_id == row.alarm_id,
                    AlarmJournalEntry.event == AlarmEvent.CONDITION_ACTIVE,
                )
                .order_by(AlarmJournalEntry.seq.desc())
                .limit(1)
            ).first()
            raised_at = raised
        shelved_by = row.username if row.to_state is AlarmState.SHELVED else None
        return AlarmSnapshot(
            alarm_id=row.alarm_id,
            kind=row.kind,
            source=row.source,
            priority=row.priority,
            room=row.room_id,
            state=row.to_state,
            active=row.active,
            seq=row.seq,
            at=row.at,
            message=row.message,
            raised_at=raised_at,
            acknowledged_by=acked_by,
            acknowledged_at=acked_at,
            shelved_by=shelved_by,
            shelved_until=row.shelved_until,
            shelve_reason=(row.comment or "") if row.to_state is AlarmState.SHELVED else "",
        )

    def history(
        self,
        *,
        alarm_id: str | None = None,
        source: str | None = None,
        room_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 500,
    ) -> list[AlarmJournalEntry]:
        """Entries, newest first, filtered (e.g. an airlock's fault history: ``source``)."""
        query = select(AlarmJournalEntry)
        if alarm_id is not None:
            query = query.where(AlarmJournalEntry.alarm_id == alarm_id)
        if source is not None:
            query = query.where(AlarmJournalEntry.source == source)
        if room_id is not None:
            query = query.where(AlarmJournalEntry.room_id == room_id)
        if since is not None:
            query = query.where(AlarmJournalEntry.at >= since)
        if until is not None:
            query = query.where(AlarmJournalEntry.at < until)
        query = query.order_by(AlarmJournalEntry.seq.desc(), AlarmJournalEntry.id.desc())
        with Session(for_reading(self.engine), expire_on_commit=False) as db:
            return list(db.scalars(query.limit(limit)))

    def fault_history(self, airlock_id: str, *, limit: int = 200) -> list[AlarmJournalEntry]:
        """An airlock's interlock-fault entries, newest first (the interlock view)."""
        query = (
            select(AlarmJournalEntry)
            .where(
                AlarmJournalEntry.source == airlock_id,
                AlarmJournalEntry.kind == AlarmKind.INTERLOCK_FAULT,
            )
            .order_by(AlarmJournalEntry.seq.desc(), AlarmJournalEntry.id.desc())
            .limit(limit)
        )
        with Session(for_reading(self.engine), expire_on_commit=False) as db:
            return list(db.scalars(query))

    def restore_into(self, alarm_engine: AlarmEngine) -> int:
        """Restore ``alarm_engine`` from the journal; returns how many alarms came back."""
        restored = self.restore()
        return alarm_engine.restore(restored.alarms, restored.next_seq)


class JournalWriter:
    """Queues the engine's own changes and writes them in batches.

    A person's changes (``by`` set) are skipped: the service writes those with
    their audit entry. :meth:`flush` runs in a worker thread; when the
    database is unavailable the batch stays queued and is tried again.
    """

    def __init__(self, journal: AlarmJournal, *, max_queue: int = 100_000) -> None:
        self.journal = journal
        self._queue: deque[AlarmChange] = deque()
        self._max_queue = max_queue
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self.dropped = 0

    def __call__(self, changes: list[AlarmChange]) -> None:
        """The engine listener: queue the process and system changes."""
        with self._lock:
            for change in changes:
                if change.by is None:
                    self._queue.append(change)
            while len(self._queue) > self._max_queue:
                self._queue.popleft()
                self.dropped += 1

    def attach(self, engine: AlarmEngine) -> Callable[[], None]:
        return engine.on_change(self)

    @property
    def pending(self) -> int:
        return len(self._queue)

    def flush(self) -> int:
        """Write what is queued (oldest first); returns how many rows were written."""
        with self._flushing:
            with self._lock:
                batch = list(self._queue)
            if not batch:
                return 0
            written = self.journal.record(batch)
            last = batch[-1].seq
            with self._lock:
                while self._queue and self._queue[0].seq <= last:
                    self._queue.popleft()
            return written

    async def run(self, period_s: float = 1.0) -> None:
        """Flush every ``period_s`` in a worker thread until cancelled (then once more)."""
        try:
            while True:
                await asyncio.sleep(period_s)
                await self._flush_quietly()
        finally:
            await asyncio.shield(self._flush_quietly())

    async def _flush_quietly(self) -> None:
        try:
            await asyncio.to_thread(self.flush)
        except StorageEnvironmentError as error:
            log.error("alarm journal not written (%d queued): %s", self.pending, error)
