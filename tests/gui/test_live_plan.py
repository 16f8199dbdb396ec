"""The plan against the real thing: the facility simulator over Modbus TCP on loopback.

The simulator and the pollers run on one qasync loop that Qt drives while the
test waits (``qtbot.waitUntil``), as in the app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from hal.points import Quality
from hal.poller import Backoff
from hal.sim.server import Simulator
from necstgen_desk.runtime import Facility
from necstgen_desk.simprocess import with_endpoints
from necstgen_desk.simulation import build_simulator
from necstgen_desk.site import DEFAULT_SITE_PATH, Site, load_site
from ui.main_window import MainWindow
from ui.point_display import DoorState, ValueState

from .conftest import run_in_loop

FAST_BACKOFF = Backoff(initial_s=0.1, factor=2.0, cap_s=0.5)
WAIT_MS = 10_000


@dataclass
class Rig:
    site: Site
    sim: Simulator
    facility: Facility
    window: MainWindow
    loop: asyncio.AbstractEventLoop


def _fast_site() -> Site:
    site = load_site(DEFAULT_SITE_PATH)
    plcs = tuple(replace(plc, scan_period_s=0.25, timeout_s=0.2) for plc in site.plcs)
    return replace(site, plcs=plcs)


@pytest.fixture
def rig(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Rig]:
    base = _fast_site()
    sim = build_simulator(base, speed=1.0, free_ports=True, traffic_per_hour=0)
    run_in_loop(qtbot, qloop, sim.start())
    facility: Facility | None = None
    try:
        site = with_endpoints(base, sim.endpoints)
        facility = Facility(site, backoff=FAST_BACKOFF)
        settings = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
        window = MainWindow(site, facility.store, settings=settings)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        run_in_loop(qtbot, qloop, facility.start())
        yield Rig(site, sim, facility, window, qloop)
    finally:
        if facility is not None:
            run_in_loop(qtbot, qloop, facility.stop())
        run_in_loop(qtbot, qloop, sim.stop())


def _all_live(rig: Rig) -> bool:
    plan = rig.window.plan
    return (
        not plan.spaces_without_live_values()
        and all(v.is_live for v in plan.value_items)
        and all(d.state is not DoorState.UNKNOWN for d in plan.door_items)
    )


def test_every_space_shows_live_values(qtbot: QtBot, rig: Rig) -> None:
    qtbot.waitUntil(lambda: _all_live(rig), timeout=WAIT_MS)
    plan = rig.window.plan
    assert {s.space_id for s in plan.space_items} == {s.id for s in rig.site.spaces}
    # A quiet plant at its setpoints: nothing beyond an action limit, every door shut.
    assert all(v.state is not ValueState.ACTION for v in plan.value_items)
    assert all(d.state in (DoorState.CLOSED, DoorState.LOCKED) for d in plan.door_items)
    assert plan.value_item("B-01.dp").text.startswith("+1")  # about +15 Pa to PAL-01
    qtbot.waitUntil(
        lambda: all(i.link_state == "up" for i in rig.window.link_indicators.values()),
        timeout=WAIT_MS,
    )
    live, total = plan.live_count()
    assert live == total


def test_a_door_opened_in_the_plant_shows_open(qtbot: QtBot, rig: Rig) -> None:
    plan = rig.window.plan
    qtbot.waitUntil(lambda: plan.door_item("C-01-D").state is DoorState.CLOSED, timeout=WAIT_MS)
    assert rig.sim.open_door("C-01-D")
    qtbot.waitUntil(lambda: plan.door_item("C-01-D").state is DoorState.OPEN, timeout=WAIT_MS)
    rig.sim.close_door("C-01-D")
    qtbot.waitUntil(lambda: plan.door_item("C-01-D").state is DoorState.CLOSED, timeout=WAIT_MS)


def test_an_airlock_fault_shows_on_its_doors(qtbot: QtBot, rig: Rig) -> None:
    plan = rig.window.plan
    qtbot.waitUntil(lambda: _all_live(rig), timeout=WAIT_MS)
    rig.sim.latch_fault("PAL-04", 3)
    qtbot.waitUntil(lambda: plan.door_item("PAL-04-IN").state is DoorState.FAULT, timeout=WAIT_MS)
    assert plan.door_item("PAL-04-OUT").view.fault_label == "F3"


def test_a_downed_plc_greys_its_values(qtbot: QtBot, rig: Rig) -> None:
    plan = rig.window.plan
    qtbot.waitUntil(lambda: _all_live(rig), timeout=WAIT_MS)
    env2 = [
        p.id
        for p in rig.site.points
        if p.plc == "ENV-2" and p.id in {v.point_id for v in plan.value_items}
    ]
    run_in_loop(qtbot, rig.loop, rig.sim.plc_down("ENV-2"))
    qtbot.waitUntil(
        lambda: all(plan.value_item(pid).state is ValueState.COMM_FAIL for pid in env2),
        timeout=WAIT_MS,
    )
    assert all(plan.value_item(pid).tag == "COMM" for pid in env2)
    assert set(plan.spaces_without_live_values()) == {
        "B-05",
        "B-06",
        "B-07",
        "B-08",
        "PAL-05",
        "PAL-06",
        "PAL-07",
        "PAL-08",
    }
    qtbot.waitUntil(lambda: rig.window.link_indicators["ENV-2"].link_state == "down")
    assert plan.value_item("B-01.t").is_live  # the other PLCs carry on
    sample = rig.facility.store.latest("B-05.t")
    assert sample is not None and sample.quality is Quality.COMM_FAIL

    run_in_loop(qtbot, rig.loop, rig.sim.plc_up("ENV-2"))
    qtbot.waitUntil(lambda: _all_live(rig), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: rig.window.link_indicators["ENV-2"].link_state == "up")
