"""The gowning log and the gowning qualifications (DESIGN.md §3, ADR 0004).

Entry to a Grade A or B room is refused for a person whose qualification is
missing, revoked or older than its validity (12 months by default). Each
person has one qualification record chain: requalifying and revoking add new
versions to it (QA only, signed "approved"), so the person's status is its
newest version.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import date, datetime
from typing import TypedDict, Unpack

from sqlalchemy import func
from sqlalchemy.orm import Session

from necstgen_desk.records.errors import RuleViolation
from necstgen_desk.records.gowning import (
    FUTURE_TOLERANCE,
    GowningEntry,
    QualificationStatus,
    gowning_problems,
    qualification_status,
    qualification_valid_until,
)
from necstgen_desk.records.roles import Permission
from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.services._core import (
    Core,
    Tx,
    audit_id,
    reason_or_problem,
    refuse,
    superseded_problem,
)
from necstgen_desk.services.errors import NotFound
from necstgen_desk.services.views import (
    GowningView,
    QualificationView,
    SignatureRequest,
    UserSession,
)
from necstgen_desk.storage import repo
from necstgen_desk.storage.models import TEXT_LENGTH, GowningQualification, GowningRecord, User

RECORD_TYPE = GowningRecord.RECORD_TYPE
QUALIFICATION_RECORD = GowningQualification.RECORD_TYPE


class GowningChanges(TypedDict, total=False):
    """What a correction of a gowning record may change."""

    person: str
    room_id: str
    time_in: datetime
    time_out: datetime | None
    garment_lot: str


def _utc_text(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


class GowningService:
    def __init__(self, core: Core) -> None:
        self._core = core

    # ------------------------------------------------------------ the log

    def _status_on(self, db: Session, person: str, day: date) -> QualificationStatus:
        found = _current_qualification(db, person)
        if found is None or found.revoked:
            return QualificationStatus.MISSING
        return qualification_status(found.qualified_on, day, found.valid_months)

    def log_entry(
        self,
        session: UserSession,
        *,
        person: str,
        room_id: str,
        time_in: datetime,
        garment_lot: str,
    ) -> GowningView:
        """Log ``person`` entering the room; Grade A/B refused without a valid qualification."""
        core = self._core
        space = core.space(room_id)
        attempted = f"log the entry of {person.strip() or 'a person'} into room {room_id}"

        def work(tx: Tx) -> GowningView:
            actor = core.permitted(
                tx,
                session,
                Permission.LOG_GOWNING,
                attempted=attempted,
                record_type=RECORD_TYPE,
                record_id=room_id,
            )
            name = person.strip()
            day = _day_of(time_in, tx.now)
            entry = GowningEntry(
                person=name,
                room_id=room_id,
                grade=space.grade.value,
                time_in=time_in,
                time_out=None,
                garment_lot=garment_lot.strip(),
                qualification=self._status_on(tx.db, name, day),
            )
            problems = gowning_problems(entry, tx.now)
            if len(name) > TEXT_LENGTH:
                problems.append(f"the person's name is longer than {TEXT_LENGTH} characters")
            refuse(f"Entry of {name or 'a person'} into room {room_id} refused", problems)
            record = GowningRecord(
                person=name,
                room_id=room_id,
                grade=entry.grade,
                time_in=time_in,
                time_out=None,
                garment_lot=entry.garment_lot,
                qualification_status=entry.qualification,
                created_at=tx.now,
                username=actor.username,
            )
            repo.add_record(
                tx.db, record, username=actor.username, reason="entry logged", at=tx.now
            )
            tx.changed(RECORD_TYPE, record.id, room_id)
            return self._views(tx.db, [record])[0]

        return core.write(work)

    def log_exit(self, session: UserSession, record_id: int, *, time_out: datetime) -> GowningView:
        """Log the exit: a new version of the entry record with ``time_out``."""
        core = self._core
        attempted = f"log the exit of gowning record {record_id}"

        def work(tx: Tx) -> GowningView:
            actor = core.permitted(
                tx,
                session,
                Permission.LOG_GOWNING,
                attempted=attempted,
                record_type=RECORD_TYPE,
                record_id=record_id,
            )
            original = _get(tx.db, record_id)
            problems: list[str] = []
            superseded_problem(tx.db, original, f"gowning record {record_id}", "use", problems)
            if original.time_out is not None:
                problems.append(
                    f"the exit of {original.person} was already logged at "
                    f"{_utc_text(original.time_out)}"
                )
            if time_out.tzinfo is None or time_out.utcoffset() is None:
                problems.append("time out has no time zone")
            else:
                if time_out > tx.now + FUTURE_TOLERANCE:
                    problems.append(f"time out {_utc_text(time_out)} is in the future")
                if time_out < original.time_in:
                    problems.append(
                        f"time out ({_utc_text(time_out)}) is before time in "
                        f"({_utc_text(original.time_in)})"
                    )
            refuse(f"Exit of {original.person} from room {original.room_id} refused", problems)
            new = _copy(original, tx.now, actor.username)
            new.time_out = time_out
            repo.add_correction(
                tx.db,
                original,
                new,
                username=actor.username,
                reason="exit from the room logged",
                at=tx.now,
                action="log_exit",
            )
            tx.changed(RECORD_TYPE, new.id, new.room_id)
            return self._views(tx.db, [new])[0]

        return core.write(work)

    def correct(
        self,
        session: UserSession,
        record_id: int,
        *,
        reason: str,
        signature: SignatureRequest,
        **changes: Unpack[GowningChanges],
    ) -> GowningView:
        """A corrected version of the record, signed "corrected"; the grade and the
        qualification status are worked out again for the corrected room and person."""
        core = self._core
        attempted = f"correct gowning record {record_id}"

        def work(tx: Tx) -> GowningView:
            actor = core.permitted(
                tx,
                session,
                Permission.CORRECT_RECORD,
                attempted=attempted,
                record_type=RECORD_TYPE,
                record_id=record_id,
            )
            original = _get(tx.db, record_id)
            new = _copy(original, tx.now, actor.username)
            if "person" in changes:
                new.person = changes["person"].strip()
            if "room_id" in changes:
                new.room_id = changes["room_id"]
            if "time_in" in changes:
                new.time_in = changes["time_in"]
            if "time_out" in changes:
                new.time_out = changes["time_out"]
            if "garment_lot" in changes:
                new.garment_lot = changes["garment_lot"].strip()
            space = core.space(new.room_id)
            new.grade = space.grade.value
            new.qualification_status = self._status_on(
                tx.db, new.person, _day_of(new.time_in, tx.now)
            )
            entry = GowningEntry(
                person=new.person,
                room_id=new.room_id,
                grade=new.grade,
                time_in=new.time_in,
                time_out=new.time_out,
                garment_lot=new.garment_lot,
                qualification=new.qualification_status,
            )
            problems = gowning_problems(entry, tx.now)
            core.write_signed_correction(
                tx,
                actor,
                session,
                signature,
                original=original,
                correction=new,
                label=f"gowning record {record_id}",
                problems=problems,
                reason=reason,
                attempted=attempted,
                record_type=RECORD_TYPE,
                record_id=record_id,
            )
            tx.changed(RECORD_TYPE, new.id, new.room_id)
            return self._views(tx.db, [new])[0]

        return core.write(work)

    def list(
        self,
        *,
        room_id: str | None = None,
        person: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> builtins.list[GowningView]:
        """Current versions by time in (``since <= time_in < until``), newest first."""

        def work(tx: Tx) -> builtins.list[GowningView]:
            records = repo.list_gowning(
                tx.db, room_id=room_id, person=person, since=since, until=until
            )
            return self._views(tx.db, records)

        return self._core.read(work)

    # ------------------------------------------------------------ qualifications

    def record_qualification(
        self,
        session: UserSession,
        person: str,
        qualified_on: date,
        *,
        reason: str,
        valid_months: int | None = None,
        signature: SignatureRequest,
    ) -> QualificationView:
        """QA records a gowning qualification (a requalification is a new version
        of the person's record), signed "approved"."""
        core = self._core
        months = core.settings.qualification_months if valid_months is None else valid_months
        name = person.strip()
        attempted = f"record the gowning qualification of {name or 'a person'}"

        def work(tx: Tx) -> QualificationView:
            actor = core.permitted(
                tx,
                session,
                Permission.MANAGE_QUALIFICATIONS,
                attempted=attempted,
                record_type=QUALIFICATION_RECORD,
                record_id=audit_id(name),
            )
            problems: list[str] = []
            if not name:
                problems.append("the person is blank")
            elif len(name) > TEXT_LENGTH:
                problems.append(f"the person's name is longer than {TEXT_LENGTH} characters")
            if qualified_on > tx.now.date():
                problems.append(f"the qualification date {qualified_on} is in the future")
            if months < 1:
                problems.append("the qualification must be valid for at least one month")
            why = reason_or_problem(reason, problems)
            refuse(f"Gowning qualification of {name or 'a person'} refused", problems)
            existing = _current_qualification(tx.db, name)
            record = GowningQualification(
                person=existing.person if existing is not None else name,
                qualified_on=qualified_on,
                recorded_by=actor.username,
                recorded_at=tx.now,
                valid_months=months,
                revoked=False,
                reason=why,
            )
            if existing is None:
                repo.add_record(tx.db, record, username=actor.username, reason=why, at=tx.now)
            else:
                try:
                    repo.add_correction(
                        tx.db,
                        existing,
                        record,
                        username=actor.username,
                        reason=why,
                        at=tx.now,
                        action="requalify",
                    )
                except ValueError as error:
                    raise RuleViolation(
                        f"Gowning qualification of {name} refused", str(error)
                    ) from None
            self._approve(tx, actor, session, signature, record, attempted=attempted, why=why)
            return self._qualification_views(tx, [record])[0]

        return core.write(work)

    def revoke_qualification(
        self, session: UserSession, person: str, *, reason: str, signature: SignatureRequest
    ) -> QualificationView:
        """QA revokes the person's qualification (a new version), signed "approved"."""
        core = self._core
        name = person.strip()
        attempted = f"revoke the gowning qualification of {name or 'a person'}"

        def work(tx: Tx) -> QualificationView:
            actor = core.permitted(
                tx,
                session,
                Permission.MANAGE_QUALIFICATIONS,
                attempted=attempted,
                record_type=QUALIFICATION_RECORD,
                record_id=audit_id(name),
            )
            problems: list[str] = []
            why = reason_or_problem(reason, problems)
            existing = _current_qualification(tx.db, name) if name else None
            if existing is None or existing.revoked:
                problems.append(f"{name or 'the person'} has no qualification to revoke")
            refuse(f"Revocation of the gowning qualification of {name} refused", problems)
            assert existing is not None
            record = GowningQualification(
                person=existing.person,
                qualified_on=existing.qualified_on,
                recorded_by=actor.username,
                recorded_at=tx.now,
                valid_months=existing.valid_months,
                revoked=True,
            )
            repo.add_correction(
                tx.db,
                existing,
                record,
                username=actor.username,
                reason=why,
                at=tx.now,
                action="revoke",
            )
            self._approve(tx, actor, session, signature, record, attempted=attempted, why=why)
            return self._qualification_views(tx, [record])[0]

        return core.write(work)

    def qualification(self, person: str) -> QualificationView | None:
        """The person's qualification as it stands (None: never recorded)."""

        def work(tx: Tx) -> QualificationView | None:
            found = _current_qualification(tx.db, person.strip())
            return self._qualification_views(tx, [found])[0] if found is not None else None

        return self._core.read(work)

    def qualifications(self) -> builtins.list[QualificationView]:
        """Every person's qualification as it stands, by person."""

        def work(tx: Tx) -> builtins.list[QualificationView]:
            records = sorted(
                repo.list_qualifications(tx.db),
                key=lambda q: (q.person.casefold(), q.id),
            )
            return self._qualification_views(tx, records)

        return self._core.read(work)

    # ------------------------------------------------------------ helpers

    def _approve(
        self,
        tx: Tx,
        actor: User,
        session: UserSession,
        signature: SignatureRequest,
        record: GowningQualification,
        *,
        attempted: str,
        why: str,
    ) -> None:
        """QA's signature "approved" on a qualification version just written."""
        self._core.check_signature(
            tx,
            actor,
            session,
            signature,
            SignatureMeaning.APPROVED,
            attempted=attempted,
            record_type=QUALIFICATION_RECORD,
            record_id=audit_id(record.person),
        )
        repo.sign_record(
            tx.db,
            record,
            signer=actor,
            meaning=SignatureMeaning.APPROVED,
            reason=f"electronic signature: approved ({why})",
            at=tx.now,
        )
        tx.changed(QUALIFICATION_RECORD, record.id, None)

    def _views(self, db: Session, records: Sequence[GowningRecord]) -> builtins.list[GowningView]:
        signatures = self._core.signature_views(db, records)
        newer = self._core.superseded_by(db, records)
        return [
            GowningView(
                id=r.id,
                person=r.person,
                room_id=r.room_id,
                grade=r.grade,
                time_in=r.time_in,
                time_out=r.time_out,
                garment_lot=r.garment_lot,
                qualification_status=r.qualification_status,
                logged_by=r.username,
                created_at=r.created_at,
                reason=r.reason,
                supersedes_id=r.supersedes_id,
                superseded_by_id=newer.get(r.id),
                signatures=signatures.get(r.id, ()),
            )
            for r in records
        ]

    def _qualification_views(
        self, tx: Tx, records: Sequence[GowningQualification]
    ) -> builtins.list[QualificationView]:
        signatures = self._core.signature_views(tx.db, records)
        today = tx.now.date()
        return [
            QualificationView(
                id=q.id,
                person=q.person,
                qualified_on=q.qualified_on,
                valid_months=q.valid_months,
                valid_until=qualification_valid_until(q.qualified_on, q.valid_months),
                status=QualificationStatus.MISSING
                if q.revoked
                else qualification_status(q.qualified_on, today, q.valid_months),
                revoked=q.revoked,
                recorded_by=q.recorded_by,
                recorded_at=q.recorded_at,
                reason=q.reason,
                supersedes_id=q.supersedes_id,
                signatures=signatures.get(q.id, ()),
            )
            for q in records
        ]


def _day_of(moment: datetime, now: datetime) -> date:
    """The UTC day of ``moment`` (``now``'s when it has no time zone; the rule check reports it)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return now.date()
    return moment.astimezone(now.tzinfo).date()


def _get(db: Session, record_id: int) -> GowningRecord:
    record = db.get(GowningRecord, record_id)
    if record is None:
        raise NotFound(f"There is no gowning record {record_id}.")
    return record


def _copy(record: GowningRecord, now: datetime, username: str) -> GowningRecord:
    return GowningRecord(
        person=record.person,
        room_id=record.room_id,
        grade=record.grade,
        time_in=record.time_in,
        time_out=record.time_out,
        garment_lot=record.garment_lot,
        qualification_status=record.qualification_status,
        created_at=now,
        username=username,
    )


def _current_qualification(db: Session, person: str) -> GowningQualification | None:
    """The newest version of the person's qualification (names compared ignoring case)."""
    key = person.strip().lower()  # as SQL lower() does
    if not key:
        return None
    return db.scalars(
        repo.current_versions_query(GowningQualification)
        .where(func.lower(GowningQualification.person) == key)
        .order_by(GowningQualification.id.desc())
        .limit(1)
    ).first()


__all__ = ["GowningChanges", "GowningService"]
