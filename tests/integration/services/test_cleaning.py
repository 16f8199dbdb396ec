"""The cleaning log: rules, second-person verification, corrections, sporicidal rotation."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from necstgen_desk.records.cleaning import CleaningType
from necstgen_desk.services import (
    PermissionDenied,
    Records,
    RuleViolation,
    SignatureMeaning,
)
from tests.integration.services.helpers import (
    FAST_POLICY,
    SITE,
    Env,
    FakeBlockers,
    FakeClock,
    cleaning_entry,
    sign,
)

ROOM = "B-01"


def test_an_expired_agent_and_a_short_contact_time_are_refused_together(env: Env) -> None:
    now = env.clock.now
    entry = replace(
        cleaning_entry(now, ROOM, "op1"),
        agent_prepared_on=(now - timedelta(days=40)).date(),
        agent_expires_on=(now - timedelta(days=1)).date(),
        achieved_contact_min=6.0,
    )
    with pytest.raises(RuleViolation) as raised:
        env.records.cleaning.log(env["op1"], entry, signature=sign(env["op1"]))
    reasons = raised.value.reasons
    assert len(reasons) == 2
    assert "expired on" in reasons[0] and "an expired agent cannot be recorded" in reasons[0]
    assert reasons[1] == "the achieved contact time (6 min) is shorter than the required 10 min"
    assert env.records.cleaning.list() == []
    assert not env.audit(record_type="cleaning_record")


def test_each_person_logs_their_own_cleaning(env: Env) -> None:
    with pytest.raises(RuleViolation, match="each person logs and signs their own cleaning"):
        env.records.cleaning.log(
            env["op1"], cleaning_entry(env.clock.now, ROOM, "op2"), signature=sign(env["op1"])
        )
    with pytest.raises(PermissionDenied):
        env.records.cleaning.log(
            env["maint"],
            cleaning_entry(env.clock.now, ROOM, "maint"),
            signature=sign(env["maint"]),
        )
    [denied] = env.audit(action="permission_denied")
    assert (denied.username, denied.record_type, denied.record_id) == (
        "maint",
        "cleaning_record",
        ROOM,
    )


def test_a_second_person_verifies(env: Env) -> None:
    cleaning = env.records.cleaning
    logged = env.log_cleaning("op1", ROOM)
    assert logged.performed_by == "op1" and not logged.verified
    with pytest.raises(RuleViolation, match="a second person must verify it"):
        cleaning.verify(env["op1"], logged.id, signature=sign(env["op1"]))
    verified = cleaning.verify(env["op2"], logged.id, signature=sign(env["op2"]))
    assert (verified.verified_by, verified.verified_at) == ("op2", env.clock.now)
    assert [(s.manifest.username, s.manifest.meaning, s.matches) for s in verified.signatures] == [
        ("op1", SignatureMeaning.PERFORMED, True),
        ("op2", SignatureMeaning.VERIFIED, True),
    ]
    with pytest.raises(RuleViolation, match="already verified by op2"):
        cleaning.verify(env["qa1"], logged.id, signature=sign(env["qa1"]))
    [verification] = env.audit(record_type="cleaning_verification")
    assert (verification.username, verification.action) == ("op2", "create")


def test_a_correction_is_a_new_signed_version_and_the_original_stays(env: Env) -> None:
    cleaning = env.records.cleaning
    logged = env.log_cleaning("op1", ROOM)
    cleaning.verify(env["op2"], logged.id, signature=sign(env["op2"]))
    fixed = replace(logged.entry(), agent_lot="LOT-0043")
    with pytest.raises(RuleViolation, match="a reason is required"):
        cleaning.correct(env["op1"], logged.id, fixed, reason="", signature=sign(env["op1"]))
    with pytest.raises(RuleViolation, match="changes nothing"):
        cleaning.correct(
            env["op1"], logged.id, logged.entry(), reason="typo", signature=sign(env["op1"])
        )
    corrected = cleaning.correct(
        env["op1"], logged.id, fixed, reason="lot number typo", signature=sign(env["op1"])
    )
    assert (corrected.supersedes_id, corrected.agent_lot, corrected.reason) == (
        logged.id,
        "LOT-0043",
        "lot number typo",
    )
    assert not corrected.verified  # the new content needs its own verification
    assert [s.manifest.meaning for s in corrected.signatures] == [SignatureMeaning.CORRECTED]

    history = cleaning.history(logged.id)
    assert [v.id for v in history] == [logged.id, corrected.id]
    assert history[0].agent_lot == "LOT-0042" and not history[0].current
    assert history[0].superseded_by_id == corrected.id and history[0].verified
    assert [v.id for v in cleaning.list()] == [corrected.id]
    assert {v.id for v in cleaning.list(include_superseded=True)} == {logged.id, corrected.id}

    [entry] = env.audit(action="correct")
    assert (
        entry.username,
        entry.record_id,
        entry.field,
        entry.old_value,
        entry.new_value,
        entry.reason,
    ) == ("op1", str(corrected.id), "agent_lot", "LOT-0042", "LOT-0043", "lot number typo")
    with pytest.raises(RuleViolation, match="correct the newest version"):
        cleaning.correct(
            env["op1"],
            logged.id,
            replace(fixed, agent_lot="LOT-9"),
            reason="again",
            signature=sign(env["op1"]),
        )
    with pytest.raises(RuleViolation, match="verify the newest version"):
        cleaning.verify(env["qa1"], logged.id, signature=sign(env["qa1"]))


def test_sporicidal_clean_overdue_per_room(engine: Engine) -> None:
    clock = FakeClock()
    records = Records(
        engine,
        site=SITE,
        clock=clock,
        password_policy=FAST_POLICY,
        sporicidal_rotation={"B-01": timedelta(days=7), "B-02": timedelta(days=3)},
    )
    env = Env(records=records, clock=clock, blockers=FakeBlockers(), engine=engine)
    env.log_cleaning("op1", "B-01")
    routine = replace(cleaning_entry(clock.now, "B-02", "op1"), cleaning_type=CleaningType.ROUTINE)
    records.cleaning.log(env["op1"], routine, signature=sign(env["op1"]))
    assert records.cleaning.sporicidal_overdue() == {"B-02": None}
    clock.advance(days=9)
    assert records.cleaning.sporicidal_overdue() == {"B-01": 3, "B-02": None}


def test_the_default_rotation_covers_every_classified_room(env: Env) -> None:
    overdue = env.records.cleaning.sporicidal_overdue()
    assert set(overdue) == {s.id for s in SITE.spaces if s.grade.value != "CNC"}
    assert set(overdue.values()) == {None}
