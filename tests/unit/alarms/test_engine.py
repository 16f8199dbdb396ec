"""The alarm engine with hand-made samples and a hand-driven clock (the default site)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from hal.points import LinkState, Quality
from necstgen_desk.alarms.engine import AlarmEngine, AlarmError, AlarmNotFound
from necstgen_desk.alarms.model import (
    AlarmEvent,
    AlarmKind,
    AlarmSnapshot,
    AlarmState,
    Occupancy,
    Priority,
)
from necstgen_desk.alarms.states import TransitionRefused
from necstgen_desk.records.lifecycle import RoomStatus
from necstgen_desk.site import AlarmSettings, Site
from tests.unit.alarms.harness import T0, Harness

S = AlarmState


@pytest.fixture
def h() -> Harness:
    return Harness()


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# ---------------------------------------------------------------- limits, delays, deadband


def test_on_delay_then_alert_then_action(h: Harness) -> None:
    # B-01.t: alert 19..23, action 18..24 °C, on 60 s, off 30 s, deadband 0.2
    h.feed("B-01.t", 23.5)
    h.advance(59)
    assert h.state("B-01.t/alert") is S.NORMAL
    h.advance(1)
    alarm = h.alarm("B-01.t/alert")
    assert alarm.state is S.UNACKNOWLEDGED and alarm.active
    assert alarm.priority is Priority.LOW  # climate alert
    assert "23.5 °C above 23.0 °C" in alarm.message
    assert alarm.raised_at == utc(T0 + 60)
    h.feed("B-01.t", 24.5)
    h.advance(60)
    assert h.alarm("B-01.t/action").priority is Priority.MEDIUM
    assert h.state("B-01.t/action") is S.UNACKNOWLEDGED


def test_a_condition_that_does_not_last_the_on_delay_raises_nothing(h: Harness) -> None:
    h.feed("B-01.t", 23.5)
    h.advance(50)
    h.feed("B-01.t", 22.0)  # back before the 60 s
    h.advance(5)
    h.feed("B-01.t", 23.5)  # the delay starts again
    h.advance(59)
    assert h.state("B-01.t/alert") is S.NORMAL
    h.advance(1)
    assert h.state("B-01.t/alert") is S.UNACKNOWLEDGED
    assert len(h.changes_of("B-01.t/alert")) == 1


def test_deadband_and_off_delay(h: Harness) -> None:
    h.feed("B-01.t", 23.5)
    h.advance(60)
    h.feed("B-01.t", 22.9)  # inside the limit but not by the 0.2 deadband
    h.advance(100)
    assert h.alarm("B-01.t/alert").active
    h.feed("B-01.t", 22.7)  # inside by more than the deadband: the off-delay runs
    h.advance(29)
    assert h.alarm("B-01.t/alert").active
    h.advance(1)
    alarm = h.alarm("B-01.t/alert")
    assert not alarm.active
    assert alarm.state is S.RETURNED_UNACKNOWLEDGED  # nobody acknowledged: it stays listed
    assert "B-01.t/alert" in h.listed()
    assert "back within limits" in alarm.message


def test_low_side_and_sink_limits(h: Harness) -> None:
    # PAL-07 is the sink: its differential is negative; limits -25 .. -5 (action)
    h.feed("PAL-07.dp", -2.0)
    h.advance(10)
    assert h.state("PAL-07.dp/action") is S.UNACKNOWLEDGED
    assert "above -5.0 Pa" in h.alarm("PAL-07.dp/action").message
    h.feed("B-02.dp", 8.0)  # below action_low 10
    h.advance(10)
    assert "8.0 Pa below 10.0 Pa" in h.alarm("B-02.dp/action").message


def test_a_value_that_is_not_good_holds_the_alarm_and_drops_pending_changes(h: Harness) -> None:
    h.feed("B-01.t", 23.5)
    h.advance(60)
    assert h.alarm("B-01.t/alert").active
    h.feed("B-01.t", 21.0)  # the off-delay starts...
    h.feed("B-01.t", 21.0, Quality.STALE)  # ...and is dropped: a stale value proves nothing
    h.advance(60)
    assert h.alarm("B-01.t/alert").active
    h.feed("B-01.t", None, Quality.COMM_FAIL)
    h.advance(60)
    assert h.alarm("B-01.t/alert").active
    assert h.state("B-01.t/point_bad") is S.NORMAL  # COMM_FAIL is the link's alarm


def test_bad_value_raises_the_points_own_alarm(h: Harness) -> None:
    h.feed("B-03.t", None, Quality.BAD)
    alarm = h.alarm("B-03.t/point_bad")
    assert alarm.state is S.UNACKNOWLEDGED
    assert alarm.priority is Priority.MEDIUM
    assert "test bad" in alarm.message
    h.feed("B-03.t", 21.0)
    assert h.state("B-03.t/point_bad") is S.RETURNED_UNACKNOWLEDGED


def test_site_priority_overrides_the_default() -> None:
    base = Harness().site
    point = base.point_by_id["B-01.t"]
    changed = replace(point, alarm=AlarmSettings(alert_priority=Priority.HIGH))
    site = replace(base, points=tuple(changed if p.id == "B-01.t" else p for p in base.points))
    h = Harness(site=site)
    assert h.alarm("B-01.t/alert").priority is Priority.HIGH
    assert h.alarm("B-01.t/action").priority is Priority.MEDIUM


# ---------------------------------------------------------------- differential hold-off


def test_a_dip_while_the_door_is_open_does_not_alarm_one_after_does(h: Harness) -> None:
    # B-01.dp: held off by PAL-01-IN (joins B-01 and PAL-01) and PAL-01-OUT; 15 s after closing
    h.feed_many({"PAL-01-IN.closed": True, "PAL-01-OUT.closed": True, "B-01.dp": 15.0})
    h.feed("PAL-01-IN.closed", False)
    for _ in range(30):  # the door stays open 30 s; the differential collapses
        h.feed("B-01.dp", 1.0)
        h.advance(1)
    h.feed("PAL-01-IN.closed", True)
    for _ in range(14):  # recovering within the hold-off
        h.feed("B-01.dp", 3.0)
        h.advance(1)
    assert h.state("B-01.dp/action") is S.NORMAL
    assert not h.changes_of("B-01.dp/action")
    h.feed("B-01.dp", 15.0)  # recovered
    h.advance(30)
    h.feed("B-01.dp", 2.0)  # a real dip, doors closed: the alarm follows its on-delay
    h.advance(9)
    assert h.state("B-01.dp/action") is S.NORMAL
    h.advance(1)
    alarm = h.alarm("B-01.dp/action")
    assert alarm.state is S.UNACKNOWLEDGED and alarm.priority is Priority.HIGH


def test_a_door_opening_cancels_a_pending_differential_alarm(h: Harness) -> None:
    h.feed_many({"PAL-01-IN.closed": True, "PAL-01-OUT.closed": True})
    h.feed("B-01.dp", 2.0)
    h.advance(5)  # half the on-delay
    h.feed("PAL-01-OUT.closed", False)  # an extra hold-off door of B-01.dp
    h.feed("B-01.dp", 2.0)
    h.advance(20)
    assert h.state("B-01.dp/action") is S.NORMAL


def test_a_differential_without_a_hold_off_alarms_whatever_the_doors(h: Harness) -> None:
    h.feed("C-01-D.closed", False)  # C-COR.dp has no hold-off door
    h.feed("C-COR.dp", 2.0)
    h.advance(10)
    assert h.state("C-COR.dp/action") is S.UNACKNOWLEDGED


def test_an_active_differential_alarm_clears_normally_while_a_door_is_open(h: Harness) -> None:
    h.feed_many({"PAL-02-IN.closed": True, "PAL-02-OUT.closed": True})
    h.feed("B-02.dp", 2.0)
    h.advance(10)
    assert h.alarm("B-02.dp/action").active
    h.feed("PAL-02-IN.closed", False)
    h.feed("B-02.dp", 15.0)
    h.advance(5)
    assert not h.alarm("B-02.dp/action").active


# ---------------------------------------------------------------- particles and occupancy


def test_particles_are_judged_by_the_rooms_occupancy(h: Harness) -> None:
    # B-01.p05 (Grade B): at rest alert 2,000 / action 3,520; in operation 200,000 / 352,000
    assert h.engine.occupancy("B-01") is Occupancy.AT_REST
    h.room("B-01", RoomStatus.IN_OPERATION)
    assert h.engine.occupancy("B-01") is Occupancy.IN_OPERATION
    h.feed("B-01.p05", 50_000.0)  # fine in operation
    h.advance(60)
    assert h.state("B-01.p05/alert") is S.NORMAL
    h.feed("B-01.p05", 400_000.0)  # above the in-operation action limit
    h.advance(30)
    alarm = h.alarm("B-01.p05/action")
    assert alarm.state is S.UNACKNOWLEDGED and alarm.priority is Priority.HIGH
    assert "400,000" in alarm.message and "352,000" in alarm.message


def test_clean_up_countdown_met_means_at_rest(h: Harness) -> None:
    h.room("B-01", RoomStatus.IN_OPERATION)
    h.feed_many({"B-01.p05": 100_000.0, "B-01.p5": 800.0})
    h.advance(600)
    h.room("B-01", RoomStatus.TO_BE_CLEANED)
    assert h.engine.cleanup_remaining() == {"B-01": 1200.0}
    assert h.engine.occupancy("B-01") is Occupancy.CLEAN_UP
    h.advance(600)
    h.feed_many({"B-01.p05": 1_500.0, "B-01.p5": 10.0})  # recovered in time
    assert h.engine.cleanup_remaining() == {"B-01": pytest.approx(600.0)}
    h.advance(600)
    assert h.engine.cleanup_remaining() == {}
    assert h.engine.occupancy("B-01") is Occupancy.AT_REST
    assert h.state("B-01/cleanup") is S.NORMAL
    h.feed("B-01.p05", 5_000.0)  # at-rest limits apply now
    h.advance(30)
    assert h.state("B-01.p05/action") is S.UNACKNOWLEDGED


def test_clean_up_not_met_raises_the_rooms_alarm_until_it_is(h: Harness) -> None:
    h.room("B-01", RoomStatus.IN_OPERATION)
    h.feed_many({"B-01.p05": 100_000.0, "B-01.p5": 800.0})
    h.room("B-01", RoomStatus.TO_BE_CLEANED)
    h.advance(1199)
    assert h.state("B-01/cleanup") is S.NORMAL
    h.advance(1)
    alarm = h.alarm("B-01/cleanup")
    assert alarm.state is S.UNACKNOWLEDGED
    assert alarm.priority is Priority.HIGH
    assert "particles ≥0.5 µm 100,000 above the at-rest action limit 3,520" in alarm.message
    assert "particles ≥5 µm 800.0 above the at-rest action limit 29.0" in alarm.message
    # Until the room has recovered it is judged by its in-operation limits: no duplicates.
    assert h.engine.occupancy("B-01") is Occupancy.CLEAN_UP
    h.advance(60)
    assert h.state("B-01.p05/action") is S.NORMAL
    assert h.engine.room_alarms("B-01")[0].id == "B-01/cleanup"
    h.feed("B-01.p05", 2_000.0)
    assert h.alarm("B-01/cleanup").active  # ≥5 µm still too high
    h.feed("B-01.p5", 12.0)
    assert not h.alarm("B-01/cleanup").active
    assert h.state("B-01/cleanup") is S.RETURNED_UNACKNOWLEDGED
    assert h.engine.occupancy("B-01") is Occupancy.AT_REST


def test_going_back_into_operation_ends_the_countdown(h: Harness) -> None:
    h.room("C-01", RoomStatus.IN_OPERATION)
    h.room("C-01", RoomStatus.TO_BE_CLEANED)
    h.advance(60)
    h.room("C-01", RoomStatus.IN_OPERATION)
    assert h.engine.cleanup_remaining() == {}
    assert h.engine.occupancy("C-01") is Occupancy.IN_OPERATION


def test_a_room_first_heard_of_at_rest_has_no_countdown(h: Harness) -> None:
    h.room("B-02", RoomStatus.RELEASED)
    assert h.engine.cleanup_remaining() == {}
    assert h.engine.occupancy("B-02") is Occupancy.AT_REST


# ---------------------------------------------------------------- suppression, shelving


def test_suppression_by_design_keeps_the_count_visible(h: Harness) -> None:
    h.feed("B-04.t", 25.0)
    h.advance(60)
    assert h.state("B-04.t/action") is S.UNACKNOWLEDGED
    h.room("B-04", RoomStatus.MAINTENANCE)
    assert h.state("B-04.t/action") is S.SUPPRESSED
    assert h.state("B-04.t/alert") is S.SUPPRESSED
    assert "B-04.t/action" not in h.listed()
    counts = h.engine.counts()
    assert counts.suppressed == 2  # alert and action, both active
    assert counts.listed == 0
    h.feed("B-04.dp", 2.0)  # a new condition while suppressed: recorded, not annunciated
    h.advance(10)
    assert h.alarm("B-04.dp/action").active
    assert h.state("B-04.dp/action") is S.SUPPRESSED
    assert h.engine.counts().suppressed == 4
    assert not any(c.annunciates for c in h.changes_of("B-04.dp/action"))
    h.feed("B-04.t", 21.0)
    h.advance(30)
    h.room("B-04", RoomStatus.TO_BE_CLEANED)  # maintenance over
    assert h.state("B-04.t/action") is S.NORMAL  # cleared meanwhile
    assert h.state("B-04.dp/action") is S.UNACKNOWLEDGED  # still there: shown now
    assert h.state("B-04.dp/point_bad") is S.NORMAL  # system alarms have no room


def test_shelving_is_limited_and_expires_by_itself(h: Harness) -> None:
    h.feed("B-05.rh", 58.0)
    h.advance(60)
    assert h.state("B-05.rh/alert") is S.UNACKNOWLEDGED
    with pytest.raises(AlarmError, match="at most 8 h"):
        h.engine.shelve(
            "B-05.rh/alert", by="lead", reason="sensor check", until=utc(h.now + 9 * 3600)
        )
    with pytest.raises(AlarmError, match="needs a reason"):
        h.engine.shelve("B-05.rh/alert", by="lead", reason=" ", until=utc(h.now + 60))
    change = h.engine.shelve(
        "B-05.rh/alert", by="lead", reason="humidifier service", until=utc(h.now + 3600)
    )
    assert change.event is AlarmEvent.SHELVE and change.by == "lead"
    alarm = h.alarm("B-05.rh/alert")
    assert alarm.state is S.SHELVED
    assert alarm.shelved_by == "lead" and alarm.shelve_reason == "humidifier service"
    assert h.engine.counts().shelved == 1
    assert "B-05.rh/alert" not in h.listed()
    h.advance(3599)
    assert h.state("B-05.rh/alert") is S.SHELVED
    h.advance(1)
    assert h.state("B-05.rh/alert") is S.UNACKNOWLEDGED  # still active: shown again
    expired = h.changes_of("B-05.rh/alert")[-1]
    assert expired.event is AlarmEvent.SHELF_EXPIRED and expired.by is None
    assert h.alarm("B-05.rh/alert").shelved_until is None


def test_unshelving_a_cleared_alarm_returns_it_to_normal(h: Harness) -> None:
    h.feed("B-05.rh", 58.0)
    h.advance(60)
    h.engine.shelve("B-05.rh/alert", by="lead", reason="service", until=utc(h.now + 600))
    h.feed("B-05.rh", 45.0)
    h.advance(30)
    assert h.state("B-05.rh/alert") is S.SHELVED
    h.engine.unshelve("B-05.rh/alert", by="lead", comment="done")
    assert h.state("B-05.rh/alert") is S.NORMAL
    with pytest.raises(TransitionRefused, match="not shelved"):
        h.engine.unshelve("B-05.rh/alert", by="lead")


def test_out_of_service_and_back(h: Harness) -> None:
    h.engine.remove_from_service("B-06.t/alert", by="tech", reason="probe replaced")
    h.feed("B-06.t", 23.5)
    h.advance(60)
    assert h.state("B-06.t/alert") is S.OUT_OF_SERVICE
    assert h.engine.counts().out_of_service == 1
    h.engine.return_to_service("B-06.t/alert", by="tech", reason="probe calibrated")
    assert h.state("B-06.t/alert") is S.UNACKNOWLEDGED


# ---------------------------------------------------------------- acknowledgement


def test_acknowledge(h: Harness) -> None:
    h.feed("B-07.dp", 2.0)
    h.advance(10)
    assert h.engine.counts().unacknowledged == 2  # the alert and the action level
    change = h.engine.acknowledge("B-07.dp/action", by="op1", comment="seen")
    assert change.old_state is S.UNACKNOWLEDGED and change.new_state is S.ACKNOWLEDGED
    alarm = h.alarm("B-07.dp/action")
    assert alarm.acknowledged_by == "op1" and alarm.acknowledged_at == utc(h.now)
    counts = h.engine.counts()
    assert (counts.unacknowledged, counts.high, counts.medium) == (1, 1, 1)
    with pytest.raises(TransitionRefused, match="already acknowledged"):
        h.engine.acknowledge("B-07.dp/action", by="op1")
    h.feed("B-07.dp", 25.0)  # B-07 (containment) sits at +25 Pa to its airlock
    h.advance(5)
    assert h.state("B-07.dp/action") is S.NORMAL  # acknowledged and cleared: gone
    with pytest.raises(AlarmNotFound, match="unknown alarm"):
        h.engine.acknowledge("nope", by="op1")


def test_changes_come_in_order_in_one_batch_per_call(h: Harness) -> None:
    batches: list[int] = []
    h.engine.on_change(lambda changes: batches.append(len(changes)))
    h.feed_many({"B-01.t": None, "B-02.t": None})  # type: ignore[dict-item]  # value unused
    h.engine.feed([])
    seqs = [c.seq for c in h.changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert all(n > 0 for n in batches)


def test_listener_failures_do_not_stop_the_engine(h: Harness) -> None:
    def broken(changes: object) -> None:
        raise RuntimeError("view crashed")

    h.engine.on_change(broken)
    h.feed("B-03.t", None, Quality.BAD)
    assert h.state("B-03.t/point_bad") is S.UNACKNOWLEDGED


def test_revert_undoes_an_unsaved_action(h: Harness) -> None:
    h.feed("B-07.dp", 2.0)
    h.advance(10)
    change = h.engine.acknowledge("B-07.dp/action", by="op1")
    assert h.engine.revert(change, "the database is full")
    alarm = h.alarm("B-07.dp/action")
    assert alarm.state is S.UNACKNOWLEDGED and alarm.acknowledged_by is None
    assert "undone: the database is full" in h.changes[-1].comment
    assert not h.engine.revert(change, "twice")


# ---------------------------------------------------------------- flood


def quiet_site() -> Site:
    """The default site without record-gap alarms (no samples arrive in these tests)."""
    site = Harness().site
    return replace(site, alarms=replace(site.alarms, gap_s=86_400))


def test_flood_starts_above_ten_ends_below_five_and_its_time_is_kept() -> None:
    h = Harness(site=quiet_site())
    points = [f"B-0{n}.t" for n in range(1, 9)] + [f"B-0{n}.rh" for n in range(1, 4)]
    for index, point in enumerate(points):  # 11 new alarms, one a second
        h.feed(point, None, Quality.BAD)
        if index < 10:
            h.advance(1)
    status = h.engine.flood()
    assert status.active and status.since == utc(T0 + 10)
    assert status.new_in_window == 11
    assert "Alarm flood" in status.banner
    assert [f.active for f in h.floods] == [True]
    h.advance(595, step=1)  # t = 605: 5 still in the window
    assert h.engine.flood().active
    h.advance(1)  # t = 606: 4 left
    status = h.engine.flood()
    assert not status.active
    assert [f.active for f in h.floods] == [True, False]
    assert status.total_s == pytest.approx(596.0)
    assert status.banner == ""


def test_ten_new_alarms_are_not_a_flood() -> None:
    h = Harness(site=quiet_site())
    for n in range(1, 9):
        h.feed(f"B-0{n}.t", None, Quality.BAD)
    h.feed("B-01.rh", None, Quality.BAD)
    h.feed("B-02.rh", None, Quality.BAD)
    assert not h.engine.flood().active


# ---------------------------------------------------------------- airlocks


def test_both_doors_open_and_held_open(h: Harness) -> None:
    h.feed_many({"PAL-03-OUT.closed": True, "PAL-03-IN.closed": True})
    h.feed("PAL-03-OUT.closed", False)
    h.feed("PAL-03-IN.closed", False)
    both = h.alarm("PAL-03/both_doors_open")
    assert both.state is S.UNACKNOWLEDGED and both.priority is Priority.HIGH
    h.feed("PAL-03-IN.closed", True)
    assert h.state("PAL-03/both_doors_open") is S.RETURNED_UNACKNOWLEDGED
    h.advance(59)
    assert h.state("PAL-03-OUT/door_held_open") is S.NORMAL
    h.advance(1)
    held = h.alarm("PAL-03-OUT/door_held_open")
    assert held.state is S.UNACKNOWLEDGED and held.priority is Priority.MEDIUM
    assert held.room == "PAL-03"


def test_a_warning_airlock_alarms_at_medium_priority(h: Harness) -> None:
    h.feed_many({"GOWN-C-OUT.closed": False, "GOWN-C-IN.closed": False})
    assert h.alarm("GOWN-C/both_doors_open").priority is Priority.MEDIUM


@pytest.mark.parametrize(
    ("code", "alarm_id", "title"),
    [
        (1, "PAL-04/fault/both_doors_open", "both doors open"),
        (2, "PAL-04/fault/forced_open", "door forced open while locked"),
        (3, "PAL-04/fault/held_open", "door held open too long"),
        (4, "PAL-04/fault/emergency_release", "emergency release"),
        (5, "PAL-04/fault/controller_fault", "controller fault"),
        (9, "PAL-04/fault/unknown", "unknown fault code"),
    ],
)
def test_every_fault_code_by_name(h: Harness, code: int, alarm_id: str, title: str) -> None:
    h.feed("PAL-04.fault", 0)
    assert not h.engine.interlock("PAL-04").latched
    h.feed("PAL-04.fault", code)
    alarm = h.alarm(alarm_id)
    assert alarm.state is S.UNACKNOWLEDGED
    assert alarm.priority is Priority.HIGH
    assert title in alarm.message
    status = h.engine.interlock("PAL-04")
    assert status.latched and status.fault_code == code
    assert [a.id for a in status.alarms] == [alarm_id]
    h.feed("PAL-04.fault", 0)  # reset by maintenance
    assert h.state(alarm_id) is S.RETURNED_UNACKNOWLEDGED


def test_interlock_status_and_the_visible_cause(h: Harness) -> None:
    status = h.engine.interlock("PAL-05")
    assert status.fault is None and "not known" in (status.cause_present or "")
    h.feed_many({"PAL-05-OUT.closed": False, "PAL-05-IN.closed": True, "PAL-05.fault": 3})
    status = h.engine.interlock("PAL-05")
    assert status.cause_present == "door PAL-05-OUT is open"
    assert status.fault_text == "door held open too long"
    assert not status.acknowledged
    changes = h.engine.acknowledge_interlock("PAL-05", by="tech", comment="door closer broken")
    assert [c.alarm_id for c in changes] == ["PAL-05/fault/held_open"]
    assert h.engine.interlock("PAL-05").acknowledged
    h.feed("PAL-05-OUT.closed", True)
    assert h.engine.interlock("PAL-05").cause_present is None
    assert h.engine.reset_coil("PAL-05") == ("DOOR-1", 4)
    with pytest.raises(AlarmError, match="no interlock fault to acknowledge"):
        h.engine.acknowledge_interlock("PAL-05", by="tech", comment="again")
    assert len(h.engine.interlocks()) == 9


# ---------------------------------------------------------------- system alarms


def test_link_lost_and_back(h: Harness) -> None:
    h.link("ENV-2", LinkState.CONNECTING)
    assert h.state("ENV-2/link_lost") is S.NORMAL
    h.link("ENV-2", LinkState.DOWN)
    alarm = h.alarm("ENV-2/link_lost")
    assert alarm.state is S.UNACKNOWLEDGED and alarm.priority is Priority.HIGH
    assert alarm.kind.is_system
    h.link("ENV-2", LinkState.UP)
    assert h.state("ENV-2/link_lost") is S.RETURNED_UNACKNOWLEDGED


def test_frozen_heartbeat(h: Harness) -> None:
    for beat in range(5):
        h.feed("ENV-3.heartbeat", beat)
        h.advance(1)
    for _ in range(3):  # the PLC answers, the counter stands still (timeout 3 s)
        h.feed("ENV-3.heartbeat", 4, Quality.STALE)
        h.advance(1)
    assert h.state("ENV-3/heartbeat_frozen") is S.NORMAL
    h.feed("ENV-3.heartbeat", 4, Quality.STALE)
    alarm = h.alarm("ENV-3/heartbeat_frozen")
    assert alarm.state is S.UNACKNOWLEDGED
    assert "at 4 for 4 s" in alarm.message
    h.feed("ENV-3.heartbeat", 5)
    assert not h.alarm("ENV-3/heartbeat_frozen").active


def test_a_time_lapse_watches_the_heartbeat_in_real_seconds() -> None:
    """At 60 plant seconds a real second, the 3 s heartbeat timeout (real time, like
    the link's) is 180 s on the engine's clock: a plant step of a few seconds
    between two reads of one value is not a frozen PLC (ADR 0006)."""
    h = Harness(time_lapse=60.0)
    h.feed("ENV-3.heartbeat", 1)
    h.advance(6)  # one real tenth of a second
    h.feed("ENV-3.heartbeat", 1)
    h.advance(170)
    h.feed("ENV-3.heartbeat", 1)
    assert h.state("ENV-3/heartbeat_frozen") is S.NORMAL
    h.advance(11)
    h.feed("ENV-3.heartbeat", 1, Quality.STALE)
    assert h.alarm("ENV-3/heartbeat_frozen").state is S.UNACKNOWLEDGED


def test_a_gap_in_a_critical_differential(h: Harness) -> None:
    h.advance(0)  # the engine starts counting
    h.feed("B-01.dp", 15.0)
    h.advance(30)
    assert h.state("B-01.dp/record_gap") is S.NORMAL
    h.advance(1)
    alarm = h.alarm("B-01.dp/record_gap")
    assert alarm.state is S.UNACKNOWLEDGED
    assert "no good value for 31 s" in alarm.message
    with pytest.raises(AlarmNotFound):  # C-01.dp is not a critical differential
        h.alarm("C-01.dp/record_gap")
    h.feed("B-01.dp", 15.0)
    assert not h.alarm("B-01.dp/record_gap").active


def test_audit_chain_alarm(h: Harness) -> None:
    alarm = h.engine.raise_system(AlarmKind.AUDIT_CHAIN, "audit", "broken at entry 12")
    assert alarm.state is S.UNACKNOWLEDGED and alarm.priority is Priority.HIGH
    assert alarm.message == "audit trail hash chain broken: broken at entry 12"
    cleared = h.engine.clear_system(AlarmKind.AUDIT_CHAIN, "audit")
    assert cleared.state is S.RETURNED_UNACKNOWLEDGED
    with pytest.raises(AlarmError, match="not a system alarm"):
        h.engine.raise_system(AlarmKind.LIMIT, "x", "y")
    other = h.engine.raise_system(AlarmKind.AUDIT_CHAIN, "archive", "second database")
    assert other.id == "archive/audit_chain"


# ---------------------------------------------------------------- restore


def _snapshot(alarm_id: str, state: AlarmState, active: bool, seq: int) -> AlarmSnapshot:
    h = Harness()
    d = h.engine.definitions[alarm_id]
    return AlarmSnapshot(
        alarm_id=alarm_id,
        kind=d.kind,
        source=d.source,
        priority=d.priority,
        room=d.room,
        state=state,
        active=active,
        seq=seq,
        at=utc(T0 - 100),
        message=d.title,
        raised_at=utc(T0 - 200),
    )


def test_restore_keeps_what_the_operator_has_not_seen(h: Harness) -> None:
    count = h.engine.restore(
        [
            _snapshot("B-08.dp/action", S.UNACKNOWLEDGED, True, 40),
            _snapshot("B-08.t/alert", S.ACKNOWLEDGED, True, 41),
            _snapshot("C-02.rh/alert", S.RETURNED_UNACKNOWLEDGED, False, 42),
        ],
        next_seq=57,
    )
    assert count == 3
    assert h.listed() == {"B-08.dp/action", "B-08.t/alert", "C-02.rh/alert"}
    assert h.alarm("B-08.dp/action").raised_at == utc(T0 - 200)
    h.feed_many({"B-08.dp": 25.0, "B-08.t": 21.0})
    h.advance(30)
    assert h.state("B-08.dp/action") is S.RETURNED_UNACKNOWLEDGED  # still to be seen
    assert h.state("B-08.t/alert") is S.NORMAL  # it had been acknowledged
    assert min(c.seq for c in h.changes) == 58  # the journal's order goes on


def test_restore_skips_alarms_the_site_no_longer_has(h: Harness) -> None:
    snap = _snapshot("B-08.t/alert", S.UNACKNOWLEDGED, True, 3)
    gone = replace(snap, alarm_id="X-99.t/alert")
    system = replace(
        snap, alarm_id="archive/audit_chain", kind=AlarmKind.AUDIT_CHAIN, source="archive"
    )
    assert h.engine.restore([gone, system]) == 1
    assert h.state("archive/audit_chain") is S.UNACKNOWLEDGED


def test_restored_shelf_still_expires(h: Harness) -> None:
    snap = replace(
        _snapshot("B-05.rh/alert", S.SHELVED, True, 9),
        shelved_by="lead",
        shelved_until=utc(T0 + 60),
        shelve_reason="service",
    )
    h.engine.restore([snap])
    assert h.alarm("B-05.rh/alert").shelved_by == "lead"
    h.advance(60)
    assert h.state("B-05.rh/alert") is S.UNACKNOWLEDGED


def test_unknown_room_is_refused() -> None:
    engine = AlarmEngine(Harness().site)
    with pytest.raises(AlarmNotFound, match="unknown room"):
        engine.set_room_status("Z-9", RoomStatus.MAINTENANCE, datetime.now(UTC))
    with pytest.raises(ValueError, match="time zone"):
        engine.set_room_status("B-01", RoomStatus.MAINTENANCE, datetime(2026, 1, 1))
