"""Room status: the lifecycle of DESIGN.md §3 on the database (ADR 0004).

The service gathers the facts of :class:`~necstgen_desk.records.lifecycle.TransitionContext`
from the records — who performed and verified the cleaning logged since the
room entered Cleaning, who marked it Cleaned, what blocks a release, whether
the clean hold expired — and lets :func:`~necstgen_desk.records.lifecycle.decide`
answer. A room never logged is To be cleaned: nothing says it is clean.
"""

from __future__ import annotations

import builtins
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from necstgen_desk.records.errors import RuleViolation
from necstgen_desk.records.lifecycle import (
    TRANSITIONS,
    RoomAction,
    RoomStatus,
    TransitionContext,
    allowed_actions,
    decide,
    hold_expired,
    hold_expires_at,
)
from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.services._core import Core, Tx, reason_or_problem
from necstgen_desk.services.views import (
    RoomStatusView,
    SignatureRequest,
    SignatureView,
    UserSession,
)
from necstgen_desk.site import Space
from necstgen_desk.storage import repo
from necstgen_desk.storage.audit import SYSTEM_USER
from necstgen_desk.storage.models import CleaningRecord, CleaningVerification, RoomStatusEntry

#: A room nobody logged a status for.
DEFAULT_STATUS = RoomStatus.TO_BE_CLEANED
RECORD_TYPE = RoomStatusEntry.RECORD_TYPE


class RoomStatusService:
    def __init__(self, core: Core) -> None:
        self._core = core

    # ------------------------------------------------------------ reading

    def current(self, room_id: str) -> RoomStatusView:
        space = self._core.space(room_id)
        return self._core.read(
            lambda tx: self._view(tx, space, repo.current_room_status(tx.db, room_id), True)
        )

    def all_current(self) -> dict[str, RoomStatusView]:
        """Every space of the site, in site order (never logged: To be cleaned)."""

        def work(tx: Tx) -> dict[str, RoomStatusView]:
            latest = repo.current_room_statuses(tx.db)
            return {
                space.id: self._view(tx, space, latest.get(space.id), True)
                for space in self._core.settings.site.spaces
            }

        return self._core.read(work)

    def history(self, room_id: str, *, limit: int = 200) -> builtins.list[RoomStatusView]:
        """The room's status entries, newest first."""
        space = self._core.space(room_id)

        def work(tx: Tx) -> builtins.list[RoomStatusView]:
            entries = repo.list_room_status(tx.db, room_id=room_id, current_only=False, limit=limit)
            signatures = self._core.signature_views(tx.db, entries)
            return [
                self._view(tx, space, entry, False, signatures.get(entry.id, ()))
                for entry in entries
            ]

        return self._core.read(work)

    def allowed_actions(self, session: UserSession, room_id: str) -> builtins.list[RoomAction]:
        """What the session's role may do to the room now, by state and role
        (:meth:`change` may still refuse for the facts, with the reasons)."""
        self._core.space(room_id)

        def work(tx: Tx) -> builtins.list[RoomAction]:
            actor = self._core.actor(tx, session)
            entry = repo.current_room_status(tx.db, room_id)
            return allowed_actions(entry.status if entry else DEFAULT_STATUS, actor.role)

        return self._core.read(work)

    # ------------------------------------------------------------ changing

    def change(
        self,
        session: UserSession,
        room_id: str,
        action: RoomAction,
        *,
        reason: str,
        product: str | None = None,
        batch: str | None = None,
        signature: SignatureRequest | None = None,
    ) -> RoomStatusView:
        """Take ``action`` on the room. ``product`` and ``batch`` belong to
        Start operation (ignored otherwise); Release needs the QA signature
        (meaning "released")."""
        core = self._core
        space = core.space(room_id)
        action = RoomAction(action)
        transition = TRANSITIONS[action]
        attempted = f"{action.display_name.lower()} for room {room_id}"

        def work(tx: Tx) -> RoomStatusView:
            actor = core.actor(tx, session)
            if transition.permission is not None:
                core.require(
                    actor,
                    transition.permission,
                    attempted=attempted,
                    record_type=RECORD_TYPE,
                    record_id=room_id,
                )
            entry = repo.current_room_status(tx.db, room_id)
            current = entry.status if entry is not None else DEFAULT_STATUS
            starting = action is RoomAction.START_OPERATION
            context = self._context(
                tx,
                actor.username,
                room_id,
                entry,
                action,
                product=(product or "").strip() if starting else "",
                batch=(batch or "").strip() if starting else "",
            )
            decision = decide(current, action, actor.role, context)
            problems = list(decision.reasons)
            why = reason_or_problem(reason, problems)
            if problems:
                raise RuleViolation(f"{action.display_name} of room {room_id} refused", problems)
            assert decision.new_status is not None
            new = RoomStatusEntry(
                room_id=room_id,
                status=decision.new_status,
                at=tx.now,
                username=actor.username,
                product=context.product or None,
                batch=context.batch or None,
                reason=why,
            )
            if action is RoomAction.RELEASE:
                core.check_signature(
                    tx,
                    actor,
                    session,
                    signature,
                    SignatureMeaning.RELEASED,
                    attempted=attempted,
                    record_type=RECORD_TYPE,
                    record_id=room_id,
                )
                repo.add_signed_record(
                    tx.db,
                    new,
                    signer=actor,
                    meaning=SignatureMeaning.RELEASED,
                    reason=why,
                    at=tx.now,
                )
            else:
                repo.add_record(tx.db, new, username=actor.username, reason=why, at=tx.now)
            tx.changed(RECORD_TYPE, new.id, room_id)
            return self._view(tx, space, new, True)

        return core.write(work)

    def expire_holds(self) -> builtins.list[str]:
        """The system's step: every Released room past its clean hold goes back to
        To be cleaned (audited as ``system``). Returns the rooms it changed."""
        core = self._core
        hold = core.settings.clean_hold

        def work(tx: Tx) -> builtins.list[str]:
            changed: builtins.list[str] = []
            for room_id, entry in sorted(repo.current_room_statuses(tx.db).items()):
                if entry.status is not RoomStatus.RELEASED:
                    continue
                context = TransitionContext(
                    actor=SYSTEM_USER, hold_expired=hold_expired(entry.at, tx.now, hold)
                )
                decision = decide(entry.status, RoomAction.HOLD_TIME_EXPIRED, None, context)
                if decision.new_status is None:
                    continue
                expired_at = hold_expires_at(entry.at, hold)
                why = (
                    f"the clean hold time ({_hours(hold)}) of the release at "
                    f"{entry.at.isoformat(timespec='seconds')} expired at "
                    f"{expired_at.isoformat(timespec='seconds')}"
                )
                new = RoomStatusEntry(
                    room_id=room_id,
                    status=decision.new_status,
                    at=tx.now,
                    username=SYSTEM_USER,
                    reason=why,
                )
                repo.add_record(tx.db, new, username=SYSTEM_USER, reason=why, at=tx.now)
                tx.changed(RECORD_TYPE, new.id, room_id)
                changed.append(room_id)
            return changed

        return core.write(work)

    # ------------------------------------------------------------ facts

    def _context(
        self,
        tx: Tx,
        actor: str,
        room_id: str,
        entry: RoomStatusEntry | None,
        action: RoomAction,
        *,
        product: str,
        batch: str,
    ) -> TransitionContext:
        performed: tuple[str, ...] = ()
        verified: tuple[str, ...] = ()
        verified_logged = False
        cleaned_by: str | None = None
        blockers: tuple[str, ...] = ()
        expired = False
        if action in (RoomAction.FINISH_CLEANING, RoomAction.RELEASE):
            entered = _entered_cleaning_at(tx, room_id)
            if entered is not None:
                performed, verified = _cleaning_people(tx, room_id, entered)
                verified_logged = bool(verified)
        if action is RoomAction.RELEASE:
            if entry is not None and entry.status is RoomStatus.CLEANED:
                cleaned_by = entry.username
            blockers = tuple(self._core.settings.blockers.blockers(room_id))
        if entry is not None and entry.status is RoomStatus.RELEASED:
            expired = hold_expired(entry.at, tx.now, self._core.settings.clean_hold)
        return TransitionContext(
            actor=actor,
            product=product,
            batch=batch,
            cleaning_performed_by=performed,
            cleaning_verified_by=verified,
            cleaned_marked_by=cleaned_by,
            verified_cleaning_logged=verified_logged,
            release_blockers=blockers,
            hold_expired=expired,
        )

    # ------------------------------------------------------------ views

    def _view(
        self,
        tx: Tx,
        space: Space,
        entry: RoomStatusEntry | None,
        current: bool,
        signatures: tuple[SignatureView, ...] | None = None,
    ) -> RoomStatusView:
        if entry is None:
            return RoomStatusView(
                room_id=space.id,
                room_name=space.name,
                grade=space.grade.value,
                status=DEFAULT_STATUS,
                never_logged=True,
                since=None,
                by=None,
                product=None,
                batch=None,
                reason=None,
                entry_id=None,
            )
        settings = self._core.settings
        if signatures is None:
            signed = self._core.signature_views(tx.db, [entry]).get(entry.id, ())
        else:
            signed = signatures
        cleanup_ends_at: datetime | None = None
        if current:
            left = _left_operation_at(tx, entry)
            if left is not None:
                cleanup_ends_at = left + settings.cleanup_period
        return RoomStatusView(
            room_id=space.id,
            room_name=space.name,
            grade=space.grade.value,
            status=entry.status,
            never_logged=False,
            since=entry.at,
            by=entry.username,
            product=entry.product,
            batch=entry.batch,
            reason=entry.reason,
            entry_id=entry.id,
            hold_expires_at=hold_expires_at(entry.at, settings.clean_hold)
            if entry.status is RoomStatus.RELEASED
            else None,
            cleanup_ends_at=cleanup_ends_at,
            signatures=signed,
        )


def _hours(value: timedelta) -> str:
    hours = value / timedelta(hours=1)
    return f"{hours:g} h"


def _entered_cleaning_at(tx: Tx, room_id: str) -> datetime | None:
    """When the room last entered Cleaning."""
    found = tx.db.scalars(
        repo.current_versions_query(RoomStatusEntry)
        .where(RoomStatusEntry.room_id == room_id, RoomStatusEntry.status == RoomStatus.CLEANING)
        .order_by(RoomStatusEntry.at.desc(), RoomStatusEntry.id.desc())
        .limit(1)
    ).first()
    return found.at if found is not None else None


def _cleaning_people(
    tx: Tx, room_id: str, entered: datetime
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Who performed and who verified the cleanings of this round: the current
    versions logged since the room entered Cleaning that end after it did."""
    records = list(
        tx.db.scalars(
            repo.current_versions_query(CleaningRecord)
            .where(
                CleaningRecord.room_id == room_id,
                CleaningRecord.created_at >= entered,
                CleaningRecord.ended_at >= entered,
            )
            .order_by(CleaningRecord.id)
        )
    )
    if not records:
        return (), ()
    verifiers = tx.db.scalars(
        select(CleaningVerification.verified_by)
        .where(CleaningVerification.cleaning_id.in_([r.id for r in records]))
        .order_by(CleaningVerification.id)
    )
    return tuple(dict.fromkeys(r.performed_by for r in records)), tuple(dict.fromkeys(verifiers))


def _left_operation_at(tx: Tx, entry: RoomStatusEntry) -> datetime | None:
    """When the room last left In operation (None if in operation or never was)."""
    if entry.status is RoomStatus.IN_OPERATION:
        return None
    last_operation = tx.db.scalars(
        select(RoomStatusEntry)
        .where(
            RoomStatusEntry.room_id == entry.room_id,
            RoomStatusEntry.status == RoomStatus.IN_OPERATION,
            RoomStatusEntry.at <= entry.at,
        )
        .order_by(RoomStatusEntry.at.desc(), RoomStatusEntry.id.desc())
        .limit(1)
    ).first()
    if last_operation is None:
        return None
    after = tx.db.scalars(
        select(RoomStatusEntry)
        .where(
            RoomStatusEntry.room_id == entry.room_id,
            or_(
                RoomStatusEntry.at > last_operation.at,
                and_(
                    RoomStatusEntry.at == last_operation.at,
                    RoomStatusEntry.id > last_operation.id,
                ),
            ),
        )
        .order_by(RoomStatusEntry.at, RoomStatusEntry.id)
        .limit(1)
    ).first()
    return after.at if after is not None else None


__all__ = ["DEFAULT_STATUS", "RoomStatusService"]
