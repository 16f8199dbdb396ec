"""The alarm service: people's actions on alarms and interlock faults (ADR 0005).

Built on the records services' core (``Records.core``), so an alarm action is
a use case like any other (ADR 0004): the permission first (a refusal is
written to the audit trail), then the rule, the e-signature where one is
needed, and then — in **one** transaction — the engine's change, its journal
row, its signature and its audit entry. When the transaction cannot commit,
the engine's change is undone (:meth:`AlarmEngine.revert`): the screen never
shows an acknowledgement that is not on disk.

| action | permission | signature | audit action |
|---|---|---|---|
| acknowledge alarms | acknowledge_alarm | — | acknowledge_alarm |
| shelve (≤ ``shelve_max_hours``) | shelve_alarm | shelved | shelve_alarm |
| unshelve | shelve_alarm | — | unshelve_alarm |
| acknowledge an interlock fault | acknowledge_interlock_fault | acknowledged | (same) |
| reset it (the reset coil) | acknowledge_interlock_fault | — | reset_interlock |

Audit entries name the alarm (record type ``alarm``, the alarm id) or the
airlock (``interlock``, the airlock id); a signature binds the journal row of
the change it signs (record type ``alarm_event``). Every action needs a
comment: it is the audit entry's reason.

A reset is the one write the app makes to a PLC. It comes in two halves so
the UI can run the database half on its service worker thread and the write
on the asyncio loop that owns the PLC links: :meth:`AlarmService.request_reset`
checks permission and the reset rules (:func:`~necstgen_desk.alarms.interlocks.reset_refusal`:
not before maintenance acknowledged the fault, not while its cause is visible;
a refusal is audited) and audits the reset *before* it is written;
:meth:`AlarmService.write_reset` writes the coil; a write that fails is
audited by :meth:`AlarmService.record_reset_failure`. Whether the PLC cleared
the fault shows on the next scan (:meth:`AlarmService.await_outcome`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict, Unpack

from sqlalchemy import Select, or_, select

from necstgen_desk.alarms.definitions import AUDIT_SOURCE
from necstgen_desk.alarms.engine import AlarmEngine, AlarmError, AlarmNotFound
from necstgen_desk.alarms.interlocks import CoilWriter, ResetOutcome, reset_outcome, reset_refusal
from necstgen_desk.alarms.journal import AlarmJournal, add_entry
from necstgen_desk.alarms.model import (
    Alarm,
    AlarmChange,
    AlarmEvent,
    AlarmKind,
    AlarmState,
    InterlockStatus,
    Priority,
)
from necstgen_desk.alarms.states import TransitionRefused
from necstgen_desk.records.roles import Permission, may
from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.services import (
    NotFound,
    Refusal,
    RuleViolation,
    ServiceCore,
    SignatureRequest,
    Tx,
    UserSession,
    audit_id,
)
from necstgen_desk.storage import repo
from necstgen_desk.storage.audit import append_audit
from necstgen_desk.storage.models import (
    ALARM_RECORD_TYPE,
    INTERLOCK_RECORD_TYPE,
    AlarmJournalEntry,
    User,
)

__all__ = [
    "ALARM_RECORD",
    "HISTORY_CSV_COLUMNS",
    "INTERLOCK_RECORD",
    "JOURNAL_RECORD",
    "AlarmEventView",
    "AlarmService",
    "HistoryFilters",
    "ResetOrder",
    "shelve_durations",
]

#: The audit record types of alarm actions: an alarm (by id), an airlock's interlock.
ALARM_RECORD = ALARM_RECORD_TYPE
INTERLOCK_RECORD = INTERLOCK_RECORD_TYPE
#: The journal, for the audit entry of its CSV export.
JOURNAL_RECORD = "alarm_journal"
#: Alarms no one may shelve: a safety interlock and the integrity of the records.
_NOT_SHELVABLE = frozenset({AlarmKind.INTERLOCK_FAULT, AlarmKind.AUDIT_CHAIN})
_SHELVE_STEPS = (
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(hours=12),
    timedelta(hours=24),
)

HISTORY_CSV_COLUMNS = (
    "seq",
    "time_utc",
    "alarm_id",
    "priority",
    "kind",
    "source",
    "room",
    "event",
    "from_state",
    "to_state",
    "condition_active",
    "message",
    "value",
    "user",
    "comment",
    "shelved_until_utc",
)


def shelve_durations(max_hours: float) -> list[timedelta]:
    """The shelf lengths a person may pick: the usual steps up to the site's maximum."""
    limit = timedelta(hours=max_hours)
    steps = [d for d in _SHELVE_STEPS if d <= limit]
    if not steps or steps[-1] != limit:
        steps.append(limit)
    return steps


# ---------------------------------------------------------------- views


@dataclass(frozen=True, slots=True)
class AlarmEventView:
    """One journal entry: a change of one alarm (plain values, UTC times)."""

    id: int
    seq: int
    at: datetime
    alarm_id: str
    kind: AlarmKind
    source: str
    room_id: str | None
    priority: Priority
    event: AlarmEvent
    from_state: AlarmState
    to_state: AlarmState
    active: bool
    message: str
    value: str | None
    username: str | None
    comment: str | None
    shelved_until: datetime | None

    @property
    def by_person(self) -> bool:
        return self.username is not None


def _event_view(row: AlarmJournalEntry) -> AlarmEventView:
    return AlarmEventView(
        id=row.id,
        seq=row.seq,
        at=row.at,
        alarm_id=row.alarm_id,
        kind=row.kind,
        source=row.source,
        room_id=row.room_id,
        priority=row.priority,
        event=row.event,
        from_state=row.from_state,
        to_state=row.to_state,
        active=row.active,
        message=row.message,
        value=row.value,
        username=row.username,
        comment=row.comment,
        shelved_until=row.shelved_until,
    )


class HistoryFilters(TypedDict, total=False):
    """Filters of :meth:`AlarmService.history` (all optional, combined with AND)."""

    since: datetime | None
    until: datetime | None
    room_id: str | None
    source: str | None
    priority: Priority | None
    kind: AlarmKind | None
    event: AlarmEvent | None
    text: str | None  # in the alarm id or the message, case-insensitive
    people_only: bool  # only people's actions (acknowledge, shelve, ...)


@dataclass(frozen=True, slots=True)
class ResetOrder:
    """A reset that was checked and audited, to be written to the PLC."""

    airlock_id: str
    plc_id: str
    address: int
    fault_code: int
    fault_text: str
    requested_by: str
    requested_at: datetime
    comment: str

    @property
    def target(self) -> str:
        return f"reset coil {self.address} of PLC {self.plc_id}"


# ---------------------------------------------------------------- the service


class AlarmService:
    """People's actions on the alarms of one engine, recorded in one database.

    Synchronous and thread-safe like every service (call it from the one
    service worker), except :meth:`write_reset` and :meth:`await_outcome`,
    which run on the asyncio loop that owns the PLC links.
    """

    def __init__(
        self,
        core: ServiceCore,
        engine: AlarmEngine,
        journal: AlarmJournal,
        coil_writer: CoilWriter | None = None,
    ) -> None:
        if core.engine is not journal.engine:
            raise ValueError("the alarm journal must be on the records' database")
        self._core = core
        self.engine = engine
        self.journal = journal
        self._coils = coil_writer

    # ------------------------------------------------------------ helpers

    @property
    def shelve_max(self) -> timedelta:
        return timedelta(hours=self.engine.policy.shelve_max_hours)

    def _alarm(self, alarm_id: str) -> Alarm:
        try:
            return self.engine.alarm(alarm_id)
        except AlarmNotFound:
            raise NotFound(f"There is no alarm {alarm_id!r}.") from None

    def _write_changes[T](self, work: Callable[[Tx, list[AlarmChange]], T]) -> T:
        """Run ``work`` in one transaction; undo the engine changes it made if that
        transaction does not commit (the screen must not show what is not saved)."""
        made: list[AlarmChange] = []
        try:
            return self._core.write(lambda tx: work(tx, made))
        except BaseException as error:
            why = f"not saved ({type(error).__name__})"
            for change in reversed(made):
                self.engine.revert(change, why)
            raise

    @staticmethod
    def _comment(comment: str, what: str) -> str:
        text = comment.strip() if isinstance(comment, str) else ""
        if not text:
            raise RuleViolation(
                f"{what} refused", ["a comment is required: it goes into the audit trail"]
            )
        return text

    def _audit(
        self,
        tx: Tx,
        actor: User,
        change: AlarmChange,
        action: str,
        reason: str,
        *,
        new_value: str | None = None,
    ) -> None:
        append_audit(
            tx.db,
            username=actor.username,
            action=action,
            record_type=ALARM_RECORD,
            record_id=audit_id(change.alarm_id),
            field="state",
            old_value=change.old_state.value,
            new_value=new_value if new_value is not None else change.new_state.value,
            reason=reason,
            at=tx.now,
        )

    # ------------------------------------------------------------ acknowledge

    def acknowledge(
        self, session: UserSession, alarm_ids: Sequence[str], comment: str
    ) -> list[AlarmChange]:
        """Acknowledge the alarms that await it (others in the list are skipped:
        someone else got there first). Interlock faults are refused here: they are
        acknowledged by maintenance with a signature (:meth:`acknowledge_interlock_fault`)."""
        ids = list(dict.fromkeys(alarm_ids))
        if not ids:
            raise RuleViolation("Acknowledge refused", ["no alarm was chosen"])
        alarms = [self._alarm(ident) for ident in ids]
        faults = [a for a in alarms if a.kind is AlarmKind.INTERLOCK_FAULT]
        core = self._core

        def work(tx: Tx, made: list[AlarmChange]) -> list[AlarmChange]:
            what = ", ".join(ids) if len(ids) <= 3 else f"{len(ids)} alarms"
            actor = core.permitted(
                tx,
                session,
                Permission.ACKNOWLEDGE_ALARM,
                attempted=f"acknowledge {what}",
                record_type=ALARM_RECORD,
                record_id=ids[0],
            )
            if faults:
                first = faults[0]
                if not may(actor.role, Permission.ACKNOWLEDGE_INTERLOCK_FAULT):
                    core.require(
                        actor,
                        Permission.ACKNOWLEDGE_INTERLOCK_FAULT,
                        attempted=f"acknowledge interlock fault {first.id}",
                        record_type=ALARM_RECORD,
                        record_id=first.id,
                    )
                raise RuleViolation(
                    "Acknowledge refused",
                    [
                        f"{a.id} is an interlock fault: maintenance acknowledges it in the "
                        "Interlocks view, with a comment and a signature"
                        for a in faults
                    ],
                )
            why = self._comment(comment, "Acknowledge")
            now = tx.now.timestamp()
            for ident in ids:
                try:
                    change = self.engine.acknowledge(ident, by=actor.username, comment=why, now=now)
                except TransitionRefused:
                    continue  # no longer awaiting acknowledgement
                made.append(change)
                add_entry(tx.db, change)
                self._audit(tx, actor, change, "acknowledge_alarm", why)
            if not made:
                raise RuleViolation(
                    "Acknowledge refused",
                    ["none of the chosen alarms awaits acknowledgement any more"],
                )
            return list(made)

        return self._write_changes(work)

    # ------------------------------------------------------------ shelve

    def shelve(
        self,
        session: UserSession,
        alarm_id: str,
        reason: str,
        duration: timedelta,
        signature: SignatureRequest | None,
    ) -> AlarmChange:
        """Shelve an alarm for ``duration`` (at most the site's ``shelve_max_hours``);
        it unshelves by itself at the end. An electronic signature ("shelved")."""
        alarm = self._alarm(alarm_id)
        core = self._core
        attempted = f"shelve alarm {alarm_id}"

        def work(tx: Tx, made: list[AlarmChange]) -> AlarmChange:
            actor = core.permitted(
                tx,
                session,
                Permission.SHELVE_ALARM,
                attempted=attempted,
                record_type=ALARM_RECORD,
                record_id=alarm_id,
            )
            problems: list[str] = []
            why = reason.strip() if isinstance(reason, str) else ""
            if not why:
                problems.append("a reason is required")
            if duration <= timedelta(0):
                problems.append("the shelf time must be longer than zero")
            elif duration > self.shelve_max:
                problems.append(
                    f"an alarm may be shelved for at most "
                    f"{self.engine.policy.shelve_max_hours:g} h (the site's limit)"
                )
            if alarm.kind in _NOT_SHELVABLE:
                problems.append(f"{alarm.definition.title} cannot be shelved")
            if problems:
                raise RuleViolation(f"Shelving {alarm_id} refused", problems)
            core.check_signature(
                tx,
                actor,
                session,
                signature,
                SignatureMeaning.SHELVED,
                attempted=attempted,
                record_type=ALARM_RECORD,
                record_id=alarm_id,
            )
            until = tx.now + duration
            try:
                change = self.engine.shelve(
                    alarm_id, by=actor.username, reason=why, until=until, now=tx.now.timestamp()
                )
            except (TransitionRefused, AlarmError) as error:
                raise RuleViolation(f"Shelving {alarm_id} refused", [str(error)]) from None
            made.append(change)
            entry = add_entry(tx.db, change)
            repo.sign_record(
                tx.db,
                entry,
                signer=actor,
                meaning=SignatureMeaning.SHELVED,
                reason=f"shelved alarm {alarm_id}: {why}",
                at=tx.now,
            )
            self._audit(
                tx,
                actor,
                change,
                "shelve_alarm",
                why,
                new_value=f"shelved until {until.isoformat(timespec='seconds')} "
                f"({_duration_text(duration)})",
            )
            return change

        return self._write_changes(work)

    def unshelve(self, session: UserSession, alarm_id: str, comment: str) -> AlarmChange:
        """Put a shelved alarm back in front of the operators before its time is up."""
        self._alarm(alarm_id)
        core = self._core

        def work(tx: Tx, made: list[AlarmChange]) -> AlarmChange:
            actor = core.permitted(
                tx,
                session,
                Permission.SHELVE_ALARM,
                attempted=f"unshelve alarm {alarm_id}",
                record_type=ALARM_RECORD,
                record_id=alarm_id,
            )
            why = self._comment(comment, f"Unshelving {alarm_id}")
            try:
                change = self.engine.unshelve(
                    alarm_id, by=actor.username, comment=why, now=tx.now.timestamp()
                )
            except TransitionRefused as error:
                raise RuleViolation(f"Unshelving {alarm_id} refused", [str(error)]) from None
            made.append(change)
            add_entry(tx.db, change)
            self._audit(tx, actor, change, "unshelve_alarm", why)
            return change

        return self._write_changes(work)

    # ------------------------------------------------------------ interlock faults

    def interlocks(self) -> list[InterlockStatus]:
        return self.engine.interlocks()

    def interlock(self, airlock_id: str) -> InterlockStatus:
        try:
            return self.engine.interlock(airlock_id)
        except AlarmNotFound:
            raise NotFound(f"There is no airlock {airlock_id!r}.") from None

    def acknowledge_interlock_fault(
        self,
        session: UserSession,
        airlock_id: str,
        comment: str,
        signature: SignatureRequest | None,
    ) -> list[AlarmChange]:
        """Maintenance acknowledges an airlock's interlock fault: comment and
        signature ("acknowledged"); every fault alarm of the airlock awaiting it."""
        self.interlock(airlock_id)  # NotFound for an unknown airlock
        core = self._core
        attempted = f"acknowledge the interlock fault of {airlock_id}"

        def work(tx: Tx, made: list[AlarmChange]) -> list[AlarmChange]:
            actor = core.permitted(
                tx,
                session,
                Permission.ACKNOWLEDGE_INTERLOCK_FAULT,
                attempted=attempted,
                record_type=INTERLOCK_RECORD,
                record_id=airlock_id,
            )
            why = self._comment(comment, f"Acknowledging the interlock fault of {airlock_id}")
            status = self.engine.interlock(airlock_id)
            if not any(a.state.needs_acknowledgement for a in status.alarms):
                raise RuleViolation(
                    f"Acknowledging the interlock fault of {airlock_id} refused",
                    [f"airlock {airlock_id} has no interlock fault awaiting acknowledgement"],
                )
            core.check_signature(
                tx,
                actor,
                session,
                signature,
                SignatureMeaning.ACKNOWLEDGED,
                attempted=attempted,
                record_type=INTERLOCK_RECORD,
                record_id=airlock_id,
            )
            try:
                changes = self.engine.acknowledge_interlock(
                    airlock_id, by=actor.username, comment=why, now=tx.now.timestamp()
                )
            except (AlarmError, TransitionRefused) as error:
                raise RuleViolation(
                    f"Acknowledging the interlock fault of {airlock_id} refused", [str(error)]
                ) from None
            made.extend(changes)
            for change in changes:
                entry = add_entry(tx.db, change)
                repo.sign_record(
                    tx.db,
                    entry,
                    signer=actor,
                    meaning=SignatureMeaning.ACKNOWLEDGED,
                    reason=f"acknowledged interlock fault {change.alarm_id}: {why}",
                    at=tx.now,
                )
                self._audit(tx, actor, change, "acknowledge_interlock_fault", why)
            return changes

        return self._write_changes(work)

    def request_reset(self, session: UserSession, airlock_id: str, comment: str) -> ResetOrder:
        """The database half of a reset: permission, the reset rules, the audit entry
        (written before the coil is). Refusals are audited too."""
        self.interlock(airlock_id)  # NotFound for an unknown airlock
        core = self._core
        attempted = f"reset the interlock fault of {airlock_id}"

        def work(tx: Tx) -> ResetOrder:
            actor = core.permitted(
                tx,
                session,
                Permission.ACKNOWLEDGE_INTERLOCK_FAULT,
                attempted=attempted,
                record_type=INTERLOCK_RECORD,
                record_id=airlock_id,
            )
            why = self._comment(comment, f"Reset of {airlock_id}")
            status = self.engine.interlock(airlock_id)  # as it is now, inside the transaction
            coil = self.engine.reset_coil(airlock_id)
            refusal = reset_refusal(status, has_coil=coil is not None)
            if refusal is None and self._coils is None:
                refusal = "no PLC link can write the reset coil (the app runs without PLCs)"
            if refusal is not None:
                raise self._reset_refused(actor.username, airlock_id, refusal, why)
            assert coil is not None and status.fault_code is not None
            plc_id, address = coil
            order = ResetOrder(
                airlock_id=airlock_id,
                plc_id=plc_id,
                address=address,
                fault_code=status.fault_code,
                fault_text=status.fault_text,
                requested_by=actor.username,
                requested_at=tx.now,
                comment=why,
            )
            append_audit(
                tx.db,
                username=actor.username,
                action="reset_interlock",
                record_type=INTERLOCK_RECORD,
                record_id=airlock_id,
                field="fault",
                old_value=f"F{status.fault_code} {status.fault_text}",
                new_value=f"reset written to {order.target}",
                reason=why,
                at=tx.now,
            )
            return order

        return core.write(work)

    @staticmethod
    def _reset_refused(username: str, airlock_id: str, refusal: str, why: str) -> Refusal:
        error = RuleViolation(f"Reset of {airlock_id} refused", [refusal])

        def record(tx: Tx) -> None:
            append_audit(
                tx.db,
                username=username,
                action="reset_interlock_refused",
                record_type=INTERLOCK_RECORD,
                record_id=airlock_id,
                reason=f"{refusal} (comment: {why})",
                at=tx.now,
            )

        return Refusal(error, record)

    async def write_reset(self, order: ResetOrder) -> None:
        """The PLC half: write the reset coil (on the loop that owns the PLC links).

        Raises what the coil writer raises when the write does not reach the PLC.
        """
        if self._coils is None:
            raise RuntimeError("no coil writer: the app runs without PLC links")
        await self._coils.write_coil(order.plc_id, order.address, True)

    def record_reset_failure(self, session: UserSession, order: ResetOrder, error: str) -> None:
        """Audit a reset that was requested but did not reach the PLC."""
        core = self._core

        def work(tx: Tx) -> None:
            actor = core.actor(tx, session)
            append_audit(
                tx.db,
                username=actor.username,
                action="reset_interlock_failed",
                record_type=INTERLOCK_RECORD,
                record_id=order.airlock_id,
                field="fault",
                old_value=f"F{order.fault_code} {order.fault_text}",
                new_value=f"not written to {order.target}",
                reason=f"the reset did not reach the PLC: {error}",
                at=tx.now,
            )

        core.write(work)

    async def reset(
        self,
        session: UserSession,
        airlock_id: str,
        comment: str,
        *,
        call: Callable[..., Awaitable[object]] | None = None,
    ) -> ResetOrder:
        """Both halves in order, for callers without a worker of their own: the
        database half through ``call`` (default :func:`asyncio.to_thread`), the
        write here. A failed write is audited, then re-raised."""
        run = call if call is not None else asyncio.to_thread
        order = await run(self.request_reset, session, airlock_id, comment)
        assert isinstance(order, ResetOrder)
        try:
            await self.write_reset(order)
        except Exception as error:
            await run(self.record_reset_failure, session, order, str(error) or type(error).__name__)
            raise
        return order

    def reset_outcome(self, airlock_id: str) -> ResetOutcome:
        return reset_outcome(self.interlock(airlock_id))

    async def await_outcome(
        self, order: ResetOrder, timeout_s: float | None = None
    ) -> ResetOutcome:
        """Wait for the fault to clear, at most two scans of its PLC (then it stayed)."""
        plc = self.engine.site.plc_by_id[order.plc_id]
        limit = timeout_s if timeout_s is not None else 2 * plc.scan_period_s + plc.timeout_s
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            outcome = self.reset_outcome(order.airlock_id)
            if outcome.cleared or loop.time() >= deadline:
                return outcome
            await asyncio.sleep(0.05)

    # ------------------------------------------------------------ system alarms

    def audit_chain_checked(self, ok: bool, message: str) -> Alarm:
        """Feed the audit chain check into its system alarm (raised when broken)."""
        if ok:
            return self.engine.clear_system(AlarmKind.AUDIT_CHAIN, AUDIT_SOURCE, message)
        return self.engine.raise_system(AlarmKind.AUDIT_CHAIN, AUDIT_SOURCE, message)

    # ------------------------------------------------------------ history

    def _history_query(
        self, filters: HistoryFilters, *, newest_first: bool
    ) -> Select[AlarmJournalEntry]:
        e = AlarmJournalEntry
        query = select(e)
        since, until = filters.get("since"), filters.get("until")
        if since is not None:
            query = query.where(e.at >= since)
        if until is not None:
            query = query.where(e.at < until)
        for column, key in ((e.room_id, "room_id"), (e.source, "source")):
            value = filters.get(key)
            if value:
                query = query.where(column == value)
        priority = filters.get("priority")
        if priority is not None:
            query = query.where(e.priority == priority)
        kind = filters.get("kind")
        if kind is not None:
            query = query.where(e.kind == kind)
        event = filters.get("event")
        if event is not None:
            query = query.where(e.event == event)
        text = (filters.get("text") or "").strip()
        if text:
            pattern = f"%{text.lower()}%"
            query = query.where(
                or_(
                    e.alarm_id.ilike(pattern),
                    e.message.ilike(pattern),
                    e.comment.ilike(pattern),
                )
            )
        if filters.get("people_only"):
            query = query.where(e.username.is_not(None))
        if newest_first:
            return query.order_by(e.seq.desc(), e.id.desc())
        return query.order_by(e.seq, e.id)

    def history(
        self, *, limit: int | None = 2000, **filters: Unpack[HistoryFilters]
    ) -> list[AlarmEventView]:
        """Journal entries, newest first, filtered."""
        query = self._history_query(filters, newest_first=True)
        if limit is not None:
            query = query.limit(limit)
        return self._core.read(lambda tx: [_event_view(row) for row in tx.db.scalars(query)])

    def fault_history(self, airlock_id: str, *, limit: int = 200) -> list[AlarmEventView]:
        """An airlock's interlock-fault entries, newest first (the interlock view)."""
        return self.history(limit=limit, source=airlock_id, kind=AlarmKind.INTERLOCK_FAULT)

    def export_history_csv(
        self,
        session: UserSession,
        path: str | os.PathLike[str],
        **filters: Unpack[HistoryFilters],
    ) -> int:
        """Write the matching entries, oldest first, to ``path`` (UTF-8 CSV with a
        header); returns how many. The export is audited; the file appears only
        once that entry is committed."""
        core = self._core
        unknown = sorted(set(filters) - set(HistoryFilters.__annotations__))
        if unknown:
            raise TypeError(f"export_history_csv() got unknown filters: {', '.join(unknown)}")
        target = Path(path)
        query = self._history_query(filters, newest_first=False)
        rows = core.read(lambda tx: [_event_view(row) for row in tx.db.scalars(query)])
        described = ", ".join(f"{k}={v}" for k, v in filters.items() if v) or "none"
        core.write_csv_export(
            session,
            target,
            header=HISTORY_CSV_COLUMNS,
            rows=(
                (
                    r.seq,
                    r.at.astimezone(UTC).isoformat(timespec="microseconds"),
                    r.alarm_id,
                    r.priority.value,
                    r.kind.value,
                    r.source,
                    r.room_id or "",
                    r.event.value,
                    r.from_state.value,
                    r.to_state.value,
                    "yes" if r.active else "no",
                    r.message,
                    r.value or "",
                    r.username or "",
                    r.comment or "",
                    r.shelved_until.isoformat(timespec="seconds")
                    if r.shelved_until is not None
                    else "",
                )
                for r in rows
            ),
            record_type=JOURNAL_RECORD,
            span=f"{rows[0].seq}-{rows[-1].seq}" if rows else "none",
            reason=f"exported {len(rows)} alarm journal entries as CSV (filters: {described})",
        )
        return len(rows)


def _duration_text(duration: timedelta) -> str:
    minutes = round(duration.total_seconds() / 60)
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    if minutes > 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes} min"
