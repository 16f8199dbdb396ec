"""The pollers against a link that does everything a network can do wrong.

Five simulated PLCs sit behind fault-injecting proxies (:mod:`tests.faultproxy`),
two more are reached directly. A few hundred random faults (delays, drops,
resets, truncated, duplicated and garbled answers, half-open stalls) hit the
five while every sample the facility's store receives is checked:

- a GOOD value is exactly what the simulator holds for that point (each point
  serves its own value, so an answer delivered to the wrong request shows);
- a GOOD value is never older than two scan periods: the quality says that
  something happened within two periods of it happening;
- a point that is not GOOD says why, and a BAD point carries no number;
- the PLCs behind clean links keep scanning at their rate and stay GOOD;
- once a fault ends, every point of its PLC is GOOD again within the backoff
  cap (plus the scan and the request that were under way);
- nothing crashes: no poller task ends, no error escapes to the event loop,
  no "unexpected error" is logged.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from benchmarks.sitegen import generate_site
from hal.points import DataType, Quality, Quantity, Sample, Table, Value
from hal.poller import Backoff
from hal.sim.scenario import MODBUS_EXCEPTION_CODES
from hal.sim.server import Simulator
from necstgen_desk.runtime import Facility
from necstgen_desk.simprocess import with_endpoints
from necstgen_desk.simulation import build_simulator
from necstgen_desk.site import Site, parse_site
from tests.faultproxy import CorruptField, Fault, FaultKind, FaultProxy
from tests.waiting import wait_until

PERIOD_S = 0.25
TIMEOUT_S = 0.2
BACKOFF = Backoff(initial_s=0.1, factor=2.0, cap_s=0.8)
FAULTED = 5  # PLCs behind a fault-injecting proxy
CLEAN = 2  # PLCs on a clean link
FAULTS_PER_PLC = 50
# One request that was under way when the fault ended, the backoff, one scan, scheduling.
RECOVERY_LIMIT_S = BACKOFF.cap_s + 2 * (TIMEOUT_S * 1.5 + 0.05) + 2 * PERIOD_S + 0.5
STALE_AFTER_S = 2 * PERIOD_S
CHECK_EVERY_S = 0.02
SLACK_S = 0.1  # timer granularity; the monitor adds its own measured lateness


def _site() -> Site:
    text = generate_site(
        FAULTED + CLEAN,
        # Two input-register reads of 124 registers each per PLC: an answer to
        # one fits the other exactly, so a mix-up would decode without an error.
        rooms_per_plc=8,
        scan_period_s=PERIOD_S,
        timeout_s=TIMEOUT_S,
        heartbeat_timeout_s=3.0,
    )
    return parse_site(text, source="generated")


def _distinct_values(sim: Simulator, site: Site) -> None:
    """Make every register point serve a value no other point serves."""
    for index, config in enumerate(site.points):
        point = config.hal
        if point.table.is_bit or point.quantity is Quantity.HEARTBEAT:
            continue
        raw = 1000 + index  # far above any heartbeat count in this test
        value: Value
        if point.data_type is DataType.FLOAT32:
            value = raw + 0.5
        else:
            value = raw * point.scale + point.offset
        sim.sensor_value(point.id, value)


@dataclass
class Checker:
    """Checks every sample the store receives, and the store's state over time."""

    site: Site
    sim: Simulator
    expected: dict[str, Value] = field(default_factory=dict)
    heartbeats: set[str] = field(default_factory=set)
    wrong_values: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)
    too_old: list[str] = field(default_factory=list)
    good_samples: int = 0
    not_good: dict[Quality, int] = field(default_factory=dict)
    max_lateness_s: float = 0.0

    def __post_init__(self) -> None:
        for config in self.site.points:
            if config.hal.quantity is Quantity.HEARTBEAT:
                self.heartbeats.add(config.id)
            else:
                self.expected[config.id] = self.sim.expected_value(config.id)

    def on_samples(self, samples: list[Sample]) -> None:
        for sample in samples:
            pid = sample.point_id
            if sample.quality is not Quality.GOOD:
                self.not_good[sample.quality] = self.not_good.get(sample.quality, 0) + 1
                if not sample.reason:
                    self.unexplained.append(f"{pid}: {sample.quality.value} without a reason")
                if sample.quality is Quality.BAD and sample.value is not None:
                    self.unexplained.append(f"{pid}: BAD but carries {sample.value!r}")
                continue
            self.good_samples += 1
            if pid in self.heartbeats:
                plc = pid.split(".")[0]
                now = self.sim.plant.heartbeat(plc)
                ok = isinstance(sample.value, int) and 0 <= now - sample.value <= 5
            else:
                ok = sample.value == self.expected[pid]
            if not ok and len(self.wrong_values) < 20:
                self.wrong_values.append(
                    f"{pid}: GOOD {sample.value!r}, the PLC holds {self.expected.get(pid)!r}"
                )

    async def watch_ages(self, store_latest: Any, stop: asyncio.Event) -> None:
        """No GOOD value older than two periods (plus this monitor's own lateness)."""
        ids = [p.id for p in self.site.points if p.hal.quantity is not Quantity.HEARTBEAT]
        expected_at = time.monotonic() + CHECK_EVERY_S
        while not stop.is_set():
            await asyncio.sleep(CHECK_EVERY_S)
            lateness = max(0.0, time.monotonic() - expected_at)
            self.max_lateness_s = max(self.max_lateness_s, lateness)
            now = time.time()
            for pid in ids:
                sample = store_latest(pid)
                if sample is None or sample.quality is not Quality.GOOD:
                    continue
                age = now - sample.timestamp
                if age > STALE_AFTER_S + SLACK_S + lateness and len(self.too_old) < 20:
                    self.too_old.append(f"{pid}: GOOD but {age:.2f} s old")
            expected_at = time.monotonic() + CHECK_EVERY_S


def _random_fault(rng: random.Random) -> Fault:
    kind = rng.choice(list(FaultKind))
    probability = rng.choice((1.0, 1.0, 0.5, 0.2))
    match kind:
        case FaultKind.DELAY:
            # Under and over the timeout: slow links must stay usable, dead ones must not.
            return Fault(kind, probability, delay_s=rng.choice((0.05, 0.15, 0.3, 0.6)))
        case FaultKind.DUPLICATE:
            # The copy lands while the next request waits: with transaction id 0
            # pymodbus alone would take it for that request's answer.
            return Fault(
                kind,
                probability,
                delay_s=rng.choice((0.0, 0.0005, 0.001, 0.002)),
                zero_copy_id=rng.random() < 0.7,
            )
        case FaultKind.CORRUPT:
            return Fault(kind, probability, field=rng.choice([*CorruptField, None]))
        case FaultKind.RESET | FaultKind.STALL:
            return Fault(kind)
        case _:
            return Fault(kind, probability)


@dataclass
class Rig:
    site: Site
    sim: Simulator
    facility: Facility
    proxies: dict[str, FaultProxy]
    clean: list[str]

    def points_of(self, plc_id: str) -> list[str]:
        return [p.id for p in self.site.plc_by_id[plc_id].polled_points]

    def all_good(self, plc_id: str) -> bool:
        store = self.facility.store
        return all(
            (s := store.latest(pid)) is not None and s.quality is Quality.GOOD
            for pid in self.points_of(plc_id)
        )


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    base = _site()
    sim = build_simulator(base, speed=1.0, free_ports=True, traffic_per_hour=0)
    await sim.start()
    proxies: dict[str, FaultProxy] = {}
    facility: Facility | None = None
    try:
        _distinct_values(sim, base)
        endpoints = dict(sim.endpoints)
        for index, plc in enumerate(base.plcs[:FAULTED]):
            proxy = FaultProxy(sim.endpoints[plc.id], seed=index)
            endpoints[plc.id] = await proxy.start()
            proxies[plc.id] = proxy
        site = with_endpoints(base, endpoints)
        facility = Facility(site, backoff=BACKOFF)
        clean = [plc.id for plc in base.plcs[FAULTED:]]
        yield Rig(site, sim, facility, proxies, clean)
    finally:
        if facility is not None:
            await facility.stop()
        for proxy in proxies.values():
            await proxy.stop()
        await sim.stop()


async def test_a_few_hundred_random_faults(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    loop = asyncio.get_running_loop()
    loop_errors: list[str] = []
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(str(context)))
    checker = Checker(rig.site, rig.sim)
    unsubscribe = rig.facility.store.on_samples(checker.on_samples)
    stop = asyncio.Event()
    await rig.facility.start()
    watcher = asyncio.create_task(checker.watch_ages(rig.facility.store.latest, stop))
    recoveries: list[float] = []
    injected: list[str] = []
    try:
        await wait_until(
            lambda: all(rig.all_good(p.id) for p in rig.site.plcs), 10, "every point GOOD"
        )
        clean_scans = {p: rig.facility.pollers[p].scans for p in rig.clean}
        started = time.monotonic()

        async def torment(plc_id: str, seed: int) -> None:
            rng = random.Random(seed)
            proxy = rig.proxies[plc_id]
            for _ in range(FAULTS_PER_PLC):
                fault = _random_fault(rng)
                injected.append(fault.describe())
                proxy.inject(fault)
                # The fault's duration is what is under test here, not a wait for a condition.
                await asyncio.sleep(rng.uniform(0.1, 0.6))
                proxy.clear()
                took = await wait_until(
                    lambda: rig.all_good(plc_id), 10, f"{plc_id} GOOD after {fault.describe()}"
                )
                recoveries.append(took)
                assert took <= RECOVERY_LIMIT_S, f"{plc_id}: {took:.2f} s after {fault.describe()}"

        await asyncio.gather(*(torment(plc_id, i) for i, plc_id in enumerate(rig.proxies)))
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        await watcher
        unsubscribe()
        loop.set_exception_handler(None)

    assert len(injected) == FAULTED * FAULTS_PER_PLC
    assert checker.wrong_values == [], "values delivered to the wrong point"
    assert checker.too_old == [], "GOOD values older than two periods"
    assert checker.unexplained == []
    assert checker.not_good, "the faults were felt"
    assert max(recoveries) <= RECOVERY_LIMIT_S
    # The clean PLCs kept their rate and never lost a value.
    for plc_id in rig.clean:
        scans = rig.facility.pollers[plc_id].scans - clean_scans[plc_id]
        assert scans >= 0.75 * elapsed / PERIOD_S, (plc_id, scans, elapsed)
        assert rig.all_good(plc_id), plc_id
    # Nothing crashed or escaped.
    for plc_id, poller in rig.facility.pollers.items():
        task = poller._task  # the poller's one task must still be running
        assert task is not None and not task.done(), plc_id
    assert loop_errors == []
    internal = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("hal.") and "unexpected error" in r.getMessage()
    ]
    assert internal == []


async def test_a_copy_with_transaction_id_zero_never_answers_another_request(rig: Rig) -> None:
    """Seen from gateways: an answer sent twice, the copy with its transaction id zeroed.

    pymodbus accepts id 0 from any device, so the copy, landing while the next
    read waits, was taken for that read's answer: the next block's points got
    this block's values, GOOD (both reads are 124 registers long).
    """
    checker = Checker(rig.site, rig.sim)
    unsubscribe = rig.facility.store.on_samples(checker.on_samples)
    await rig.facility.start()
    try:
        await wait_until(lambda: all(rig.all_good(p) for p in rig.proxies), 10, "GOOD")
        for proxy in rig.proxies.values():
            proxy.inject(Fault(FaultKind.DUPLICATE, delay_s=0.001, zero_copy_id=True))
        scans = {p: rig.facility.pollers[p].scans for p in rig.proxies}
        await wait_until(
            lambda: all(rig.facility.pollers[p].scans >= scans[p] + 4 for p in rig.proxies),
            20,
            "four scans under the fault",
        )
    finally:
        unsubscribe()
    assert all(proxy.frames_faulted > 0 for proxy in rig.proxies.values())
    assert checker.wrong_values == []
    assert checker.unexplained == []


@dataclass
class One:
    """One PLC behind a proxy, one on a clean link."""

    site: Site
    sim: Simulator
    facility: Facility
    proxy: FaultProxy
    faulted: str
    clean: str

    def qualities(self, plc_id: str) -> set[tuple[Quality, str]]:
        out = set()
        for point in self.site.plc_by_id[plc_id].polled_points:
            sample = self.facility.store.latest(point.id)
            out.add((sample.quality, sample.reason) if sample else (Quality.STALE, "no sample"))
        return out


@pytest.fixture
async def one() -> AsyncIterator[One]:
    base = parse_site(
        generate_site(2, rooms_per_plc=8, scan_period_s=PERIOD_S, timeout_s=TIMEOUT_S),
        source="generated",
    )
    sim = build_simulator(base, speed=1.0, free_ports=True, traffic_per_hour=0)
    await sim.start()
    faulted, clean = base.plcs[0].id, base.plcs[1].id
    proxy = FaultProxy(sim.endpoints[faulted])
    facility: Facility | None = None
    try:
        endpoints = {faulted: await proxy.start(), clean: sim.endpoints[clean]}
        facility = Facility(with_endpoints(base, endpoints), backoff=BACKOFF)
        await facility.start()
        rig = One(facility.site, sim, facility, proxy, faulted, clean)
        await wait_until(lambda: rig.qualities(faulted) == {(Quality.GOOD, "")}, 10, "GOOD")
        yield rig
    finally:
        if facility is not None:
            await facility.stop()
        await proxy.stop()
        await sim.stop()


@pytest.mark.parametrize(
    ("fault", "quality", "says"),
    [
        (Fault(FaultKind.DROP), Quality.COMM_FAIL, "no answer"),
        (Fault(FaultKind.DELAY, delay_s=0.6), Quality.COMM_FAIL, "no answer"),
        (Fault(FaultKind.STALL), Quality.COMM_FAIL, "no answer"),
        (Fault(FaultKind.RESET), Quality.COMM_FAIL, "PLC-01"),
        (Fault(FaultKind.TRUNCATE), Quality.BAD, "cut short"),
        *(
            (Fault(FaultKind.CORRUPT, field=field), Quality.BAD, "garbled answer")
            for field in CorruptField
        ),
    ],
    ids=lambda value: value.describe() if isinstance(value, Fault) else str(value),
)
async def test_each_fault_says_what_happened(
    one: One, fault: Fault, quality: Quality, says: str
) -> None:
    one.proxy.inject(fault)

    def told() -> bool:
        states = one.qualities(one.faulted)
        return all(q is quality and says in reason for q, reason in states)

    await wait_until(told, 5, f"every point {quality.value} saying {says!r}")
    assert one.qualities(one.clean) == {(Quality.GOOD, "")}
    one.proxy.clear()
    took = await wait_until(
        lambda: one.qualities(one.faulted) == {(Quality.GOOD, "")}, 10, "GOOD again"
    )
    assert took <= RECOVERY_LIMIT_S


# ---------------------------------------------------------------- what the PLC itself says


@pytest.fixture
async def direct() -> AsyncIterator[Rig]:
    """Two PLCs, no proxy: the simulator's own fault injection."""
    base = parse_site(
        generate_site(2, rooms_per_plc=2, scan_period_s=PERIOD_S, timeout_s=TIMEOUT_S),
        source="generated",
    )
    sim = build_simulator(base, speed=1.0, free_ports=True, traffic_per_hour=0)
    await sim.start()
    facility = Facility(with_endpoints(base, sim.endpoints), backoff=BACKOFF)
    await facility.start()
    try:
        yield Rig(facility.site, sim, facility, {}, [])
    finally:
        await facility.stop()
        await sim.stop()


@pytest.mark.parametrize("code", sorted(MODBUS_EXCEPTION_CODES))
async def test_every_exception_code_is_bad_with_its_reason(direct: Rig, code: int) -> None:
    rig = direct
    plc = rig.site.plcs[0]
    await wait_until(lambda: rig.all_good(plc.id), 10, "GOOD")
    rig.sim.exception_response(plc.id, code, table=Table.INPUT)
    inputs = [p.id for p in plc.polled_points if p.table is Table.INPUT]
    store = rig.facility.store

    def all_bad() -> bool:
        return all((s := store.latest(pid)) and s.quality is Quality.BAD for pid in inputs)

    await wait_until(all_bad, 5, f"input registers BAD on exception {code}")
    for pid in inputs:
        sample = store.latest(pid)
        assert sample is not None and sample.value is None, pid  # never a number
        assert f"Modbus exception {code} (" in sample.reason
    assert rig.all_good(rig.site.plcs[1].id)
    rig.sim.exception_response(plc.id, None)
    await wait_until(lambda: rig.all_good(plc.id), 5, "GOOD again")


@pytest.mark.parametrize("raw", [math.nan, math.inf, -math.inf])
async def test_nan_and_infinity_are_bad_never_a_number(direct: Rig, raw: float) -> None:
    rig = direct
    point = next(p for p in rig.site.points if p.hal.data_type is DataType.FLOAT32)
    await wait_until(lambda: rig.all_good(point.plc), 10, "GOOD")
    rig.sim.sensor_value(point.id, raw)
    store = rig.facility.store

    def bad() -> bool:
        sample = store.latest(point.id)
        return sample is not None and sample.quality is Quality.BAD

    await wait_until(bad, 5, f"{point.id} BAD")
    sample = store.latest(point.id)
    assert sample is not None and sample.value is None
    assert "decodes to" in sample.reason and ("NaN" in sample.reason or "inf" in sample.reason)
    rig.sim.sensor_value(point.id, None)
    await wait_until(lambda: rig.all_good(point.plc), 5, "GOOD again")
