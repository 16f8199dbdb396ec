"""The alarms issue's acceptance from the GUI alone, and a restart.

1. The demo scenario (``resources/scenarios/pal03-cor-b05.toml``) plays on the
   in-process simulator at twenty times real time, polled over real Modbus
   TCP: exactly its alarms appear, with their priorities; an operator
   acknowledges theirs from the list and is refused the interlock fault;
   maintenance acknowledges it (signed) and resets it from the Interlocks
   view, the reset reaching the simulated PLC; the audit viewer shows each step.
2. A restart: what was not acknowledged comes back from the journal, and a
   tampered audit trail raises the audit-chain alarm in the banner.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

import resources
from hal.sim.server import Simulator
from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.model import AlarmChange, AlarmState, Priority
from necstgen_desk.records.roles import Role
from necstgen_desk.runtime import Facility
from necstgen_desk.simprocess import with_endpoints
from necstgen_desk.simulation import build_simulator
from tests.gui.alarm_support import MAINT, AlarmHarness, CoilRecorder, TravelClock
from tests.gui.records_support import ADMIN, FAST_POLICY, OPERATOR, QA, sqlite_url
from tests.integration.alarms.conftest import FAST_BACKOFF
from tests.integration.alarms.test_acceptance import EXPECTED, scenario_site
from ui.alarm_desk import AlarmDesk
from ui.alarm_list import AcknowledgeDialog
from ui.horn import Horn, SilentSound
from ui.interlock_view import CommentDialog, ResetDialog
from ui.main_window import MainWindow
from ui.records_desk import RecordsConfig, RecordsDesk

SCENARIO = resources.path("scenarios", "pal03-cor-b05.toml")
FAULT = "PAL-03/fault/forced_open"
S = AlarmState


@dataclass
class Plant:
    harness: AlarmHarness
    sim: Simulator
    facility: Facility
    raised: set[str]


@pytest.fixture
def plant(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Plant]:
    """The scenario's plant behind the whole desk: simulator, pollers, engine, records."""
    site = scenario_site()
    sim = build_simulator(
        site, speed=20.0, free_ports=True, traffic_per_hour=0, scenario_path=SCENARIO
    )
    task = qloop.create_task(sim.start())
    qtbot.waitUntil(task.done, timeout=10_000)
    task.result()
    live = with_endpoints(site, sim.endpoints)
    facility = Facility(live, backoff=FAST_BACKOFF)
    engine = AlarmEngine(live)
    raised: set[str] = set()

    def collect(changes: list[AlarmChange]) -> None:
        raised.update(c.alarm_id for c in changes if c.annunciates)

    engine.on_change(collect)
    settings = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    window = MainWindow(live, facility.store, settings=settings, remember_geometry=False)
    sound = SilentSound()
    alarms = AlarmDesk(window, engine, horn=Horn(sound))
    config = RecordsConfig(
        db_url=sqlite_url(tmp_path / "records.sqlite"), password_policy=FAST_POLICY
    )
    desk = RecordsDesk(window, live, config, alarms=alarms, coil_writer=facility)
    window.resize(1600, 900)
    window.show()
    h = AlarmHarness(
        qtbot,
        qloop,
        window,
        desk,
        site=live,
        store=facility.store,
        engine=engine,
        alarms=alarms,
        clock=TravelClock(),
        coils=CoilRecorder(),
        sound=sound,
    )
    assert h.run(desk.start())
    detach = engine.attach(facility.store)
    ticks = qloop.create_task(engine.run(0.05), name="alarm engine ticks")
    h.run(facility.start())
    try:
        yield Plant(h, sim, facility, raised)
    finally:
        h.run(desk.stop())
        h.run(alarms.stop())
        ticks.cancel()
        qtbot.waitUntil(ticks.done, timeout=5000)
        detach()
        h.run(facility.stop())
        h.run(sim.stop())
        window.close()
        window.deleteLater()


@pytest.mark.timeout(120)
def test_the_demo_scenario_is_worked_from_the_gui_with_the_right_roles(plant: Plant) -> None:
    h = plant.harness
    h.create_first_admin()
    h.make_users((OPERATOR, Role.OPERATOR), (MAINT, Role.MAINTENANCE))

    # Exactly the scenario's alarms, with their priorities.
    h.qtbot.waitUntil(lambda: plant.raised >= set(EXPECTED), timeout=30_000)
    h.qtbot.waitUntil(lambda: not h.engine.alarm("ENV-3/link_lost").active, timeout=15_000)
    assert plant.raised == set(EXPECTED)
    h.wait_listed(*EXPECTED)
    assert {a.id: a.priority for a in h.alarms.model.alarms} == EXPECTED
    banner = h.alarms.banner
    h.qtbot.waitUntil(lambda: banner.counts.listed == len(EXPECTED), timeout=5000)
    assert banner.count_labels[Priority.HIGH].text() == "▲ HIGH 4"
    assert banner.count_labels[Priority.MEDIUM].text() == "◆ MEDIUM 1"
    assert h.window.plan.alarm_mark("PAL-03") is not None
    assert h.window.plan.alarm_mark("B-05") is not None

    # The operator acknowledges theirs from the list; the fault is not theirs.
    h.switch_to(OPERATOR, first_time=True)
    h.alarms.show_list()
    operator_ids = [i for i in EXPECTED if i != FAULT]
    h.select_in_list(*operator_ids)
    h.click(h.alarms.list.ack_button)
    dialog = h.dialog(AcknowledgeDialog)
    h.type(dialog.comment, "seen; maintenance and QA informed")
    h.click(dialog.ok_button)
    h.wait_closed(dialog)
    h.qtbot.waitUntil(
        lambda: all(not h.engine.alarm(i).state.needs_acknowledgement for i in operator_ids),
        timeout=5000,
    )
    h.alarms.open_interlocks("PAL-03")
    operator_view = h.alarms.interlock_view
    assert operator_view is not None
    h.qtbot.waitUntil(lambda: operator_view.selected_airlock() == "PAL-03", timeout=5000)
    assert not operator_view.ack_button.isEnabled()
    assert not operator_view.reset_button.isEnabled()
    assert h.state(FAULT) is S.UNACKNOWLEDGED

    # Maintenance: acknowledge (signed), then reset; the simulated PLC clears the fault.
    h.switch_to(MAINT, first_time=True)
    h.alarms.open_interlocks("PAL-03")
    view = h.alarms.interlock_view
    assert view is not None
    h.qtbot.waitUntil(view.ack_button.isEnabled, timeout=5000)
    h.click(view.ack_button)
    ask = h.dialog(CommentDialog)
    h.type(ask.comment, "forced door checked, closer fine")
    h.click(ask.ok_button)
    h.wait_closed(h.sign(MAINT, expect_user_id=True))
    h.wait_state(FAULT, S.ACKNOWLEDGED)
    h.qtbot.waitUntil(view.reset_button.isEnabled, timeout=5000)
    assert plant.sim.expected_value("PAL-03.fault") == 2
    h.click(view.reset_button)
    reset = h.dialog(ResetDialog)
    h.type(reset.comment, "interlock checked after the forced door")
    h.click(reset.ok_button)
    h.wait_closed(reset, timeout=10_000)
    h.qtbot.waitUntil(lambda: "is reset" in view.message.message, timeout=5000)
    assert plant.sim.expected_value("PAL-03.fault") == 0
    h.wait_state(FAULT, S.NORMAL)

    # The audit viewer shows each step.
    h.switch_to(ADMIN)
    viewer = h.open_audit_viewer()
    rows = list(
        zip(
            viewer.model.column_texts("User"),
            viewer.model.column_texts("Action"),
            viewer.model.column_texts("Record"),
            viewer.model.column_texts("Record type"),
            strict=True,
        )
    )
    steps = [(u, a, r) for u, a, r, t in reversed(rows) if t in ("Alarm", "Interlock (airlock)")]
    operator_steps, maintenance_steps = steps[: len(operator_ids)], steps[len(operator_ids) :]
    assert sorted(operator_steps) == sorted(
        ("olga", "acknowledge_alarm", i) for i in operator_ids
    )  # in the order the list showed them
    assert maintenance_steps == [
        ("mats", "acknowledge_interlock_fault", FAULT),
        ("mats", "reset_interlock", "PAL-03"),
    ]
    signed = [(u, a) for u, a, _r, t in rows if t == "Signature"]
    assert ("mats", "sign") in signed


def test_a_restart_restores_unacknowledged_alarms_and_a_broken_chain_alarms(
    alarm_harness: AlarmHarness, tmp_path: Path
) -> None:
    h = alarm_harness
    h.create_first_admin()
    h.make_users((QA, Role.QA))
    h.feed("B-02.dp", 2.0)
    h.settle()
    h.wait_listed("B-02.dp/action")
    h.run(h.desk.stop())  # the journal writes its last batch
    h.run(h.alarms.stop())
    with sqlite3.connect(tmp_path / "records.sqlite") as connection:
        connection.execute("DROP TRIGGER audit_entries_no_update")
        connection.execute("UPDATE audit_entries SET reason = 'nothing to see' WHERE id = 1")
    connection.close()

    engine = AlarmEngine(h.site)  # the app starts again
    window = MainWindow(h.site, h.store, remember_geometry=False)
    alarms = AlarmDesk(window, engine, horn=Horn(SilentSound()))
    desk = RecordsDesk(window, h.site, h.desk.config, alarms=alarms)
    window.show()
    again = AlarmHarness(
        h.qtbot,
        h.loop,
        window,
        desk,
        site=h.site,
        store=h.store,
        engine=engine,
        alarms=alarms,
        clock=h.clock,
        coils=h.coils,
        sound=h.sound,
    )
    try:
        assert again.run(desk.start())
        assert engine.alarm("B-02.dp/action").state is S.UNACKNOWLEDGED  # restored
        again.wait_listed("B-02.dp/action", "audit/audit_chain")
        chain = engine.alarm("audit/audit_chain")
        assert chain.priority is Priority.HIGH and "BROKEN at audit entry 1" in chain.message
        assert "Audit trail BROKEN" in desk.cover.system_message.text()  # before log-in too
        assert not desk.system_bar.isVisible()  # the banner shows it, as an alarm

        again.log_in(QA, first_time=True)
        again.wait_banner("audit/audit_chain")
        line = next(i for i in alarms.banner.lines if i.alarm and i.alarm.id == "audit/audit_chain")
        again.click(line.button)
        dialog = again.dialog(AcknowledgeDialog)
        again.type(dialog.comment, "reported to QA; investigation opened")
        again.click(dialog.ok_button)
        again.wait_state("audit/audit_chain", S.ACKNOWLEDGED)
        entries = [(a.username, a.action, a.record_id) for a in again.audit(record_type="alarm")]
        assert entries == [("quinn", "acknowledge_alarm", "audit/audit_chain")]
    finally:
        again.run(desk.stop())
        again.run(alarms.stop())
        window.close()
        window.deleteLater()
