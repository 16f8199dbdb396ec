"""The pollers against the facility simulator over real Modbus TCP on loopback."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import pytest

from hal.points import Access, LinkState, Quality, Quantity, Sample, Table
from hal.poller import Backoff
from hal.sim.server import Simulator
from necstgen_desk.runtime import Facility
from necstgen_desk.simprocess import with_endpoints
from necstgen_desk.simulation import build_simulator
from necstgen_desk.site import DEFAULT_SITE_PATH, Site, load_site
from tests.waiting import wait_until

FAST_BACKOFF = Backoff(initial_s=0.1, factor=2.0, cap_s=0.8)


@dataclass
class Rig:
    site: Site
    sim: Simulator
    facility: Facility

    def quality(self, point_id: str) -> Quality | None:
        sample = self.facility.store.latest(point_id)
        return sample.quality if sample else None

    def sample(self, point_id: str) -> Sample:
        sample = self.facility.store.latest(point_id)
        assert sample is not None, point_id
        return sample

    def polled(self, plc_id: str) -> list[str]:
        return [p.id for p in self.site.plc_by_id[plc_id].points if p.access is Access.READ]

    def all_polled(self) -> list[str]:
        return [pid for plc in self.site.plcs for pid in self.polled(plc.id)]

    def all_in(self, plc_id: str, quality: Quality) -> bool:
        return all(self.quality(pid) is quality for pid in self.polled(plc_id))


def _fast_site(heartbeat_timeout_s: float = 3.0) -> Site:
    site = load_site(DEFAULT_SITE_PATH)
    plcs = tuple(
        replace(plc, scan_period_s=0.25, timeout_s=0.2, heartbeat_timeout_s=heartbeat_timeout_s)
        for plc in site.plcs
    )
    return replace(site, plcs=plcs)


@asynccontextmanager
async def _rig(speed: float, heartbeat_timeout_s: float = 3.0) -> AsyncIterator[Rig]:
    base = _fast_site(heartbeat_timeout_s)
    sim = build_simulator(base, speed=speed, free_ports=True, traffic_per_hour=0)
    await sim.start()
    site = with_endpoints(base, sim.endpoints)
    facility = Facility(site, backoff=FAST_BACKOFF)
    await facility.start()
    try:
        yield Rig(site, sim, facility)
    finally:
        await facility.stop()
        await sim.stop()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with _rig(speed=1.0) as r:
        yield r


@pytest.fixture
async def paused_rig() -> AsyncIterator[Rig]:
    """Physics paused: served values do not move, so they can be compared exactly."""
    async with _rig(speed=0.0, heartbeat_timeout_s=60.0) as r:
        yield r


async def test_one_scan_of_the_default_site_is_eight_requests(rig: Rig) -> None:
    assert rig.facility.requests_per_scan == 8


async def test_values_arrive_good_and_match_what_the_plc_serves(paused_rig: Rig) -> None:
    rig = paused_rig
    await wait_until(
        lambda: all(rig.quality(pid) is Quality.GOOD for pid in rig.all_polled()),
        10,
        "every point GOOD",
    )
    # ENV-1 sends float32 high word first, ENV-2 low word first: both must decode right.
    for point_id in ("B-01.dp", "B-05.dp", "B-05.t", "PAL-07.dp", "C-COR.p05", "QC-LAB.rh"):
        got = rig.sample(point_id).value
        assert isinstance(got, float)
        assert got == pytest.approx(rig.sim.expected_value(point_id), rel=1e-6), point_id
    assert rig.sample("PAL-07.dp").value < 0  # type: ignore[operator]  # the sink is negative
    assert rig.sample("PAL-01-IN.closed").value is True
    assert rig.sample("PAL-01.fault").value == 0
    for link in rig.facility.store.links:
        assert link.state is LinkState.UP


async def test_a_downed_plc_fails_alone_and_recovers(rig: Rig) -> None:
    await wait_until(
        lambda: all(rig.all_in(p.id, Quality.GOOD) for p in rig.site.plcs), 10, "all GOOD"
    )
    period = rig.site.plc_by_id["ENV-3"].scan_period_s
    await rig.sim.plc_down("ENV-3")
    took = await wait_until(lambda: rig.all_in("ENV-3", Quality.COMM_FAIL), 5, "ENV-3 COMM_FAIL")
    assert took <= 2 * period + 0.3  # within two scan periods (plus scheduling slack)
    assert "ENV-3" in rig.sample("C-01.dp").reason
    link = rig.facility.store.link("ENV-3")
    assert link is not None
    assert link.state is LinkState.DOWN
    # The others keep scanning GOOD meanwhile.
    scans_before = rig.facility.pollers["ENV-1"].scans
    await wait_until(
        lambda: rig.facility.pollers["ENV-1"].scans >= scans_before + 3, 5, "ENV-1 scanning"
    )
    for plc_id in ("ENV-1", "ENV-2", "DOOR-1"):
        assert rig.all_in(plc_id, Quality.GOOD), plc_id
    await rig.sim.plc_up("ENV-3")
    took = await wait_until(lambda: rig.all_in("ENV-3", Quality.GOOD), 5, "ENV-3 GOOD again")
    assert took <= FAST_BACKOFF.cap_s + 2 * period + 0.5
    link = rig.facility.store.link("ENV-3")
    assert link is not None
    assert link.state is LinkState.UP


@pytest.fixture
async def quick_heartbeat_rig() -> AsyncIterator[Rig]:
    async with _rig(speed=1.0, heartbeat_timeout_s=1.6) as r:
        yield r


async def test_frozen_heartbeat_makes_the_plc_stale(quick_heartbeat_rig: Rig) -> None:
    rig = quick_heartbeat_rig
    await wait_until(lambda: rig.all_in("ENV-1", Quality.GOOD), 10, "ENV-1 GOOD")
    rig.sim.freeze_heartbeat("ENV-1")
    await wait_until(lambda: rig.all_in("ENV-1", Quality.STALE), 6, "ENV-1 STALE")
    assert "heartbeat frozen" in rig.sample("B-01.dp").reason
    assert rig.all_in("ENV-2", Quality.GOOD)
    link = rig.facility.store.link("ENV-1")
    assert link is not None
    assert link.state is LinkState.UP  # the socket still answers
    rig.sim.freeze_heartbeat("ENV-1", frozen=False)
    await wait_until(lambda: rig.all_in("ENV-1", Quality.GOOD), 5, "ENV-1 GOOD again")


async def test_exception_response_is_bad_with_the_reason(rig: Rig) -> None:
    await wait_until(lambda: rig.all_in("ENV-2", Quality.GOOD), 10, "ENV-2 GOOD")
    rig.sim.exception_response("ENV-2", 2, table=Table.INPUT)
    inputs = [p.id for p in rig.site.plc_by_id["ENV-2"].points if p.table is Table.INPUT]
    await wait_until(
        lambda: all(rig.quality(pid) is Quality.BAD for pid in inputs), 5, "ENV-2 inputs BAD"
    )
    sample = rig.sample("B-06.t")
    assert sample.value is None
    assert "Modbus exception 2 (illegal data address)" in sample.reason
    assert rig.quality("ENV-2.heartbeat") is Quality.GOOD  # the other block is unharmed
    rig.sim.exception_response("ENV-2", None)
    await wait_until(lambda: rig.all_in("ENV-2", Quality.GOOD), 5, "ENV-2 GOOD again")


@pytest.mark.parametrize("raw", [math.nan, math.inf, -math.inf])
async def test_a_sensor_that_decodes_to_nan_or_inf_is_bad_never_a_number(
    rig: Rig, raw: float
) -> None:
    await wait_until(lambda: rig.quality("B-03.t") is Quality.GOOD, 10, "B-03.t GOOD")
    rig.sim.sensor_value("B-03.t", raw)
    await wait_until(lambda: rig.quality("B-03.t") is Quality.BAD, 5, "B-03.t BAD")
    sample = rig.sample("B-03.t")
    assert sample.value is None
    assert "decodes to" in sample.reason
    assert rig.quality("B-03.rh") is Quality.GOOD  # its neighbours in the block are fine


async def test_slow_answers_within_the_timeout_stay_good_beyond_it_fail(rig: Rig) -> None:
    await wait_until(lambda: rig.all_in("ENV-1", Quality.GOOD), 10, "ENV-1 GOOD")
    rig.sim.slow_responses("ENV-1", 0.05)
    scans = rig.facility.pollers["ENV-1"].scans
    await wait_until(lambda: rig.facility.pollers["ENV-1"].scans >= scans + 3, 5, "3 scans")
    assert rig.all_in("ENV-1", Quality.GOOD)
    rig.sim.slow_responses("ENV-1", 0.5)  # beyond the 0.2 s timeout
    await wait_until(lambda: rig.all_in("ENV-1", Quality.COMM_FAIL), 6, "ENV-1 COMM_FAIL")
    assert "no answer" in rig.sample("B-02.dp").reason
    rig.sim.slow_responses("ENV-1", 0.0)
    await wait_until(lambda: rig.all_in("ENV-1", Quality.GOOD), 6, "ENV-1 GOOD again")


async def test_door_opening_reaches_the_store(rig: Rig) -> None:
    await wait_until(lambda: rig.quality("PAL-02-OUT.closed") is Quality.GOOD, 10, "door GOOD")
    assert rig.sample("PAL-02-OUT.closed").value is True
    rig.sim.open_door("PAL-02-OUT")
    await wait_until(lambda: rig.sample("PAL-02-OUT.closed").value is False, 5, "door open")
    heartbeat = next(
        p.id for p in rig.site.plc_by_id["DOOR-1"].points if p.quantity is Quantity.HEARTBEAT
    )
    assert rig.quality(heartbeat) is Quality.GOOD
