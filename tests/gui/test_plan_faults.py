"""Bad answers as the operator sees them: BAD with the reason, never a number.

The real simulator answers with a Modbus exception, or serves a float32 that
decodes to NaN or ±inf; the real pollers read it; the plan must show the
value as BAD, an em dash instead of a number, and the reason in the tooltip.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from hal.points import Table
from hal.poller import Backoff
from hal.sim.server import Simulator
from necstgen_desk.runtime import Facility
from necstgen_desk.simprocess import with_endpoints
from necstgen_desk.simulation import build_simulator
from necstgen_desk.site import Site
from ui.main_window import MainWindow
from ui.point_display import ValueState

from .conftest import run_in_loop

WAIT_MS = 10_000


@dataclass
class Rig:
    site: Site
    sim: Simulator
    window: MainWindow


@pytest.fixture
def rig(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, site: Site, tmp_path: Path
) -> Iterator[Rig]:
    fast = replace(
        site,
        plcs=tuple(replace(p, scan_period_s=0.25, timeout_s=0.2) for p in site.plcs),
    )
    sim = build_simulator(fast, speed=1.0, free_ports=True, traffic_per_hour=0)
    run_in_loop(qtbot, qloop, sim.start())
    facility: Facility | None = None
    try:
        live = with_endpoints(fast, sim.endpoints)
        facility = Facility(live, backoff=Backoff(initial_s=0.1, cap_s=0.5))
        settings = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
        window = MainWindow(live, facility.store, settings=settings)
        qtbot.addWidget(window)
        run_in_loop(qtbot, qloop, facility.start())
        plan = window.plan
        qtbot.waitUntil(lambda: all(v.is_live for v in plan.value_items), timeout=WAIT_MS)
        yield Rig(live, sim, window)
    finally:
        if facility is not None:
            run_in_loop(qtbot, qloop, facility.stop())
        run_in_loop(qtbot, qloop, sim.stop())


@pytest.mark.parametrize("code", [2, 4, 11])
def test_an_exception_answer_shows_bad_with_its_code(qtbot: QtBot, rig: Rig, code: int) -> None:
    plan = rig.window.plan
    rig.sim.exception_response("ENV-2", code, table=Table.INPUT)
    shown = [
        p.id
        for p in rig.site.points
        if p.plc == "ENV-2" and p.hal.table is Table.INPUT and p.id in plan_ids(rig)
    ]
    assert shown
    qtbot.waitUntil(
        lambda: all(plan.value_item(pid).state is ValueState.BAD for pid in shown),
        timeout=WAIT_MS,
    )
    for pid in shown:
        item = plan.value_item(pid)
        assert (item.tag, item.text) == ("BAD", "—"), pid
        assert f"Modbus exception {code} (" in item.toolTip()
    assert plan.value_item("B-01.t").is_live  # ENV-1 is untouched
    rig.sim.exception_response("ENV-2", None)
    qtbot.waitUntil(lambda: all(plan.value_item(pid).is_live for pid in shown), timeout=WAIT_MS)


@pytest.mark.parametrize("raw", [math.nan, math.inf, -math.inf], ids=["nan", "+inf", "-inf"])
def test_a_sensor_reading_nan_or_infinity_shows_bad(qtbot: QtBot, rig: Rig, raw: float) -> None:
    plan = rig.window.plan
    rig.sim.sensor_value("B-03.t", raw)
    item = plan.value_item("B-03.t")
    qtbot.waitUntil(lambda: item.state is ValueState.BAD, timeout=WAIT_MS)
    assert (item.tag, item.text) == ("BAD", "—")
    assert "decodes to" in item.toolTip()
    assert plan.value_item("B-03.rh").is_live  # its neighbour in the same read is fine
    rig.sim.sensor_value("B-03.t", None)
    qtbot.waitUntil(lambda: item.is_live, timeout=WAIT_MS)


def plan_ids(rig: Rig) -> set[str]:
    return {v.point_id for v in rig.window.plan.value_items}
