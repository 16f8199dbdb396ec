"""The room lifecycle through the service: the facts come from the database."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from necstgen_desk.records.lifecycle import RoomAction, RoomStatus
from necstgen_desk.services import (
    NotFound,
    PermissionDenied,
    RecordChange,
    Records,
    RuleViolation,
    SignatureError,
    SignatureMeaning,
    SignatureRequest,
    UserSession,
)
from necstgen_desk.storage.engine import make_engine
from necstgen_desk.storage.models import RoomStatusEntry
from tests.integration.services.helpers import FAST_POLICY, PASSWORD, SITE, Env, sign

A = RoomAction
S = RoomStatus
ROOM = "B-01"


def test_rooms_never_logged_are_to_be_cleaned_and_say_so(env: Env) -> None:
    views = env.records.rooms.all_current()
    assert list(views) == [space.id for space in SITE.spaces]
    assert len(views) == 21
    for view in views.values():
        assert view.status is S.TO_BE_CLEANED
        assert view.never_logged and view.since is None and view.by is None
    assert views["B-01"].grade == "B" and views["QC-LAB"].grade == "CNC"


def test_the_main_path_with_the_right_signatures(env: Env) -> None:
    rooms = env.records.rooms
    env.change("op1", ROOM, A.START_CLEANING)
    env.clock.advance(minutes=45)
    cleaning = env.log_cleaning("op1", ROOM)
    verified = env.records.cleaning.verify(env["op2"], cleaning.id, signature=sign(env["op2"]))
    assert [s.manifest.meaning for s in verified.signatures] == [
        SignatureMeaning.PERFORMED,
        SignatureMeaning.VERIFIED,
    ]
    assert (
        rooms.change(env["op1"], ROOM, A.FINISH_CLEANING, reason="cleaning done").status
        is S.CLEANED
    )
    released = rooms.change(
        env["qa1"], ROOM, A.RELEASE, reason="clean and verified", signature=sign(env["qa1"])
    )
    assert released.status is S.RELEASED
    assert released.since is not None
    assert released.hold_expires_at == released.since + timedelta(hours=72)
    [signature] = released.signatures
    assert signature.matches
    assert signature.manifest.meaning is SignatureMeaning.RELEASED
    assert signature.manifest.username == "qa1"
    assert signature.manifest.printed_name == "Qa1 Person"
    assert signature.manifest.record_type == RoomStatusEntry.RECORD_TYPE
    assert signature.manifest.record_id == str(released.entry_id)

    running = rooms.change(
        env["op1"],
        ROOM,
        A.START_OPERATION,
        reason="batch start",
        product="CAR-T 19",
        batch="B-2611",
    )
    assert (running.status, running.product, running.batch) == (
        S.IN_OPERATION,
        "CAR-T 19",
        "B-2611",
    )
    assert running.signatures == () and running.cleanup_ends_at is None
    env.clock.advance(hours=3)
    ended = rooms.change(env["op1"], ROOM, A.END_OPERATION, reason="batch done")
    assert ended.status is S.TO_BE_CLEANED and not ended.never_logged
    assert ended.since is not None
    assert ended.cleanup_ends_at == ended.since + timedelta(minutes=20)

    history = rooms.history(ROOM)
    assert [v.status for v in history] == [
        S.TO_BE_CLEANED,
        S.IN_OPERATION,
        S.RELEASED,
        S.CLEANED,
        S.CLEANING,
    ]
    assert [len(v.signatures) for v in history] == [0, 0, 1, 0, 0]
    assert rooms.current(ROOM) == ended
    assert env.records.audit.verify().ok


# (state the room is brought to, action, who) -> new status, or the error and a
# part of its message.
CASES = [
    (S.TO_BE_CLEANED, A.START_CLEANING, "op1", S.CLEANING, None),
    (S.TO_BE_CLEANED, A.START_CLEANING, "admin", PermissionDenied, "may not change a room"),
    (S.TO_BE_CLEANED, A.START_OPERATION, "op1", RuleViolation, "only from: Released"),
    (S.TO_BE_CLEANED, A.RELEASE, "qa2", RuleViolation, "while the room is To be cleaned"),
    (S.CLEANING, A.FINISH_CLEANING, "op1", RuleViolation, "no verified cleaning record"),
    (S.CLEANED, A.RELEASE, "op2", PermissionDenied, "only QA may"),
    (S.CLEANED, A.RELEASE, "lead", PermissionDenied, "only QA may"),
    (S.CLEANED, A.RELEASE, "qa2", S.RELEASED, None),
    (S.RELEASED, A.START_OPERATION, "op1", RuleViolation, "operation needs the product"),
    (S.RELEASED, A.HOLD_TIME_EXPIRED, "qa1", RuleViolation, "by the system only"),
    (S.IN_OPERATION, A.END_OPERATION, "op2", S.TO_BE_CLEANED, None),
    (S.IN_OPERATION, A.START_CLEANING, "op1", RuleViolation, "only from: To be cleaned"),
    (S.IN_OPERATION, A.START_MAINTENANCE, "op1", PermissionDenied, "may not put a room"),
    (S.IN_OPERATION, A.START_MAINTENANCE, "maint", S.MAINTENANCE, None),
    (S.CLEANED, A.TAKE_OUT_OF_SERVICE, "lead", S.OUT_OF_SERVICE, None),
]


@pytest.mark.parametrize(
    ("state", "action", "who", "expected", "message"),
    CASES,
    ids=[f"{c[0].value}-{c[1].value}-{c[2]}" for c in CASES],
)
def test_lifecycle_table(
    env: Env,
    state: RoomStatus,
    action: RoomAction,
    who: str,
    expected: RoomStatus | type[Exception],
    message: str | None,
) -> None:
    env.bring_to(ROOM, state)
    before = env.records.rooms.current(ROOM)
    assert before.status is state
    if isinstance(expected, RoomStatus):
        assert env.change(who, ROOM, action).status is expected
        return
    with pytest.raises(expected) as raised:
        env.change(who, ROOM, action)
    assert message is not None and message in str(raised.value)
    assert env.records.rooms.current(ROOM) == before
    if expected is PermissionDenied:
        denied = env.audit(action="permission_denied")
        assert [(e.username, e.record_type, e.record_id) for e in denied] == [
            (who, "room_status_entry", ROOM)
        ]
        assert action.display_name.lower() in denied[0].reason


@pytest.mark.parametrize(
    ("performer", "verifier", "marker", "releaser", "message"),
    [
        ("qa1", "op2", "op1", "qa1", "qa1 performed the cleaning"),
        ("op1", "qa1", "op1", "qa1", "qa1 verified the cleaning"),
        ("op1", "op2", "qa1", "qa1", "qa1 marked the room cleaned"),
    ],
)
def test_release_needs_a_second_person(
    env: Env, performer: str, verifier: str, marker: str, releaser: str, message: str
) -> None:
    env.bring_to(ROOM, S.CLEANED, performer=performer, verifier=verifier, marker=marker)
    with pytest.raises(RuleViolation, match=message):
        env.change(releaser, ROOM, A.RELEASE)
    assert env.change("qa2", ROOM, A.RELEASE).status is S.RELEASED


def test_an_active_blocker_stops_the_release(env: Env) -> None:
    env.bring_to(ROOM, S.CLEANED)
    env.blockers.active[ROOM] = ["action-level alarm: B-01 particles ≥0.5 µm"]
    with pytest.raises(RuleViolation) as raised:
        env.change("qa1", ROOM, A.RELEASE)
    assert raised.value.reasons == ("release blocked: action-level alarm: B-01 particles ≥0.5 µm",)
    env.blockers.active.clear()
    assert env.change("qa1", ROOM, A.RELEASE).status is S.RELEASED


def test_release_needs_the_signature_and_a_reason(env: Env) -> None:
    env.bring_to(ROOM, S.CLEANED)
    rooms, qa = env.records.rooms, env["qa1"]
    with pytest.raises(SignatureError, match="sign electronically"):
        rooms.change(qa, ROOM, A.RELEASE, reason="ok")
    with pytest.raises(SignatureError, match="password is not correct"):
        rooms.change(qa, ROOM, A.RELEASE, reason="ok", signature=SignatureRequest("wrong!", "qa1"))
    with pytest.raises(RuleViolation, match="a reason is required"):
        rooms.change(qa, ROOM, A.RELEASE, reason="  ", signature=sign(qa))
    assert rooms.current(ROOM).status is S.CLEANED
    [failed] = env.audit(action="signature_failed")
    assert (failed.username, failed.record_id) == ("qa1", ROOM)
    assert "release" in failed.reason and "password is not correct" in failed.reason
    assert rooms.change(qa, ROOM, A.RELEASE, reason="ok", signature=sign(qa)).status is S.RELEASED


def test_the_clean_hold_returns_a_released_room_to_be_cleaned(env: Env) -> None:
    env.bring_to(ROOM, S.RELEASED)
    released = env.records.rooms.current(ROOM)
    assert released.hold_expires_at is not None
    env.clock.now = released.hold_expires_at - timedelta(seconds=1)
    assert env.records.rooms.expire_holds() == []
    env.clock.now = released.hold_expires_at
    with pytest.raises(RuleViolation, match="clean hold time has expired"):
        env.change("op1", ROOM, A.START_OPERATION, product="P", batch="B")
    assert env.records.rooms.expire_holds() == [ROOM]
    after = env.records.rooms.current(ROOM)
    assert (after.status, after.by) == (S.TO_BE_CLEANED, "system")
    assert after.reason is not None and "clean hold time (72 h)" in after.reason
    [entry] = env.audit(username="system")
    assert (entry.action, entry.record_type) == ("create", "room_status_entry")
    assert env.records.rooms.expire_holds() == []


def test_maintenance_and_out_of_service_lead_back_to_cleaning(env: Env) -> None:
    env.bring_to(ROOM, S.RELEASED)
    assert env.change("maint", ROOM, A.START_MAINTENANCE).status is S.MAINTENANCE
    assert env.change("maint", ROOM, A.END_MAINTENANCE).status is S.TO_BE_CLEANED
    assert env.change("qa1", ROOM, A.TAKE_OUT_OF_SERVICE).status is S.OUT_OF_SERVICE
    assert env.change("lead", ROOM, A.RETURN_TO_SERVICE).status is S.TO_BE_CLEANED


def test_allowed_actions_follow_state_and_role(env: Env) -> None:
    rooms = env.records.rooms
    assert rooms.allowed_actions(env["op1"], ROOM) == [A.START_CLEANING]
    assert rooms.allowed_actions(env["maint"], ROOM) == [
        A.START_MAINTENANCE,
        A.TAKE_OUT_OF_SERVICE,
    ]
    env.bring_to(ROOM, S.CLEANED)
    assert A.RELEASE in rooms.allowed_actions(env["qa1"], ROOM)
    assert A.RELEASE not in rooms.allowed_actions(env["op1"], ROOM)
    assert rooms.allowed_actions(env["admin"], ROOM) == []


def test_listeners_hear_of_each_commit_and_can_stop(env: Env) -> None:
    env["op1"]
    heard: list[RecordChange] = []
    stop = env.records.on_change(heard.append)
    view = env.change("op1", ROOM, A.START_CLEANING)
    assert heard == [RecordChange("room_status_entry", str(view.entry_id), ROOM)]
    stop()
    env.change("op1", "B-02", A.START_CLEANING)
    assert len(heard) == 1
    with pytest.raises(RuleViolation):
        env.change("op1", ROOM, A.START_CLEANING)  # refused: nothing committed, no news
    assert env.changes[-1].room_id == "B-02"


def test_an_unknown_room_is_named(env: Env) -> None:
    with pytest.raises(NotFound, match="'Z-99' is not a space"):
        env.records.rooms.change(env["op1"], "Z-99", A.START_CLEANING, reason="x")


def test_two_desks_releasing_at_once_release_once(env: Env, migrated_url: str) -> None:
    """Another PC on the same database: the checks and the write are one unit, so
    the second release sees the first and is refused."""
    env.bring_to(ROOM, S.CLEANED)
    env["qa2"]  # the account
    other_engine = make_engine(migrated_url)
    try:
        other = Records(other_engine, site=SITE, clock=env.clock, password_policy=FAST_POLICY)
        desks = [(env.records, env["qa1"]), (other, other.accounts.login("qa2", PASSWORD))]
        start = threading.Barrier(len(desks))
        outcomes: list[str] = []

        def release(records: Records, session: UserSession) -> None:
            start.wait()
            try:
                records.rooms.change(
                    session, ROOM, A.RELEASE, reason="ready", signature=sign(session)
                )
                outcomes.append("released")
            except RuleViolation as error:
                outcomes.append(str(error))

        threads = [threading.Thread(target=release, args=desk) for desk in desks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes)[-1] == "released"
        assert sorted(outcomes)[0].startswith(
            "Release of room B-01 refused: cannot release while the room is Released"
        )
        assert [v.status for v in env.records.rooms.history(ROOM)].count(S.RELEASED) == 1
    finally:
        other_engine.dispose()
