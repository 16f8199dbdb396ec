"""Run the simulator as a child process of the app (the embedded demo).

A separate process keeps the simulated PLCs off the GUI's event loop, like
real PLCs, and lets the app be killed without leaving a server behind: the
child serves with ``--json`` and stops when its stdin reaches EOF, which
happens when we close the pipe or when this process dies for any reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from necstgen_desk.clock import MIN_SCAN_PERIOD_S, FacilityClock
from necstgen_desk.site.model import Site

__all__ = ["SimulatorProcess", "SimulatorStartError", "with_endpoints"]

_STDERR_LINES = 40
_EOF_GRACE_S = 3.0
_TERMINATE_GRACE_S = 2.0


class SimulatorStartError(RuntimeError):
    """The simulator child did not come up; the message carries its stderr."""


class SimulatorProcess:
    """One simulator child process: :meth:`start` it, read its endpoints, :meth:`stop` it.

    ``command`` is the interpreter invocation before ``sim ...``; the default
    runs this installation's ``necstgen_desk`` package with this interpreter.
    """

    def __init__(self, command: Sequence[str] | None = None) -> None:
        self._command = (
            list(command) if command is not None else [sys.executable, "-m", "necstgen_desk"]
        )
        self._process: asyncio.subprocess.Process | None = None
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES)
        self._drains: list[asyncio.Task[None]] = []
        self.endpoints: dict[str, tuple[str, int]] = {}

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def stderr_tail(self) -> str:
        """The child's last lines of stderr (for an error report)."""
        return "\n".join(self._stderr)

    async def start(
        self,
        site_path: Path,
        speed: float = 1.0,
        scenario: Path | None = None,
        timeout: float = 20,  # noqa: ASYNC109 (deadline for the child's ready line)
    ) -> dict[str, tuple[str, int]]:
        """Spawn the child and return its endpoints once every PLC listens."""
        if self._process is not None:
            raise SimulatorStartError("this simulator process was already started")
        args = [
            *self._command,
            "sim",
            "--site",
            str(site_path),
            "--speed",
            repr(float(speed)),
            "--free-ports",
            "--json",
        ]
        if scenario is not None:
            args += ["--scenario", str(scenario)]
        try:
            process = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise SimulatorStartError(f"cannot start the simulator ({args[0]}): {exc}") from None
        self._process = process
        assert process.stdout is not None and process.stderr is not None
        self._drains.append(asyncio.create_task(self._collect_stderr(process.stderr)))

        try:
            line = await asyncio.wait_for(process.stdout.readline(), timeout)
        except TimeoutError:
            await self.stop()
            raise SimulatorStartError(
                f"the simulator did not report its endpoints within {timeout:g} s"
                + self._stderr_suffix()
            ) from None
        if not line:
            code = await self.stop()
            raise SimulatorStartError(
                f"the simulator exited (code {code}) before it was ready" + self._stderr_suffix()
            )
        try:
            endpoints = _parse_endpoints(line)
        except ValueError as exc:
            await self.stop()
            raise SimulatorStartError(
                f"the simulator sent an unexpected first line {line[:200]!r}: {exc}"
            ) from None
        self._drains.append(asyncio.create_task(_discard(process.stdout)))
        self.endpoints = endpoints
        return dict(endpoints)

    async def stop(self) -> int | None:
        """Stop the child: EOF on its stdin first, then SIGTERM, then SIGKILL.

        Returns its exit code (None when it was never started).
        """
        process = self._process
        if process is None:
            return None
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()
            with contextlib.suppress(ConnectionError):
                await process.stdin.wait_closed()
        code = await self._wait_exit()
        drains, self._drains = self._drains, []
        if drains:
            await asyncio.gather(*drains, return_exceptions=True)
        return code

    async def _wait_exit(self) -> int:
        process = self._process
        assert process is not None
        try:
            return await asyncio.wait_for(process.wait(), _EOF_GRACE_S)
        except TimeoutError:
            pass
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            return await asyncio.wait_for(process.wait(), _TERMINATE_GRACE_S)
        except TimeoutError:
            pass
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        return await process.wait()

    async def _collect_stderr(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self._stderr.append(line.decode("utf-8", "replace").rstrip())

    def _stderr_suffix(self) -> str:
        tail = self.stderr_tail.strip()
        return f":\n{tail}" if tail else " (it wrote nothing to stderr)"


async def _discard(stream: asyncio.StreamReader) -> None:
    """Keep reading so a chatty child never blocks on a full pipe."""
    while await stream.read(65536):
        pass


def _parse_endpoints(line: bytes) -> dict[str, tuple[str, int]]:
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON ({exc})") from None
    raw = data.get("endpoints") if isinstance(data, dict) else None
    if not isinstance(raw, dict) or not raw:
        raise ValueError("no 'endpoints' object")
    endpoints: dict[str, tuple[str, int]] = {}
    for plc_id, value in raw.items():
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], str)
            and isinstance(value[1], int)
            and not isinstance(value[1], bool)
        )
        if not ok:
            raise ValueError(f"endpoint of {plc_id!r} is not [host, port]")
        endpoints[plc_id] = (value[0], value[1])
    return endpoints


def paced_scans(site: Site, clock: FacilityClock) -> Site:
    """A copy of the site whose PLC scans keep pace with a time-lapse clock.

    At ``--speed N`` each PLC is scanned N times as often (at most every
    :data:`~necstgen_desk.clock.MIN_SCAN_PERIOD_S`), so the plant is sampled as
    densely in its own time as a real site is. Speed 1 leaves the site as it is.
    """
    if not clock.time_lapse:
        return site
    plcs = tuple(
        replace(plc, scan_period_s=clock.paced(plc.scan_period_s, MIN_SCAN_PERIOD_S))
        for plc in site.plcs
    )
    return replace(site, plcs=plcs)


def with_endpoints(site: Site, endpoints: Mapping[str, tuple[str, int]]) -> Site:
    """A copy of the site whose PLCs point at these endpoints (others unchanged)."""
    unknown = sorted(set(endpoints) - {plc.id for plc in site.plcs})
    if unknown:
        raise ValueError(f"endpoints name PLCs the site does not have: {', '.join(unknown)}")
    plcs = tuple(
        replace(plc, host=endpoints[plc.id][0], port=endpoints[plc.id][1])
        if plc.id in endpoints
        else plc
        for plc in site.plcs
    )
    return replace(site, plcs=plcs)
