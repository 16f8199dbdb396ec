"""Gowning: Grade B entry needs a valid qualification; exits and corrections are versions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from necstgen_desk.records.gowning import QualificationStatus
from necstgen_desk.services import (
    GowningView,
    PermissionDenied,
    RuleViolation,
    SignatureMeaning,
)
from tests.integration.services.helpers import Env, sign

PERSON = "Jane Doe"


def _enter(env: Env, room: str, person: str = PERSON) -> GowningView:
    return env.records.gowning.log_entry(
        env["op1"], person=person, room_id=room, time_in=env.clock.now, garment_lot="GL-77"
    )


def test_grade_b_entry_needs_a_qualification_that_qa_records(env: Env) -> None:
    gowning = env.records.gowning
    with pytest.raises(RuleViolation) as refused:
        _enter(env, "B-01")
    assert refused.value.reasons == (
        "entry to a Grade B room needs a valid gowning qualification; this person's is missing",
    )
    corridor = gowning.log_entry(
        env["op1"], person=PERSON, room_id="C-COR", time_in=env.clock.now, garment_lot="GL-77"
    )
    assert (corridor.grade, corridor.qualification_status) == ("C", QualificationStatus.MISSING)

    with pytest.raises(PermissionDenied):
        gowning.record_qualification(
            env["lead"], PERSON, env.clock.now.date(), reason="passed", signature=sign(env["lead"])
        )
    [denied] = env.audit(action="permission_denied")
    assert (denied.username, denied.record_type, denied.record_id) == (
        "lead",
        "gowning_qualification",
        PERSON,
    )

    qualification = gowning.record_qualification(
        env["qa1"],
        PERSON,
        env.clock.now.date(),
        reason="gowning assessment passed",
        signature=sign(env["qa1"]),
    )
    assert qualification.status is QualificationStatus.QUALIFIED
    assert qualification.valid_until == env.clock.now.date().replace(year=2027)
    assert [(s.manifest.meaning, s.matches) for s in qualification.signatures] == [
        (SignatureMeaning.APPROVED, True)
    ]
    entered = gowning.log_entry(
        env["op1"],
        person="jane doe",  # names match regardless of case
        room_id="B-01",
        time_in=env.clock.now,
        garment_lot="GL-78",
    )
    assert entered.qualification_status is QualificationStatus.QUALIFIED
    assert entered.inside and entered.logged_by == "op1"
    [created] = env.audit(action="create", record_type="gowning_qualification")
    assert (created.username, created.reason) == ("qa1", "gowning assessment passed")


def test_a_qualification_expires_after_twelve_months(env: Env) -> None:
    qualified_on = env.clock.now.date()
    env.records.gowning.record_qualification(
        env["qa1"], PERSON, qualified_on, reason="passed", signature=sign(env["qa1"])
    )
    env.clock.now = env.clock.now.replace(year=2027)  # the last valid day
    _enter(env, "B-02")
    env.clock.advance(days=1)
    with pytest.raises(RuleViolation, match="this person's is expired"):
        _enter(env, "B-02")
    expired = env.records.gowning.qualification(PERSON)
    assert expired is not None and expired.status is QualificationStatus.EXPIRED
    requalified = env.records.gowning.record_qualification(
        env["qa2"], PERSON, env.clock.now.date(), reason="requalified", signature=sign(env["qa2"])
    )
    assert requalified.supersedes_id is not None
    _enter(env, "B-02")
    changes = env.audit(action="requalify")
    assert {(e.field, e.old_value, e.new_value) for e in changes} == {
        ("qualified_on", "2026-11-26", "2027-11-27"),
        ("recorded_by", "qa1", "qa2"),
    }
    assert {(e.username, e.reason) for e in changes} == {("qa2", "requalified")}


def test_revoking_a_qualification_refuses_entry_again(env: Env) -> None:
    gowning = env.records.gowning
    gowning.record_qualification(
        env["qa1"], PERSON, env.clock.now.date(), reason="passed", signature=sign(env["qa1"])
    )
    revoked = gowning.revoke_qualification(
        env["qa1"], PERSON, reason="failed a glove print", signature=sign(env["qa1"])
    )
    assert revoked.revoked and revoked.status is QualificationStatus.MISSING
    with pytest.raises(RuleViolation, match="is missing"):
        _enter(env, "B-01")
    with pytest.raises(RuleViolation, match="no qualification to revoke"):
        gowning.revoke_qualification(env["qa1"], PERSON, reason="x", signature=sign(env["qa1"]))
    assert [q.person for q in gowning.qualifications()] == [PERSON]


def test_the_exit_is_a_new_version_with_time_out(env: Env) -> None:
    gowning = env.records.gowning
    entered = gowning.log_entry(
        env["op1"], person=PERSON, room_id="C-01", time_in=env.clock.now, garment_lot="GL-1"
    )
    with pytest.raises(RuleViolation, match="before time in"):
        gowning.log_exit(env["op1"], entered.id, time_out=env.clock.now - timedelta(hours=1))
    out_at = env.clock.advance(hours=2)
    left = gowning.log_exit(env["op2"], entered.id, time_out=out_at)
    assert (left.supersedes_id, left.time_out, left.logged_by) == (entered.id, out_at, "op2")
    assert not left.inside
    assert [v.id for v in gowning.list(room_id="C-01")] == [left.id]
    with pytest.raises(RuleViolation, match="has a newer version"):
        gowning.log_exit(env["op1"], entered.id, time_out=out_at)
    with pytest.raises(RuleViolation, match="already logged"):
        gowning.log_exit(env["op1"], left.id, time_out=out_at)
    exits = env.audit(action="log_exit")
    assert ("time_out", None, out_at.isoformat(timespec="microseconds")) in {
        (e.field, e.old_value, e.new_value) for e in exits
    }


def test_a_gowning_correction_is_signed_and_rechecked(env: Env) -> None:
    gowning = env.records.gowning
    entered = gowning.log_entry(
        env["op1"], person=PERSON, room_id="C-01", time_in=env.clock.now, garment_lot="GL-1"
    )
    with pytest.raises(RuleViolation, match="needs a valid gowning qualification"):
        gowning.correct(
            env["op1"], entered.id, reason="wrong room", signature=sign(env["op1"]), room_id="B-01"
        )
    fixed = gowning.correct(
        env["op1"], entered.id, reason="lot typo", signature=sign(env["op1"]), garment_lot="GL-2"
    )
    assert (fixed.garment_lot, fixed.supersedes_id, fixed.reason) == (
        "GL-2",
        entered.id,
        "lot typo",
    )
    assert [s.manifest.meaning for s in fixed.signatures] == [SignatureMeaning.CORRECTED]
