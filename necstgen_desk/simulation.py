"""Run the facility simulator for a site: in this process, or as the ``sim`` command.

The core side of :mod:`hal.sim`: it turns the site configuration into the
simulator's :class:`~hal.sim.plant.PlantSpec` (the HAL must not know the
site model) and gives the command line its behaviour: print the endpoints,
serve until told to stop, and turn a bad site or scenario into a plain
message and exit code 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from hal.points import Quantity
from hal.sim.plant import AirlockSpec, DoorSpec, PlantError, PlantSpec, RoomSpec
from hal.sim.scenario import ScenarioError, ScenarioTargets, load_scenario
from hal.sim.server import Simulator, SimulatorError
from necstgen_desk.site.errors import SiteError
from necstgen_desk.site.loader import DEFAULT_SITE_PATH, load_site
from necstgen_desk.site.model import Grade, InterlockKind, Limits, Site, Space

__all__ = [
    "CORRIDOR_HVAC_TAU_S",
    "DEFAULT_TRAFFIC_PER_HOUR",
    "build_simulator",
    "corridors",
    "plant_spec_from_site",
    "run_cli",
    "run_simulator",
    "scenario_targets",
]

log = logging.getLogger(__name__)

DEFAULT_TRAFFIC_PER_HOUR = 6.0
"""Passages per hour through each airlock and plain door in the demo."""

ROOM_HEIGHT_M = 3.0
_MIN_VOLUME_M3 = 10.0

#: ``sim --json`` (the app's child): how long a signal waits for the app to close stdin.
PARENT_GRACE_S = 10.0

CORRIDOR_HVAC_TAU_S = 0.5
"""How fast a corridor's pressure control takes back what a door vents into it.

Rooms keep the plant's own HVAC time constant (3 s). A corridor's supply and
extract run under pressure control sized for the doors that open onto it, so
it is held six times more stiffly: an airlock with both doors open (its suite
venting through it) lifts the corridor by about 0.6 Pa, not 3 Pa, and the
other airlocks' differentials to the corridor stay well inside their limits.
"""

_CORRIDOR_MIN_NEIGHBOURS = 3

# The simulated counters sit at this fraction of the grade's action limit:
# at rest well inside the at-rest limit, in operation well inside the
# in-operation limit, so a quiet demo raises no particle alarms.
_PARTICLE_FRACTION = 0.2

# (≥0.5 µm at rest, ≥5 µm at rest, ≥0.5 µm in operation, ≥5 µm in operation), /m³,
# for rooms whose points carry no limits (airlocks, gowning, QC).
_GRADE_PARTICLES: dict[Grade, tuple[float, float, float, float]] = {
    Grade.A: (100.0, 1.0, 700.0, 5.0),
    Grade.B: (700.0, 6.0, 70_000.0, 580.0),
    Grade.C: (70_000.0, 580.0, 700_000.0, 5_800.0),
    Grade.D: (700_000.0, 5_800.0, 1_400_000.0, 11_600.0),
    Grade.CNC: (1_000_000.0, 8_000.0, 2_000_000.0, 16_000.0),
}


def plant_spec_from_site(site: Site) -> PlantSpec:
    """The simulator's view of the site: rooms, doors, airlocks and PLC heartbeats.

    Volumes come from the floor-plan polygons (3 m ceilings); particle
    levels from the site's particle limits where a room has them (20 % of
    the action limit), else from the grade's defaults. Corridors (see
    :func:`corridors`) get the stiff pressure control of
    :data:`CORRIDOR_HVAC_TAU_S`.
    """
    hubs = corridors(site)
    rooms = tuple(_room_spec(site, space, corridor=space.id in hubs) for space in site.spaces)
    doors = tuple(DoorSpec(id=d.id, sides=d.between, airlock=d.airlock) for d in site.doors)
    airlocks = tuple(
        AirlockSpec(
            id=a.id,
            outer_door=a.outer_door,
            inner_door=a.inner_door,
            interlocked=a.interlock is InterlockKind.INTERLOCKED,
        )
        for a in site.airlocks
    )
    return PlantSpec(
        rooms=rooms,
        doors=doors,
        airlocks=airlocks,
        ambient=site.ambient,
        controllers=tuple(plc.id for plc in site.plcs),
    )


def corridors(site: Site) -> frozenset[str]:
    """The spaces whose doors lead to three or more other spaces: the corridors.

    A room has a door or two (its airlock, a pass-through); a corridor is
    where the airlocks, the gowning room and the rooms of a grade open onto,
    and its HVAC holds it at its setpoint against all of them. The ambient is
    not a space and does not count.
    """
    neighbours: dict[str, set[str]] = {}
    for door in site.doors:
        a, b = door.between
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    return frozenset(
        space.id
        for space in site.spaces
        if len(neighbours.get(space.id, set()) - {site.ambient}) >= _CORRIDOR_MIN_NEIGHBOURS
    )


def _room_spec(site: Site, space: Space, *, corridor: bool) -> RoomSpec:
    rest05, rest5, op05, op5 = _GRADE_PARTICLES[space.grade]
    rest05, op05 = _from_limits(site, space.id, Quantity.PARTICLES_0_5, rest05, op05)
    rest5, op5 = _from_limits(site, space.id, Quantity.PARTICLES_5, rest5, op5)
    return RoomSpec(
        id=space.id,
        grade=space.grade.value,
        setpoint_pa=space.setpoint_pa,
        particles_0_5_at_rest=rest05,
        particles_5_at_rest=rest5,
        particles_0_5_in_operation=op05,
        particles_5_in_operation=op5,
        volume_m3=max(_MIN_VOLUME_M3, _area(space) * ROOM_HEIGHT_M),
        hvac_tau_s=CORRIDOR_HVAC_TAU_S if corridor else None,
    )


def _from_limits(
    site: Site, room_id: str, quantity: Quantity, rest: float, operation: float
) -> tuple[float, float]:
    config = site.point_for(room_id, quantity)
    if config is None:
        return rest, operation
    at_rest = _action_high(config.limits_at_rest)
    in_operation = _action_high(config.limits)
    if at_rest is not None:
        rest = at_rest * _PARTICLE_FRACTION
    if in_operation is not None:
        operation = in_operation * _PARTICLE_FRACTION
    # Work always raises the count, even where the grade allows the same in both states.
    return rest, max(operation, 2.0 * rest)


def _action_high(limits: Limits | None) -> float | None:
    if limits is None:
        return None
    return limits.action_high if limits.action_high is not None else limits.alert_high


def _area(space: Space) -> float:
    points = space.polygon
    if len(points) < 3:
        return 0.0
    twice = sum(
        x0 * y1 - x1 * y0
        for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True)
    )
    return abs(twice) / 2.0


def scenario_targets(site: Site) -> ScenarioTargets:
    """The ids a scenario for this site may name."""
    return ScenarioTargets(
        doors=frozenset(d.id for d in site.doors),
        rooms=frozenset(s.id for s in site.spaces),
        airlocks=frozenset(a.id for a in site.airlocks),
        plcs=frozenset(p.id for p in site.plcs),
        points=frozenset(p.id for p in site.points),
    )


def build_simulator(
    site: Site,
    *,
    speed: float = 1.0,
    scenario_path: str | Path | None = None,
    free_ports: bool = False,
    host: str | None = None,
    seed: int = 0,
    traffic_per_hour: float = DEFAULT_TRAFFIC_PER_HOUR,
) -> Simulator:
    """A simulator for the site, not yet started.

    Raises :class:`ScenarioError` for a bad scenario file and
    :class:`SimulatorError` for a bad speed or an unsimulatable point.
    """
    scenario = (
        load_scenario(scenario_path, targets=scenario_targets(site))
        if scenario_path is not None
        else None
    )
    try:
        spec = plant_spec_from_site(site)
    except PlantError as exc:
        raise SimulatorError(str(exc)) from None
    return Simulator(
        spec,
        site.plcs,
        speed=speed,
        seed=seed,
        traffic_per_hour=traffic_per_hour,
        free_ports=free_ports,
        host=host,
        scenario=scenario,
    )


async def run_simulator(
    site: Site,
    *,
    speed: float = 1.0,
    scenario_path: str | Path | None = None,
    free_ports: bool = False,
    host: str | None = None,
    stop_event: asyncio.Event | None = None,
    on_ready: Callable[[dict[str, tuple[str, int]]], None] | None = None,
    seed: int = 0,
    traffic_per_hour: float = DEFAULT_TRAFFIC_PER_HOUR,
) -> None:
    """Serve the site's PLCs until ``stop_event`` is set (or the task is cancelled).

    ``on_ready`` receives the endpoints once every PLC listens.
    """
    simulator = build_simulator(
        site,
        speed=speed,
        scenario_path=scenario_path,
        free_ports=free_ports,
        host=host,
        seed=seed,
        traffic_per_hour=traffic_per_hour,
    )
    stop = stop_event if stop_event is not None else asyncio.Event()
    await simulator.start()
    try:
        if on_ready is not None:
            on_ready(simulator.endpoints)
        await stop.wait()
    finally:
        await simulator.stop()


# ---------------------------------------------------------------- command line


def run_cli(
    site_path: str | None,
    speed: float,
    scenario: str | None,
    free_ports: bool,
    json_lines: bool,
) -> int:
    """``necstgen-desk sim``: serve the site until Ctrl+C, SIGTERM or (``--json``) stdin EOF.

    Exit codes: 0 after a normal stop, 2 for a bad site, scenario or speed,
    1 when a PLC cannot listen (port in use).
    """
    try:
        site = load_site(site_path if site_path is not None else DEFAULT_SITE_PATH)
    except SiteError as exc:
        _error(str(exc))
        return 2
    if not (math.isfinite(speed) and speed >= 0):
        _error(f"--speed must be a number ≥ 0 (1 is real time), not {speed!r}")
        return 2
    try:
        simulator = build_simulator(
            site, speed=speed, scenario_path=scenario, free_ports=free_ports
        )
    except ScenarioError as exc:
        _error(str(exc))
        return 2
    except SimulatorError as exc:
        _error(f"the site cannot be simulated: {exc}")
        return 2
    return asyncio.run(_serve(simulator, site, json_lines=json_lines, speed=speed))


def _error(message: str) -> None:
    print(f"necstgen-desk sim: {message}", file=sys.stderr, flush=True)


async def _serve(simulator: Simulator, site: Site, *, json_lines: bool, speed: float) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signalled: list[int] = []

    def on_signal() -> None:
        """Stop; but as the app's child (``--json``) a first Ctrl+C or SIGTERM most
        likely went to the app's whole process group: keep serving until the app
        has stopped polling and closes our stdin (at most PARENT_GRACE_S), so
        its pollers never see the PLCs vanish first. A second signal stops now."""
        signalled.append(1)
        if json_lines and len(signalled) == 1:
            loop.call_later(PARENT_GRACE_S, stop.set)
        else:
            stop.set()

    installed: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal)
            installed.append(signum)
        except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(on_signal))
    try:
        try:
            await simulator.start()
        except SimulatorError as exc:
            _error(str(exc))
            return 1
        endpoints = simulator.endpoints
        if json_lines:
            payload = {"endpoints": {k: [h, p] for k, (h, p) in endpoints.items()}}
            print(json.dumps(payload), flush=True)
            _watch_stdin(loop, stop)
        else:
            print(f"Simulating {site.name} at {speed:g}× real time. PLC endpoints:")
            for plc_id, (host, port) in endpoints.items():
                print(f"  {plc_id:<8} {host}:{port}")
            print("Press Ctrl+C to stop.", flush=True)
        await stop.wait()
        return 0
    finally:
        await simulator.stop()
        for signum in installed:
            loop.remove_signal_handler(signum)


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop when stdin reaches EOF: the parent closed the pipe, or died."""
    stream = sys.stdin
    if stream is None:
        return
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return

    def wait_for_eof() -> None:
        with contextlib.suppress(OSError):
            while os.read(fd, 65536):
                pass
        with contextlib.suppress(RuntimeError):  # the loop already closed
            loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_eof, name="sim stdin watcher", daemon=True).start()
