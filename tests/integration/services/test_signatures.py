"""Part 11 signatures: the session rule, nobody signs for another, bound to the record."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from necstgen_desk.records.lifecycle import RoomAction, RoomStatus
from necstgen_desk.services import SignatureError, SignatureMeaning, SignatureRequest
from tests.integration.services.helpers import PASSWORD, Env, cleaning_entry

ROOM = "B-01"


def test_first_signing_needs_user_id_and_password_then_the_password(env: Env) -> None:
    session = env["op1"]
    cleaning = env.records.cleaning
    with pytest.raises(SignatureError, match="needs your user ID and your password"):
        cleaning.log(
            session,
            cleaning_entry(env.clock.now, ROOM, "op1"),
            signature=SignatureRequest(PASSWORD),
        )
    assert cleaning.list() == []
    [refused] = env.audit(action="signature_failed")
    assert (refused.username, refused.record_type) == ("op1", "cleaning_record")
    assert not env.audit(action="password_failed")  # the password was right: not counted

    first = cleaning.log(
        session,
        cleaning_entry(env.clock.now, ROOM, "op1"),
        signature=SignatureRequest(PASSWORD, "op1"),
    )
    second = cleaning.log(
        session,
        cleaning_entry(env.clock.now, "B-02", "op1"),
        signature=SignatureRequest(PASSWORD),
    )
    assert [len(v.signatures) for v in (first, second)] == [1, 1]

    env.records.accounts.logout(session)
    again = env.records.accounts.login("op1", PASSWORD)
    assert again.signing.credentials_needed() == "user_and_password"
    with pytest.raises(SignatureError, match="needs your user ID"):
        cleaning.log(
            again,
            cleaning_entry(env.clock.now, "B-03", "op1"),
            signature=SignatureRequest(PASSWORD),
        )


def test_nobody_signs_for_someone_else(env: Env) -> None:
    env["op2"]
    with pytest.raises(SignatureError, match="can sign only as op1, not as op2"):
        env.records.cleaning.log(
            env["op1"],
            cleaning_entry(env.clock.now, ROOM, "op1"),
            signature=SignatureRequest(PASSWORD, "op2"),
        )
    [refused] = env.audit(action="signature_failed")
    assert refused.username == "op1" and "not as op2" in refused.reason


def test_a_wrong_password_signs_nothing_and_is_audited(env: Env) -> None:
    with pytest.raises(SignatureError, match="password is not correct"):
        env.records.cleaning.log(
            env["op1"],
            cleaning_entry(env.clock.now, ROOM, "op1"),
            signature=SignatureRequest("not my password", "op1"),
        )
    assert env.records.cleaning.list() == []
    assert not env.audit(record_type="cleaning_record", action="create")
    assert not env.audit(action="sign")
    [counted] = env.audit(action="password_failed")
    assert (counted.username, counted.field, counted.old_value, counted.new_value) == (
        "op1",
        "failed_logins",
        "0",
        "1",
    )


def test_a_record_changed_after_signing_no_longer_matches(env: Env) -> None:
    env.change("op1", ROOM, RoomAction.START_CLEANING)
    env.clock.advance(minutes=45)
    logged = env.log_cleaning("op1", ROOM)
    [performed] = logged.signatures
    assert performed.matches and performed.manifest.meaning is SignatureMeaning.PERFORMED

    env.drop_protection("cleaning_records")
    with env.engine.begin() as connection:
        connection.execute(
            text("UPDATE cleaning_records SET agent_lot = 'LOT-FORGED' WHERE id = :id"),
            {"id": logged.id},
        )
    [tampered] = env.records.cleaning.list(room_id=ROOM)
    assert tampered.agent_lot == "LOT-FORGED"
    assert [s.matches for s in tampered.signatures] == [False]
    assert "DOES NOT MATCH" in tampered.signatures[0].text()
    # The audit trail itself is intact: the forgery is in the record, not the chain.
    assert env.records.audit.verify().ok


def test_audit_verify_names_a_tampered_entry(env: Env) -> None:
    env.bring_to(ROOM, RoomStatus.CLEANED)
    assert env.records.audit.verify().ok
    victim = env.audit(action="sign")[0]
    env.drop_protection("audit_entries")
    with env.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_entries SET username = 'someone_else' WHERE id = :id"),
            {"id": victim.id},
        )
    report = env.records.audit.verify()
    assert not report.ok
    assert report.first_broken_id == victim.id
    assert f"audit entry {victim.id}" in report.message
    assert "changed after it was written" in report.message
