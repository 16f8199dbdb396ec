"""Sample records for the storage tests (and the crash-test child)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from necstgen_desk.records.cleaning import CleaningType
from necstgen_desk.records.gowning import QualificationStatus
from necstgen_desk.records.lifecycle import RoomStatus
from necstgen_desk.records.roles import Role
from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.storage import repo
from necstgen_desk.storage.models import (
    CleaningRecord,
    CleaningVerification,
    GowningQualification,
    GowningRecord,
    RoomStatusEntry,
    User,
)

T0 = datetime(2026, 11, 26, 8, 0, 0, 123456, tzinfo=UTC)
# A password hash is opaque to storage; no need to spend argon2 time in these tests.
FAKE_HASH = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"


def user(session: Session, username: str = "jdoe", role: Role = Role.OPERATOR) -> User:
    return repo.add_user(
        session,
        username=username,
        full_name=f"{username.capitalize()} Example",
        role=role,
        password_hash=FAKE_HASH,
        by="admin",
        at=T0,
    )


def cleaning(room_id: str = "B-01", *, performed_by: str = "jdoe", n: int = 0) -> CleaningRecord:
    start = T0 + timedelta(hours=n)
    return CleaningRecord(
        room_id=room_id,
        started_at=start,
        ended_at=start + timedelta(minutes=40),
        cleaning_type=CleaningType.SPORICIDAL,
        agent="Spor-Klenz RTU",
        agent_lot=f"LOT-{n:04d}",
        agent_prepared_on=date(2026, 11, 20),
        agent_expires_on=date(2026, 12, 20),
        required_contact_min=10.0,
        achieved_contact_min=12.5,
        performed_by=performed_by,
        created_at=start + timedelta(minutes=41),
    )


def status(
    room_id: str = "B-01", value: RoomStatus = RoomStatus.TO_BE_CLEANED, *, n: int = 0
) -> RoomStatusEntry:
    return RoomStatusEntry(
        room_id=room_id, status=value, at=T0 + timedelta(minutes=n), username="jdoe"
    )


def gowning(person: str = "Jane Doe", *, n: int = 0) -> GowningRecord:
    return GowningRecord(
        person=person,
        room_id="B-01",
        grade="B",
        time_in=T0 + timedelta(minutes=n),
        time_out=None,
        garment_lot="GL-77",
        qualification_status=QualificationStatus.QUALIFIED,
        created_at=T0 + timedelta(minutes=n),
        username="jdoe",
    )


def qualification(person: str = "Jane Doe") -> GowningQualification:
    return GowningQualification(
        person=person, qualified_on=date(2026, 3, 1), recorded_by="qa1", recorded_at=T0
    )


def one_of_each(session: Session) -> dict[str, int]:
    """A row in every table (users included), committed; ids by table name."""
    operator = user(session, "jdoe")
    verifier = user(session, "asmith", Role.QA)
    clean = repo.add_record(session, cleaning(), username="jdoe")
    verification: CleaningVerification = repo.add_verification(session, clean, verifier=verifier)
    entry, release = repo.add_signed_record(
        session,
        status(value=RoomStatus.RELEASED, n=90),
        signer=verifier,
        meaning=SignatureMeaning.RELEASED,
    )
    gown = repo.add_record(session, gowning(), username="jdoe")
    qual = repo.add_record(session, qualification(), username="qa1")
    repo.set_setting(session, "clean_hold_h", "72", username="admin", reason="site default")
    last_entry = repo.list_audit_entries(session, limit=1)[0]
    ids = {
        "users": operator.id,
        "audit_entries": last_entry.id,
        "signatures": release.id,
        "room_status_entries": entry.id,
        "cleaning_records": clean.id,
        "cleaning_verifications": verification.id,
        "gowning_records": gown.id,
        "gowning_qualifications": qual.id,
    }
    # Commit last: on SQLite an open write session holds the write lock.
    session.commit()
    return ids
