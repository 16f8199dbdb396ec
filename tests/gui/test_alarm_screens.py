"""The alarm screens as people use them: banner, list, shelf, horn, interlocks, history.

Real widgets offscreen, the real services on a temporary SQLite file, the
engine on hand-made samples with a clock the test moves; every step is
clicked and typed, and the audit trail is read back.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QLabel, QLineEdit

from necstgen_desk.alarms.model import AlarmState, Priority
from necstgen_desk.records.roles import Role
from necstgen_desk.services import SignatureRequest
from tests.gui.alarm_support import LEAD, MAINT, AlarmHarness
from tests.gui.records_support import ADMIN, OPERATOR
from ui.alarm_list import AcknowledgeDialog, AlarmColumn, ShelveDialog, StateFilter
from ui.forms import ReasonDialog
from ui.horn import Horn
from ui.interlock_view import CommentDialog, ResetDialog

S = AlarmState
FAULT = "PAL-03/fault/forced_open"


def log_in_as(h: AlarmHarness, user: tuple[str, str, str], role: Role) -> None:
    h.create_first_admin()
    h.make_users((user, role))
    h.switch_to(user, first_time=True)


def list_text(h: AlarmHarness, alarm_id: str, column: AlarmColumn) -> str:
    model = h.alarms.model
    row = model.row_of(alarm_id)
    assert row is not None
    return str(model.data(model.index(row, column)))


def sounding_priority(horn: Horn) -> Priority | None:
    return horn.priority


def latch_forced_open(h: AlarmHarness) -> None:
    """PAL-03's inner door forced while the outer was open: fault 2, doors shut again."""
    h.feed("PAL-03-OUT.closed", False)
    h.feed("PAL-03-IN.closed", False)
    h.feed("PAL-03.fault", 2)
    h.feed("PAL-03-IN.closed", True)
    h.feed("PAL-03-OUT.closed", True)
    h.wait_state(FAULT, S.UNACKNOWLEDGED)


# ------------------------------------------------------------------ acknowledge


def test_an_operator_acknowledges_from_the_list_and_from_the_banner(
    alarm_harness: AlarmHarness,
) -> None:
    h = alarm_harness
    log_in_as(h, OPERATOR, Role.OPERATOR)
    h.feed("B-02.dp", 2.0)
    h.feed("C-01.rh", 58.0)
    h.settle()
    h.wait_listed("B-02.dp/action", "B-02.dp/alert", "C-01.rh/alert")
    assert list_text(h, "B-02.dp/action", AlarmColumn.PRIORITY) == "HIGH"
    assert list_text(h, "B-02.dp/action", AlarmColumn.STATE) == "UNACK"

    # Several at once from the list, with a comment (a blank one is refused).
    h.alarms.show_list()
    h.select_in_list("B-02.dp/action", "C-01.rh/alert")
    h.click(h.alarms.list.ack_button)
    dialog = h.dialog(AcknowledgeDialog)
    assert dialog.windowTitle() == "Acknowledge 2 alarms"
    h.click(dialog.ok_button)
    assert "Give a comment" in h.wait_message(dialog)
    h.type(dialog.comment, "porter left PAL-02 open; closed it")
    h.click(dialog.ok_button)
    h.wait_closed(dialog)
    h.wait_state("B-02.dp/action", S.ACKNOWLEDGED)
    assert h.state("C-01.rh/alert") is S.ACKNOWLEDGED
    assert h.state("B-02.dp/alert") is S.UNACKNOWLEDGED
    h.qtbot.waitUntil(
        lambda: list_text(h, "B-02.dp/action", AlarmColumn.STATE) == "ACK", timeout=5000
    )
    assert list_text(h, "B-02.dp/action", AlarmColumn.ACKNOWLEDGED).startswith("olga, ")

    # The one left, from the banner.
    banner = h.alarms.banner
    h.qtbot.waitUntil(
        lambda: [line.alarm_id for line in banner.shown_lines] == ["B-02.dp/alert"], timeout=5000
    )
    assert banner.count_labels[Priority.HIGH].text() == "▲ HIGH 1"
    assert banner.count_labels[Priority.MEDIUM].text() == "◆ MEDIUM 1"
    assert banner.count_labels[Priority.LOW].text() == "▼ LOW 1"  # humidity: an early warning
    line = next(item for item in banner.lines if item.line is not None)
    h.click(line.button)
    dialog = h.dialog(AcknowledgeDialog)
    h.type(dialog.comment, "same event")
    h.click(dialog.ok_button)
    h.wait_closed(dialog)
    h.wait_state("B-02.dp/alert", S.ACKNOWLEDGED)
    h.qtbot.waitUntil(banner.quiet.isVisible, timeout=5000)
    assert banner.shown_lines == []

    audit = [(a.username, a.action, a.record_id, a.reason) for a in h.audit(record_type="alarm")]
    assert audit == [
        ("olga", "acknowledge_alarm", "B-02.dp/action", "porter left PAL-02 open; closed it"),
        ("olga", "acknowledge_alarm", "C-01.rh/alert", "porter left PAL-02 open; closed it"),
        ("olga", "acknowledge_alarm", "B-02.dp/alert", "same event"),
    ]


# ------------------------------------------------------------------ shelve


def test_a_shift_lead_shelves_an_alarm_and_the_shelf_expires(alarm_harness: AlarmHarness) -> None:
    h = alarm_harness
    log_in_as(h, LEAD, Role.SHIFT_LEAD)
    alarm = "C-02.rh/alert"
    h.feed("C-02.rh", 58.0)
    h.settle()
    h.wait_listed(alarm)
    widget = h.alarms.list
    h.alarms.show_list()
    h.select_in_list(alarm)

    h.click(widget.shelve_button)
    ask = h.dialog(ShelveDialog)
    h.type(ask.reason, "humidifier under service until noon")
    h.pick(ask.duration, "15 min")
    h.click(ask.ok_button)
    signature = h.sign(LEAD, expect_user_id=True)
    h.wait_closed(signature)
    h.wait_state(alarm, S.SHELVED)
    shelved = h.engine.alarm(alarm)
    assert shelved.shelved_by == "lena" and shelved.shelve_reason.startswith("humidifier")

    # Hidden from the list and the banner, still counted.
    h.qtbot.waitUntil(lambda: widget.proxy.rowCount() == 0, timeout=5000)
    banner = h.alarms.banner
    h.qtbot.waitUntil(lambda: "Shelved 1" in banner.hidden_label.text(), timeout=5000)
    widget.set_state_filter(StateFilter.SHELVED)
    assert [a.id for a in widget.proxy.alarms()] == [alarm]
    assert "shelved until" in list_text(h, alarm, AlarmColumn.ALARM)

    # The shelf runs out by itself; the condition is still there.
    h.settle(16 * 60)
    h.wait_state(alarm, S.UNACKNOWLEDGED)
    h.wait_banner(alarm)
    h.qtbot.waitUntil(lambda: "Shelved 0" in banner.hidden_label.text(), timeout=5000)
    widget.set_state_filter(StateFilter.ATTEND)
    assert [a.id for a in widget.proxy.alarms()] == [alarm]

    # Shelved again (the password is enough now), and unshelved early with a comment.
    h.select_in_list(alarm)
    h.click(widget.shelve_button)
    ask = h.dialog(ShelveDialog)
    h.type(ask.reason, "humidifier still under service")
    h.click(ask.ok_button)
    h.wait_closed(h.sign(LEAD, expect_user_id=False))
    h.wait_state(alarm, S.SHELVED)
    widget.set_state_filter(StateFilter.SHELVED)
    h.select_in_list(alarm)
    h.click(widget.unshelve_button)
    reason = h.dialog(ReasonDialog)
    h.type(reason.reason, "service finished early")
    h.click(reason.ok_button)
    h.wait_state(alarm, S.UNACKNOWLEDGED)

    actions = [(a.action, a.username, a.reason) for a in h.audit(record_type="alarm")]
    assert actions == [
        ("shelve_alarm", "lena", "humidifier under service until noon"),
        ("shelve_alarm", "lena", "humidifier still under service"),
        ("unshelve_alarm", "lena", "service finished early"),
    ]


def test_an_operator_may_not_shelve(alarm_harness: AlarmHarness) -> None:
    h = alarm_harness
    log_in_as(h, OPERATOR, Role.OPERATOR)
    h.feed("C-02.rh", 58.0)
    h.settle()
    h.wait_listed("C-02.rh/alert")
    h.select_in_list("C-02.rh/alert")
    widget = h.alarms.list
    assert widget.ack_button.isEnabled()
    assert not widget.shelve_button.isEnabled()
    assert "Shift leads and QA" in widget.shelve_button.toolTip()


# ------------------------------------------------------------------ horn


def test_silencing_the_horn_does_not_acknowledge(alarm_harness: AlarmHarness) -> None:
    h = alarm_harness
    log_in_as(h, OPERATOR, Role.OPERATOR)
    horn = h.alarms.horn
    banner = h.alarms.banner
    assert not horn.sounding and not banner.silence_button.isEnabled()

    h.feed("B-02.dp", 2.0)
    h.settle()
    h.qtbot.waitUntil(lambda: horn.sounding, timeout=5000)
    assert horn.priority is Priority.HIGH and Priority.HIGH in h.sound.bursts
    assert banner.horn_label.text() == "♪ HORN SOUNDING"
    h.click(banner.silence_button)
    assert not horn.sounding and banner.horn_label.text() == "Horn quiet"
    assert h.state("B-02.dp/action") is S.UNACKNOWLEDGED  # still to be acknowledged
    h.wait_banner("B-02.dp/action")

    bursts = len(h.sound.bursts)
    h.feed("C-01.rh", 58.0)  # a new alarm sounds again
    h.settle()
    h.qtbot.waitUntil(lambda: horn.sounding, timeout=5000)
    assert len(h.sound.bursts) > bursts
    assert sounding_priority(horn) is Priority.LOW  # RH: an early warning

    # Nothing left to acknowledge: the horn stops by itself.
    h.alarms.show_list()
    h.select_in_list("B-02.dp/action", "B-02.dp/alert", "C-01.rh/alert")
    h.click(h.alarms.list.ack_button)
    dialog = h.dialog(AcknowledgeDialog)
    h.type(dialog.comment, "seen")
    h.click(dialog.ok_button)
    h.qtbot.waitUntil(lambda: not horn.sounding, timeout=5000)


# ------------------------------------------------------------------ interlocks


def test_only_maintenance_acknowledges_and_resets_an_interlock_fault(
    alarm_harness: AlarmHarness,
) -> None:
    h = alarm_harness
    h.create_first_admin()
    h.make_users((OPERATOR, Role.OPERATOR), (MAINT, Role.MAINTENANCE))
    h.switch_to(OPERATOR, first_time=True)
    latch_forced_open(h)

    # The operator: the banner sends the fault to the Interlocks view, where it is
    # not theirs to acknowledge; the list will not acknowledge it either.
    h.wait_banner(FAULT)
    banner = h.alarms.banner
    line = next(item for item in banner.lines if item.alarm is not None and item.alarm.id == FAULT)
    assert line.button.text() == "Interlock…"
    h.click(line.button)
    view = h.alarms.interlock_view
    assert view is not None
    h.qtbot.waitUntil(view.isVisible, timeout=5000)
    assert view.selected_airlock() == "PAL-03"
    assert "FAULT — unacknowledged" in view.detail.text()
    assert not view.ack_button.isEnabled() and view.ack_button.toolTip() == "Maintenance only"
    assert not view.reset_button.isEnabled()
    h.alarms.show_list()
    h.select_in_list(FAULT)
    h.click(h.alarms.list.ack_button)
    h.qtbot.waitUntil(lambda: "maintenance" in h.window.statusBar().currentMessage(), timeout=5000)
    assert not [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, AcknowledgeDialog) and w.isVisible()
    ]
    assert h.state(FAULT) is S.UNACKNOWLEDGED

    # Maintenance: comment, signature; then the reset, refused while a door is open.
    h.switch_to(MAINT, first_time=True)
    h.alarms.open_interlocks("PAL-03")
    view = h.alarms.interlock_view
    assert view is not None
    h.qtbot.waitUntil(view.ack_button.isEnabled, timeout=5000)
    h.click(view.ack_button)
    ask = h.dialog(CommentDialog)
    h.type(ask.comment, "door closer of PAL-03-IN replaced")
    h.click(ask.ok_button)
    h.wait_closed(h.sign(MAINT, expect_user_id=True))
    h.wait_state(FAULT, S.ACKNOWLEDGED)
    h.qtbot.waitUntil(view.reset_button.isEnabled, timeout=5000)
    h.qtbot.waitUntil(lambda: "mats" in view.history_model.column_texts("By"), timeout=5000)
    assert view.history_model.column_texts("Comment")[0] == "door closer of PAL-03-IN replaced"

    h.feed("PAL-03-IN.closed", False)  # someone in the airlock again
    h.qtbot.waitUntil(lambda: "PAL-03-IN is open" in view.detail.text(), timeout=5000)
    h.click(view.reset_button)
    reset = h.dialog(ResetDialog)
    explanation = reset.findChild(QLabel, "resetExplanation")
    assert isinstance(explanation, QLabel) and "reset coil" not in explanation.text()
    assert "coil" in explanation.text() and "only write" in explanation.text()
    h.type(reset.comment, "closer replaced and tested")
    h.click(reset.ok_button)
    assert "cause is still present" in h.wait_message(reset)
    assert h.coils.writes == []
    h.click(reset.cancel_button)
    h.wait_closed(reset)

    h.feed("PAL-03-IN.closed", True)
    h.coils.plc = lambda _plc, _address, _value: h.feed("PAL-03.fault", 0)  # the PLC clears it
    h.click(view.reset_button)
    reset = h.dialog(ResetDialog)
    h.type(reset.comment, "closer replaced and tested")
    h.click(reset.ok_button)
    h.wait_closed(reset)
    coil = h.engine.reset_coil("PAL-03")
    assert coil is not None and h.coils.writes == [(coil[0], coil[1], True)]
    h.qtbot.waitUntil(lambda: "is reset" in view.message.message, timeout=5000)
    h.wait_state(FAULT, S.NORMAL)
    h.qtbot.waitUntil(lambda: "✓ OK" in view.detail.text(), timeout=5000)

    steps = [
        (a.username, a.action, a.record_id)
        for a in h.audit()
        if a.record_type in ("alarm", "interlock")
    ]
    assert steps == [
        ("mats", "acknowledge_interlock_fault", FAULT),
        ("mats", "reset_interlock_refused", "PAL-03"),
        ("mats", "reset_interlock", "PAL-03"),
    ]


# ------------------------------------------------------------------ plan and history


def test_the_plan_carries_alarm_states_and_the_list_jumps_to_the_room(
    alarm_harness: AlarmHarness,
) -> None:
    h = alarm_harness
    log_in_as(h, OPERATOR, Role.OPERATOR)
    plan = h.window.plan
    assert plan.alarm_mark("B-02") is None
    h.feed("B-02.dp", 2.0)
    h.settle()
    h.qtbot.waitUntil(lambda: plan.alarm_mark("B-02") is not None, timeout=5000)
    mark = plan.alarm_mark("B-02")
    assert mark is not None
    assert (mark.priority, mark.unacknowledged, mark.count, mark.word) == (
        Priority.HIGH,
        True,
        2,
        "HIGH ×2",
    )
    assert mark.blinks and plan.space_item("B-02").badge.isVisible()

    # A door held open: the door carries the mark, its room too.
    h.feed("C-01-D.closed", False)
    h.settle()
    h.qtbot.waitUntil(lambda: plan.door_alarm("C-01-D") is not None, timeout=5000)
    door = plan.door_alarm("C-01-D")
    assert door is not None and door.priority is Priority.MEDIUM

    # Jump to the room from the list.
    h.alarms.show_list()
    h.select_in_list("B-02.dp/action")
    h.click(h.alarms.list.room_button)
    assert plan.focused_space == "B-02" and not plan.auto_fit

    # Back to normal: the marks go.
    h.feed("B-02.dp", 15.0)
    h.feed("C-01-D.closed", True)
    h.settle()
    h.qtbot.waitUntil(
        lambda: (m := plan.alarm_mark("B-02")) is not None and m.unacknowledged, timeout=5000
    )  # returned, still unacknowledged: still shown
    h.select_in_list("B-02.dp/action", "B-02.dp/alert")
    h.click(h.alarms.list.ack_button)
    dialog = h.dialog(AcknowledgeDialog)
    h.type(dialog.comment, "back to normal")
    h.click(dialog.ok_button)
    h.qtbot.waitUntil(lambda: plan.alarm_mark("B-02") is None, timeout=5000)
    assert not plan.space_item("B-02").badge.isVisible()


def test_the_alarm_history_filters_and_exports(alarm_harness: AlarmHarness, tmp_path: Path) -> None:
    h = alarm_harness
    log_in_as(h, OPERATOR, Role.OPERATOR)
    h.feed("C-01.rh", 58.0)
    h.settle()
    h.wait_listed("C-01.rh/alert")
    service = h.desk.alarm_service
    assert service is not None
    session = h.desk.session
    assert session is not None
    h.run(h.desk.worker.call(service.acknowledge, session, ["C-01.rh/alert"], "drift known"))

    h.alarms.history_action.trigger()
    window = h.alarms.history
    assert window is not None
    h.qtbot.waitUntil(lambda: window.model.rowCount() >= 1, timeout=5000)
    assert window.model.column_texts("Event")[0] == "acknowledge"  # newest first
    window.people_only.setChecked(True)
    h.click(window.apply_button)
    h.qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    assert window.model.column_texts("By") == ["olga"]
    assert window.model.column_texts("Comment") == ["drift known"]

    target = tmp_path / "alarms.csv"
    h.click(window.export_button)
    chooser = h.dialog(QFileDialog)
    name_field = chooser.findChild(QLineEdit, "fileNameEdit")
    assert isinstance(name_field, QLineEdit)
    assert name_field.text().startswith("alarm-history-")
    h.type(name_field, str(target))
    buttons = chooser.findChild(QDialogButtonBox, "buttonBox")
    assert isinstance(buttons, QDialogButtonBox)
    save = buttons.button(QDialogButtonBox.StandardButton.Save)
    assert save is not None
    h.click(save)
    h.qtbot.waitUntil(lambda: window.last_export == target, timeout=5000)
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["alarm_id"], r["event"], r["user"]) for r in rows] == [
        ("C-01.rh/alert", "acknowledge", "olga")
    ]
    exported = h.audit(record_type="alarm_journal")
    assert [(a.username, a.action) for a in exported] == [("olga", "export_csv")]
    assert not shiboken6.isValid(chooser) or not chooser.isVisible()


def test_the_audit_viewer_filters_alarm_and_interlock_actions_by_room(
    alarm_harness: AlarmHarness,
) -> None:
    h = alarm_harness
    h.create_first_admin()
    h.make_users((OPERATOR, Role.OPERATOR), (MAINT, Role.MAINTENANCE))
    service = h.desk.alarm_service
    assert service is not None

    def act(call: Callable[..., object], *args: object) -> None:
        """A use case as the logged-in person (the screens for it are tested above)."""
        session = h.desk.session
        assert session is not None
        h.run(h.desk.worker.call(call, session, *args))

    h.switch_to(OPERATOR, first_time=True)
    h.feed("B-02.dp", 2.0)
    h.feed("C-01.rh", 58.0)
    h.settle()
    h.wait_listed("B-02.dp/action", "C-01.rh/alert")
    act(service.acknowledge, ["B-02.dp/action", "C-01.rh/alert"], "seen")
    latch_forced_open(h)
    h.switch_to(MAINT, first_time=True)
    signature = SignatureRequest(password=MAINT[2], username=MAINT[0])
    act(service.acknowledge_interlock_fault, "PAL-03", "closer replaced", signature)
    h.wait_state(FAULT, S.ACKNOWLEDGED)

    h.switch_to(ADMIN)
    viewer = h.open_audit_viewer()

    def shown(room: str) -> list[tuple[str, str, str]]:
        h.pick(viewer.room, room)
        h.apply_audit_filters(viewer)
        columns = ("Record type", "Action", "Record")
        return list(zip(*(viewer.model.column_texts(c) for c in columns), strict=True))

    assert shown("B-02") == [("Alarm", "acknowledge_alarm", "B-02.dp/action")]
    assert shown("C-01") == [("Alarm", "acknowledge_alarm", "C-01.rh/alert")]
    airlock = shown("PAL-03")  # newest first: the acknowledgement, then its signature
    assert [(t, a) for t, a, _r in airlock] == [
        ("Alarm", "acknowledge_interlock_fault"),
        ("Signature", "sign"),
    ]
    assert airlock[0][2] == FAULT
    assert shown("B-03") == []  # the room behind the airlock
