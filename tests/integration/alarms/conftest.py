"""The alarm engine on the facility: pollers against the simulator over loopback.

The site is the default one with fast scans and short alarm delays, and the
simulated plant runs four times real time (the pressure cascade recovers in
about a second after a door closes), with no random traffic: the tests move
the doors. Databases come from the storage tests' fixtures (SQLite, and
PostgreSQL where the server answers).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from hal.points import Quantity
from hal.poller import Backoff
from hal.sim.server import Simulator
from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.model import Alarm, AlarmChange, AlarmState
from necstgen_desk.runtime import Facility
from necstgen_desk.simprocess import with_endpoints
from necstgen_desk.simulation import build_simulator
from necstgen_desk.site import DEFAULT_SITE_PATH, Site, load_site
from tests.integration.storage.conftest import (  # the databases of the storage tests
    db_url,
    engine,
    migrated_url,
    pg_admin,
)
from tests.waiting import wait_until

__all__ = ["Rig", "db_url", "engine", "fast_site", "migrated_url", "pg_admin"]

FAST_BACKOFF = Backoff(initial_s=0.1, factor=2.0, cap_s=0.8)
SPEED = 4.0  # simulated seconds per real second


def fast_site(heartbeat_timeout_s: float = 60.0) -> Site:
    """The default site with 0.25 s scans and alarm delays cut to fractions of a second."""
    site = load_site(DEFAULT_SITE_PATH)
    plcs = tuple(
        replace(plc, scan_period_s=0.25, timeout_s=0.2, heartbeat_timeout_s=heartbeat_timeout_s)
        for plc in site.plcs
    )
    points = []
    for point in site.points:
        alarm = point.alarm
        if point.hal.quantity is Quantity.DIFFERENTIAL_PRESSURE:
            alarm = replace(
                alarm,
                on_delay_s=0.5,
                off_delay_s=0.25,
                door_holdoff_s=2.5 if alarm.door_holdoff_s else 0.0,
            )
        elif alarm.on_delay_s or alarm.off_delay_s:
            alarm = replace(alarm, on_delay_s=0.3, off_delay_s=0.3)
        points.append(replace(point, alarm=alarm))
    policy = replace(site.alarms, door_held_open_s=1.0, gap_s=5.0, cleanup_minutes=0.02)
    return replace(site, plcs=plcs, points=tuple(points), alarms=policy)


@dataclass
class Rig:
    site: Site
    sim: Simulator
    facility: Facility
    alarms: AlarmEngine
    changes: list[AlarmChange] = field(default_factory=list)

    def alarm(self, alarm_id: str) -> Alarm:
        return self.alarms.alarm(alarm_id)

    def state(self, alarm_id: str) -> AlarmState:
        return self.alarms.alarm(alarm_id).state

    async def until_state(self, alarm_id: str, state: AlarmState, limit_s: float = 10) -> float:
        return await wait_until(
            lambda: self.state(alarm_id) is state, limit_s, f"{alarm_id} {state.value}"
        )

    async def settled(self) -> None:
        """Every PLC scanned and every door known: the plant's normal state is in."""
        await wait_until(
            lambda: all(
                a.fault_code is not None and all(d.open is not None for d in a.doors)
                for a in self.alarms.interlocks()
            ),
            10,
            "every airlock known",
        )

    def raised(self) -> set[str]:
        return {c.alarm_id for c in self.changes if c.annunciates}


@contextlib.asynccontextmanager
async def running(
    site: Site, *, speed: float = SPEED, scenario: Path | None = None
) -> AsyncIterator[Rig]:
    sim = build_simulator(
        site, speed=speed, free_ports=True, traffic_per_hour=0, scenario_path=scenario
    )
    await sim.start()
    live = with_endpoints(site, sim.endpoints)
    facility = Facility(live, backoff=FAST_BACKOFF)
    alarms = AlarmEngine(live)
    rig = Rig(live, sim, facility, alarms)
    alarms.on_change(rig.changes.extend)
    detach = alarms.attach(facility.store)
    ticking = asyncio.create_task(alarms.run(0.05), name="alarm ticks")
    await facility.start()
    try:
        yield rig
    finally:
        ticking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticking
        detach()
        await facility.stop()
        await sim.stop()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with running(fast_site()) as r:
        await r.settled()
        yield r
