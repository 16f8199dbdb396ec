"""What the benchmarks share: the simulator child with its control channel, statistics."""

from __future__ import annotations

import asyncio
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from necstgen_desk.simprocess import SimulatorProcess

SIMCHILD = Path(__file__).resolve().with_name("simchild.py")
_CONNECT_TIMEOUT_S = 30.0


class ControlledSimulator:
    """The simulator in its own process, and a line-based control channel to it.

    ``async with ControlledSimulator(site_path) as sim:`` starts the child
    (through :class:`SimulatorProcess`, as the app does) and waits until it
    has connected back; :meth:`call` sends one command and returns the answer.
    """

    def __init__(self, site_path: Path, *, speed: float = 1.0, traffic: float = 6.0) -> None:
        self.site_path = site_path
        self.speed = speed
        self.traffic = traffic
        self.endpoints: dict[str, tuple[str, int]] = {}
        self._process: SimulatorProcess | None = None
        self._server: asyncio.Server | None = None
        self._streams: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] | None
        self._streams = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        streams = loop.create_future()
        self._streams = streams

        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if not streams.done():
                streams.set_result((reader, writer))
            else:
                writer.close()

        self._server = await asyncio.start_server(connected, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        command = [
            sys.executable,
            str(SIMCHILD),
            "--control",
            f"127.0.0.1:{port}",
            "--traffic",
            repr(self.traffic),
        ]
        self._process = SimulatorProcess(command)
        try:
            self.endpoints = await self._process.start(self.site_path, speed=self.speed, timeout=60)
            await asyncio.wait_for(asyncio.shield(streams), _CONNECT_TIMEOUT_S)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        streams, self._streams = self._streams, None
        if streams is not None:
            if streams.done() and not streams.cancelled():
                streams.result()[1].close()
            else:
                streams.cancel()
        process, self._process = self._process, None
        if process is not None:
            await process.stop()
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def call(self, **command: Any) -> dict[str, Any]:
        """Send one command, return the child's answer (raises on an error answer)."""
        assert self._streams is not None and self._streams.done()
        reader, writer = self._streams.result()
        async with self._lock:
            writer.write(json.dumps(command).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        if not line:
            raise RuntimeError("the simulator child closed its control channel")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"simulator child: {answer['error']}")
        return answer

    async def cpu_s(self) -> float:
        """CPU seconds the child has used so far."""
        return float((await self.call(op="cpu"))["cpu_s"])


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def rounded(value: float, digits: int = 3) -> float | None:
    """A figure for the JSON report (None for NaN, which JSON cannot hold)."""
    return None if math.isnan(value) else round(value, digits)
