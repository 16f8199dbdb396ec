"""The simulator child of the benchmarks: ``necstgen-desk sim`` plus a control channel.

:class:`~necstgen_desk.simprocess.SimulatorProcess` starts it as its command
prefix (``python benchmarks/simchild.py --control HOST:PORT``) and appends the
usual ``sim --site … --speed … --free-ports --json``. Like the real command it
prints its endpoints as one JSON line and stops when its stdin closes; in
addition it connects back to the benchmark's control port and answers one
JSON command per line, so the benchmark can change what a register holds and
learn when the change took effect (on the shared monotonic clock):

- ``{"op": "set", "point": ID, "value": V}``  serve V from now on → ``{"t": …}``
- ``{"op": "release", "point": ID}``          back to the physics → ``{"t": …}``
- ``{"op": "cpu"}``                           the child's CPU seconds → ``{"cpu_s": …}``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hal.sim.server import Simulator, SimulatorError
from necstgen_desk.simulation import build_simulator
from necstgen_desk.site import load_site


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="simchild")
    parser.add_argument("--control", help="HOST:PORT to connect back to for commands")
    parser.add_argument("--traffic", type=float, default=6.0, help="passages per door per hour")
    parser.add_argument("command", choices=["sim"])
    parser.add_argument("--site", type=Path, required=True)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--scenario", type=Path)
    parser.add_argument("--free-ports", action="store_true")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


def _answer(sim: Simulator, command: dict[str, Any]) -> dict[str, Any]:
    op = command.get("op")
    try:
        if op == "set":
            sim.sensor_value(str(command["point"]), command["value"])
        elif op == "release":
            sim.sensor_value(str(command["point"]), None)
        elif op == "cpu":
            return {"cpu_s": time.process_time()}
        else:
            return {"error": f"unknown op {op!r}"}
    except (KeyError, SimulatorError) as exc:
        return {"error": str(exc)}
    return {"t": time.monotonic()}


async def _control(sim: Simulator, address: str) -> None:
    host, _, port = address.rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        while line := await reader.readline():
            writer.write(json.dumps(_answer(sim, json.loads(line))).encode() + b"\n")
            await writer.drain()
    finally:
        writer.close()


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    def wait_for_eof() -> None:
        with contextlib.suppress(OSError):
            while os.read(sys.stdin.fileno(), 65536):
                pass
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_eof, name="stdin watcher", daemon=True).start()


async def _serve(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    sim = build_simulator(
        site,
        speed=args.speed,
        scenario_path=args.scenario,
        free_ports=True,
        traffic_per_hour=args.traffic,
    )
    stop = asyncio.Event()
    _watch_stdin(asyncio.get_running_loop(), stop)
    await sim.start()
    control: asyncio.Task[None] | None = None
    try:
        endpoints = {k: [h, p] for k, (h, p) in sim.endpoints.items()}
        print(json.dumps({"endpoints": endpoints}), flush=True)
        if args.control:
            control = asyncio.create_task(_control(sim, args.control))
        await stop.wait()
    finally:
        if control is not None:
            control.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await control
        await sim.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(_serve(_parse(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    sys.exit(main())
