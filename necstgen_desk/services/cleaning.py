"""The cleaning log: log (signed "performed"), second-person verification (signed
"verified"), corrections as new versions (signed "corrected"), and the
sporicidal rotation (DESIGN.md §3, ADR 0004)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from necstgen_desk.records.cleaning import (
    CleaningEntry,
    CleaningType,
    check_verifier,
    cleaning_problems,
    sporicidal_days_overdue,
)
from necstgen_desk.records.errors import RuleViolation
from necstgen_desk.records.roles import Permission, same_user
from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.services._core import Core, Tx, refuse, superseded_problem
from necstgen_desk.services.errors import NotFound
from necstgen_desk.services.views import CleaningView, SignatureRequest, UserSession
from necstgen_desk.site import Grade
from necstgen_desk.storage import repo
from necstgen_desk.storage.models import CleaningRecord, CleaningVerification

RECORD_TYPE = CleaningRecord.RECORD_TYPE
#: Grades a default sporicidal rotation applies to (classified cleanrooms).
ROTATION_GRADES = frozenset({Grade.A, Grade.B, Grade.C, Grade.D})


def _record_from(entry: CleaningEntry, performed_by: str, created_at: datetime) -> CleaningRecord:
    return CleaningRecord(
        room_id=entry.room_id,
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        cleaning_type=CleaningType(entry.cleaning_type),
        agent=entry.agent.strip(),
        agent_lot=entry.agent_lot.strip(),
        agent_prepared_on=entry.agent_prepared_on,
        agent_expires_on=entry.agent_expires_on,
        required_contact_min=float(entry.required_contact_min),
        achieved_contact_min=float(entry.achieved_contact_min),
        performed_by=performed_by,
        created_at=created_at,
    )


class CleaningService:
    def __init__(self, core: Core) -> None:
        self._core = core

    def log(
        self, session: UserSession, entry: CleaningEntry, *, signature: SignatureRequest
    ) -> CleaningView:
        """Record a cleaning the session's user performed, signed "performed".

        Refused with every problem at once: an expired agent, a short contact
        time, times in the future, a cleaning logged for someone else.
        """
        core = self._core
        core.space(entry.room_id)
        attempted = f"log a cleaning of room {entry.room_id}"

        def work(tx: Tx) -> CleaningView:
            actor = core.permitted(
                tx,
                session,
                Permission.LOG_CLEANING,
                attempted=attempted,
                record_type=RECORD_TYPE,
                record_id=entry.room_id,
            )
            problems = cleaning_problems(entry, tx.now)
            if entry.performed_by.strip() and not same_user(entry.performed_by, actor.username):
                problems.append(
                    f"the cleaning names {entry.performed_by.strip()} as performer, but "
                    f"{actor.username} is logged in: each person logs and signs their own cleaning"
                )
            refuse(f"Cleaning record for room {entry.room_id} refused", problems)
            core.check_signature(
                tx,
                actor,
                session,
                signature,
                SignatureMeaning.PERFORMED,
                attempted=attempted,
                record_type=RECORD_TYPE,
                record_id=entry.room_id,
            )
            record = _record_from(entry, actor.username, tx.now)
            repo.add_record(
                tx.db, record, username=actor.username, reason="cleaning logged", at=tx.now
            )
            repo.sign_record(
                tx.db, record, signer=actor, meaning=SignatureMeaning.PERFORMED, at=tx.now
            )
            tx.changed(RECORD_TYPE, record.id, record.room_id)
            return self._views(tx.db, [record])[0]

        return core.write(work)

    def verify(
        self, session: UserSession, cleaning_id: int, *, signature: SignatureRequest
    ) -> CleaningView:
        """The second person's verification, signed "verified" (never the performer)."""
        core = self._core
        attempted = f"verify cleaning record {cleaning_id}"

        def work(tx: Tx) -> CleaningView:
            actor = core.permitted(
                tx,
                session,
                Permission.VERIFY_CLEANING,
                attempted=attempted,
                record_type=RECORD_TYPE,
                record_id=cleaning_id,
            )
            record = _get(tx.db, cleaning_id)
            problems: list[str] = []
            superseded_problem(tx.db, record, f"cleaning record {cleaning_id}", "verify", problems)
            done = repo.verification_of(tx.db, record)
            if done is not None:
                problems.append(
                    f"cleaning record {cleaning_id} was already verified by {done.verified_by}"
                )
            try:
                check_verifier(self._views(tx.db, [record])[0].entry(), actor.username)
            except RuleViolation as error:
                problems.extend(error.reasons)
            refuse("Cleaning verification refused", problems)
            core.check_signature(
                tx,
                actor,
                session,
                signature,
                SignatureMeaning.VERIFIED,
                attempted=attempted,
                record_type=RECORD_TYPE,
                record_id=cleaning_id,
            )
            repo.add_verification(tx.db, record, verifier=actor, at=tx.now)
            tx.changed(RECORD_TYPE, record.id, record.room_id)
            return self._views(tx.db, [record])[0]

        return core.write(work)

    def correct(
        self,
        session: UserSession,
        cleaning_id: int,
        entry: CleaningEntry,
        *,
        reason: str,
        signature: SignatureRequest,
    ) -> CleaningView:
        """A new version of the record (the original stays), signed "corrected".

        The new version needs its own verification.
        """
        core = self._core
        core.space(entry.room_id)
        attempted = f"correct cleaning record {cleaning_id}"

        def work(tx: Tx) -> CleaningView:
            actor = core.permitted(
                tx,
                session,
                Permission.CORRECT_RECORD,
                attempted=attempted,
                record_type=RECORD_TYPE,
                record_id=cleaning_id,
            )
            original = _get(tx.db, cleaning_id)
            problems = cleaning_problems(entry, tx.now)
            correction = _record_from(entry, entry.performed_by.strip(), tx.now)
            core.write_signed_correction(
                tx,
                actor,
                session,
                signature,
                original=original,
                correction=correction,
                label=f"cleaning record {cleaning_id}",
                problems=problems,
                reason=reason,
                attempted=attempted,
                record_type=RECORD_TYPE,
                record_id=cleaning_id,
            )
            tx.changed(RECORD_TYPE, correction.id, correction.room_id)
            if original.room_id != correction.room_id:
                tx.changed(RECORD_TYPE, original.id, original.room_id)
            return self._views(tx.db, [correction])[0]

        return core.write(work)

    # ------------------------------------------------------------ reading

    def list(
        self,
        *,
        room_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        include_superseded: bool = False,
    ) -> builtins.list[CleaningView]:
        """Cleanings by start time (``since <= started_at < until``), newest first."""

        def work(tx: Tx) -> builtins.list[CleaningView]:
            records = repo.list_cleanings(
                tx.db,
                room_id=room_id,
                since=since,
                until=until,
                current_only=not include_superseded,
            )
            return self._views(tx.db, records)

        return self._core.read(work)

    def history(self, cleaning_id: int) -> builtins.list[CleaningView]:
        """Every version of the record's chain, oldest first."""
        return self._core.read(
            lambda tx: self._views(tx.db, repo.history(tx.db, _get(tx.db, cleaning_id)))
        )

    def sporicidal_overdue(self) -> dict[str, int | None]:
        """Rooms whose sporicidal clean is overdue: days overdue, or None when no
        sporicidal clean was ever logged. Only rooms with a rotation: every
        classified space (A–D) for one rotation, the mapped rooms for a mapping."""
        core = self._core
        rotation = core.settings.sporicidal_rotation
        rotations: Mapping[str, timedelta]
        if isinstance(rotation, timedelta):
            rotations = {
                space.id: rotation
                for space in core.settings.site.spaces
                if space.grade in ROTATION_GRADES
            }
        else:
            rotations = rotation

        def work(tx: Tx) -> dict[str, int | None]:
            last: dict[str, datetime] = {}
            for record in repo.list_cleanings(
                tx.db, cleaning_type=CleaningType.SPORICIDAL, newest_first=False
            ):
                done = record.ended_at or record.started_at
                if record.room_id not in last or done > last[record.room_id]:
                    last[record.room_id] = done
            overdue: dict[str, int | None] = {}
            for room_id, period in rotations.items():
                days = sporicidal_days_overdue(last.get(room_id), tx.now, period)
                if days is None or days > 0:
                    overdue[room_id] = days
            return overdue

        return core.read(work)

    # ------------------------------------------------------------ views

    def _views(self, db: Session, records: Sequence[CleaningRecord]) -> builtins.list[CleaningView]:
        signatures = self._core.signature_views(db, records)
        newer = self._core.superseded_by(db, records)
        verifications = {
            v.cleaning_id: v
            for v in db.scalars(
                select(CleaningVerification).where(
                    CleaningVerification.cleaning_id.in_([r.id for r in records])
                )
            )
        }
        views = []
        for r in records:
            verification = verifications.get(r.id)
            views.append(
                CleaningView(
                    id=r.id,
                    room_id=r.room_id,
                    started_at=r.started_at,
                    ended_at=r.ended_at,
                    cleaning_type=r.cleaning_type,
                    agent=r.agent,
                    agent_lot=r.agent_lot,
                    agent_prepared_on=r.agent_prepared_on,
                    agent_expires_on=r.agent_expires_on,
                    required_contact_min=r.required_contact_min,
                    achieved_contact_min=r.achieved_contact_min,
                    performed_by=r.performed_by,
                    created_at=r.created_at,
                    reason=r.reason,
                    supersedes_id=r.supersedes_id,
                    superseded_by_id=newer.get(r.id),
                    verified_by=verification.verified_by if verification else None,
                    verified_at=verification.verified_at if verification else None,
                    signatures=signatures.get(r.id, ()),
                )
            )
        return views


def _get(db: Session, cleaning_id: int) -> CleaningRecord:
    record = db.get(CleaningRecord, cleaning_id)
    if record is None:
        raise NotFound(f"There is no cleaning record {cleaning_id}.")
    return record


__all__ = ["CleaningService"]
