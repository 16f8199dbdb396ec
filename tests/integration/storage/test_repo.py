"""Repository functions: records with their audit entries, corrections as versions, signatures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from necstgen_desk.alarms.model import AlarmEvent, AlarmKind, AlarmState, Priority
from necstgen_desk.records.lifecycle import RoomStatus
from necstgen_desk.records.roles import Role
from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.storage import repo
from necstgen_desk.storage.audit import append_audit, verify_chain
from necstgen_desk.storage.engine import for_reading
from necstgen_desk.storage.errors import ReasonRequired
from necstgen_desk.storage.models import (
    NAME_LENGTH,
    AlarmJournalEntry,
    AuditEntry,
    CleaningRecord,
    GowningRecord,
    RoomStatusEntry,
    User,
)
from tests.integration.storage import factories

T0 = factories.T0


def _entries(session: Session, record_type: str, record_id: int) -> list[AuditEntry]:
    return repo.list_audit_entries(
        session, record_type=record_type, record_id=record_id, newest_first=False
    )


def test_times_come_back_aware_utc_from_every_table(engine: Engine) -> None:
    cest = timezone(timedelta(hours=2))
    local_start = datetime(2026, 6, 1, 9, 30, 15, 250000, tzinfo=cest)
    with Session(engine) as session, session.begin():
        record = factories.cleaning()
        record.started_at = local_start
        repo.add_record(session, record, username="jdoe")
        gown = repo.add_record(session, factories.gowning(), username="jdoe")
        record_id, gown_id = record.id, gown.id
    with Session(for_reading(engine)) as session:
        again = session.get(CleaningRecord, record_id)
        gown_again = session.get(GowningRecord, gown_id)
        assert again is not None and gown_again is not None
        assert again.started_at == local_start
        assert again.started_at.tzinfo is UTC
        assert again.started_at.hour == 7  # 09:30 at +02:00
        assert again.ended_at is not None and again.ended_at.tzinfo is UTC
        assert gown_again.time_out is None
        assert gown_again.time_in.tzinfo is UTC
        # Filters compare instants, whatever the zone of the bound value.
        found = repo.list_cleanings(
            session, since=local_start, until=local_start + timedelta(microseconds=1)
        )
        assert [r.id for r in found] == [record_id]


def test_adding_a_record_writes_its_audit_entry(session: Session) -> None:
    record = repo.add_record(session, factories.cleaning(), username="jdoe")
    session.commit()
    (entry,) = _entries(session, "cleaning_record", record.id)
    assert (entry.action, entry.username, entry.reason) == ("create", "jdoe", "created")
    content = json.loads(entry.new_value or "")
    assert content["agent_lot"] == "LOT-0000"
    assert content["started_at"] == "2026-11-26T08:00:00.123456+00:00"
    assert content["achieved_contact_min"] == 12.5


def test_a_correction_is_a_new_version_and_the_original_stays(session: Session) -> None:
    original = repo.add_record(session, factories.cleaning(), username="jdoe")
    session.commit()
    fixed = factories.cleaning()
    fixed.agent_lot = "LOT-0001"
    fixed.achieved_contact_min = 11.0
    repo.add_correction(session, original, fixed, username="jdoe", reason="misread the label")
    session.commit()

    assert fixed.supersedes_id == original.id and fixed.reason == "misread the label"
    assert session.get(CleaningRecord, original.id) is original
    assert original.agent_lot == "LOT-0000"  # untouched
    assert repo.history(session, original) == [original, fixed]
    assert repo.history(session, fixed) == [original, fixed]
    assert repo.current_versions(session, CleaningRecord) == [fixed]
    assert repo.list_cleanings(session) == [fixed]
    assert repo.list_cleanings(session, current_only=False) == [fixed, original]

    entries = _entries(session, "cleaning_record", fixed.id)
    assert [(e.action, e.field, e.old_value, e.new_value) for e in entries] == [
        ("correct", "agent_lot", "LOT-0000", "LOT-0001"),
        ("correct", "achieved_contact_min", "12.5", "11.0"),
    ]
    assert {e.reason for e in entries} == {"misread the label"}

    again = factories.cleaning()
    with pytest.raises(ValueError, match="already corrected"):
        repo.add_correction(session, original, again, username="jdoe", reason="again")
    session.rollback()
    same = factories.cleaning()
    same.agent_lot, same.achieved_contact_min = "LOT-0001", 11.0
    with pytest.raises(ValueError, match="changes nothing"):
        repo.add_correction(session, fixed, same, username="jdoe", reason="x")
    session.rollback()
    with pytest.raises(ReasonRequired):
        repo.add_correction(session, fixed, factories.cleaning(n=3), username="jdoe", reason=" ")
    session.rollback()
    assert verify_chain(session).ok


def test_gowning_exit_is_a_new_version(session: Session) -> None:
    entry = repo.add_record(session, factories.gowning(), username="jdoe")
    session.commit()
    assert repo.list_gowning(session, open_only=True) == [entry]
    left = factories.gowning()
    left.time_out = T0 + timedelta(hours=2)
    repo.add_correction(
        session, entry, left, username="jdoe", reason="left the room", action="time_out"
    )
    session.commit()
    assert repo.list_gowning(session, open_only=True) == []
    assert repo.list_gowning(session, person="Jane Doe") == [left]


def test_room_status_now_and_its_signed_release(session: Session) -> None:
    qa = factories.user(session, "qa1", Role.QA)
    repo.add_record(session, factories.status("B-01", RoomStatus.CLEANING, n=1), username="jdoe")
    repo.add_record(session, factories.status("B-01", RoomStatus.CLEANED, n=2), username="jdoe")
    repo.add_record(session, factories.status("B-02", RoomStatus.MAINTENANCE, n=3), username="x")
    released, signature = repo.add_signed_record(
        session,
        factories.status("B-01", RoomStatus.RELEASED, n=4),
        signer=qa,
        meaning=SignatureMeaning.RELEASED,
    )
    session.commit()
    assert released.signature_id == signature.id
    assert signature.record_type == "room_status_entry"
    assert signature.record_id == str(released.id)
    assert (signature.printed_name, signature.meaning) == ("Qa1 Example", SignatureMeaning.RELEASED)
    assert repo.signature_matches(session, signature)
    assert repo.signatures_for(session, released) == [signature]

    now = repo.current_room_statuses(session)
    assert {room: e.status for room, e in now.items()} == {
        "B-01": RoomStatus.RELEASED,
        "B-02": RoomStatus.MAINTENANCE,
    }
    current = repo.current_room_status(session, "B-01")
    assert current is released

    # A later entry is added after the release on the same sequence.
    nxt = repo.add_record(
        session, factories.status("B-01", RoomStatus.IN_OPERATION, n=5), username="jdoe"
    )
    session.commit()
    assert repo.current_room_status(session, "B-01") is nxt


def test_a_verification_signs_the_cleaning_record(session: Session) -> None:
    verifier = factories.user(session, "asmith", Role.QA)
    cleaning = repo.add_record(session, factories.cleaning(), username="jdoe")
    verification = repo.add_verification(session, cleaning, verifier=verifier)
    session.commit()
    assert repo.verification_of(session, cleaning) is verification
    (signature,) = repo.signatures_for(session, cleaning)
    assert signature.id == verification.signature_id
    assert signature.meaning is SignatureMeaning.VERIFIED
    assert repo.signature_matches(session, signature)
    assert repo.last_cleaning(session, "B-01") is cleaning


def test_a_signature_no_longer_matches_edited_content(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        verifier = factories.user(session, "asmith", Role.QA)
        cleaning = repo.add_record(session, factories.cleaning(), username="jdoe")
        signature = repo.sign_record(
            session, cleaning, signer=verifier, meaning=SignatureMeaning.APPROVED
        )
    assert signature.record_hash == repo.content_hash(cleaning)
    cleaning.agent_lot = "FORGED"  # in memory only: the database refuses the UPDATE
    assert signature.record_hash != repo.content_hash(cleaning)


def test_user_changes_are_audited_field_by_field(session: Session) -> None:
    user = factories.user(session, "jdoe")
    session.commit()
    assert repo.get_user_by_username(session, "  JDoe ") is user
    with pytest.raises(ValueError, match="taken"):
        factories.user(session, "JDOE")
    session.rollback()

    entries = repo.update_user(
        session,
        user,
        by="admin",
        reason="promoted to shift lead",
        role=Role.SHIFT_LEAD,
        full_name=user.full_name,  # unchanged: no entry
        password_hash="$argon2id$new",
        must_change_password=True,  # unchanged
    )
    session.commit()
    assert [(e.field, e.old_value, e.new_value) for e in entries] == [
        ("role", "operator", "shift_lead"),
        ("password_hash", None, "(changed)"),
    ]
    assert all(e.reason == "promoted to shift lead" and e.username == "admin" for e in entries)
    stored = session.scalars(select(User).where(User.username == "jdoe")).one()
    assert stored.role is Role.SHIFT_LEAD
    assert "$argon2id" not in "".join(e.new_value or "" for e in _entries(session, "user", user.id))
    with pytest.raises(ReasonRequired):
        repo.update_user(session, user, by="admin", reason="", locked=True)
    assert repo.list_users(session, role=Role.SHIFT_LEAD) == [user]


def test_settings_are_audited(session: Session) -> None:
    assert repo.get_setting(session, "clean_hold_h", "48") == "48"
    first = repo.set_setting(session, "clean_hold_h", "72", username="qa1", reason="SOP-12 v3")
    assert repo.set_setting(session, "clean_hold_h", "72", username="qa1", reason="again") is None
    second = repo.set_setting(session, "clean_hold_h", "24", username="qa1", reason="SOP-12 v4")
    session.commit()
    assert first is not None and second is not None
    assert (first.action, first.old_value, first.new_value) == ("create", None, "72")
    assert (second.action, second.old_value, second.new_value) == ("update", "72", "24")
    assert repo.get_setting(session, "clean_hold_h") == "24"


def test_audit_viewer_filters(session: Session) -> None:
    factories.one_of_each(session)
    by_jdoe = repo.list_audit_entries(session, username="jdoe")
    assert by_jdoe and all(e.username == "jdoe" for e in by_jdoe)
    signs = repo.list_audit_entries(session, action="sign")
    assert {e.record_type for e in signs} == {"signature"}
    users = repo.list_audit_entries(session, record_type="user", newest_first=False)
    assert [e.record_id for e in users] == ["1", "2"]
    page = repo.list_audit_entries(session, limit=2, offset=1)
    everything = repo.list_audit_entries(session)
    assert page == everything[1:3]
    assert repo.list_audit_entries(session, since=datetime.now(UTC) + timedelta(days=1)) == []
    assert repo.count_audit_entries(session) == len(everything)
    assert repo.list_room_status(session, room_id="B-01")[0].status is RoomStatus.RELEASED
    assert isinstance(repo.get_record(session, RoomStatusEntry, 1), RoomStatusEntry)
    assert repo.list_signatures(session, meaning=SignatureMeaning.VERIFIED)[0].username == "asmith"
    assert repo.latest_qualification(session, "Jane Doe") is not None


def test_audit_entries_of_a_room(session: Session) -> None:
    factories.one_of_each(session)  # B-01: a cleaning, its verification, a signed release, gowning
    repo.add_record(session, factories.status("B-02", RoomStatus.MAINTENANCE), username="x")
    repo.add_record(session, factories.cleaning("B-02", n=5), username="x")
    session.commit()
    b01 = repo.list_audit_entries(session, room_id="B-01", newest_first=False)
    assert {e.record_type for e in b01} == {
        "cleaning_record",
        "cleaning_verification",
        "room_status_entry",
        "gowning_record",
        "signature",
    }
    assert len([e for e in b01 if e.record_type == "signature"]) == 2  # verified, released
    b02 = repo.list_audit_entries(session, room_id="B-02")
    assert {(e.record_type, e.username) for e in b02} == {
        ("room_status_entry", "x"),
        ("cleaning_record", "x"),
    }
    assert repo.list_audit_entries(session, room_id="C-99") == []


def _journal_row(alarm_id: str, room_id: str | None, seq: int) -> AlarmJournalEntry:
    return AlarmJournalEntry(
        seq=seq,
        at=T0,
        alarm_id=alarm_id,
        kind=AlarmKind.LIMIT,
        source=alarm_id.partition("/")[0],
        room_id=room_id,
        priority=Priority.HIGH,
        event=AlarmEvent.SHELVE,
        from_state=AlarmState.UNACKNOWLEDGED,
        to_state=AlarmState.SHELVED,
        active=True,
        message="limit exceeded",
        username="lead",
    )


def test_audit_entries_of_a_room_include_its_alarms_and_its_interlock(session: Session) -> None:
    """Alarm actions belong to the room the alarm journal gives the alarm (even for
    an id longer than an audit record id), interlock actions to the airlock."""
    signer = factories.user(session, "lead", Role.SHIFT_LEAD)
    long_id = "B-01." + "x" * 55 + "/action"  # 67 characters: cut to 64 in the audit trail
    rows = {
        "B-01.dp/action": _journal_row("B-01.dp/action", "B-01", 1),
        long_id: _journal_row(long_id, "B-01", 2),
        "B-02.dp/action": _journal_row("B-02.dp/action", "B-02", 3),
        "PLC-1/link_lost": _journal_row("PLC-1/link_lost", None, 4),
    }
    session.add_all(rows.values())
    session.flush()
    shelved = repo.sign_record(
        session, rows["B-01.dp/action"], signer=signer, meaning=SignatureMeaning.SHELVED
    )
    for alarm_id in rows:
        append_audit(
            session,
            username="lead",
            action="shelve_alarm",
            record_type="alarm",
            record_id=alarm_id[:NAME_LENGTH],
            reason="filter change",
        )
    for airlock in ("PAL-01", "PAL-02"):
        append_audit(
            session,
            username="maint",
            action="reset_interlock",
            record_type="interlock",
            record_id=airlock,
            reason="closer replaced",
        )
    session.commit()

    def in_room(room_id: str) -> list[tuple[str, str]]:
        entries = repo.list_audit_entries(session, room_id=room_id, newest_first=False)
        return [(e.record_type, e.record_id) for e in entries]

    assert in_room("B-01") == [
        ("signature", str(shelved.id)),
        ("alarm", "B-01.dp/action"),
        ("alarm", long_id[:NAME_LENGTH]),
    ]
    assert in_room("B-02") == [("alarm", "B-02.dp/action")]
    assert in_room("PAL-01") == [("interlock", "PAL-01")]
    assert in_room("PAL-02") == [("interlock", "PAL-02")]
    assert in_room("C-01") == []
