"""The simulator as a child process (``python -m necstgen_desk sim``) and its CLI."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusTcpClient

from necstgen_desk.simprocess import SimulatorProcess, SimulatorStartError, with_endpoints
from necstgen_desk.simulation import PARENT_GRACE_S, run_cli
from necstgen_desk.site.loader import DEFAULT_SITE_PATH, load_site

DEMO = DEFAULT_SITE_PATH.parents[1] / "scenarios" / "demo-faults.toml"


def _process_exists(pid: int) -> bool:
    """True while the pid runs (a zombie awaiting its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's pid reused
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in {"Z", "X"}
    return True


async def _refused(host: str, port: int) -> bool:
    """True when nothing listens there any more."""
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return True
    writer.close()
    await writer.wait_closed()
    return False


async def _wait_gone(pid: int, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while _process_exists(pid):
        if time.monotonic() > deadline:
            pytest.fail(f"process {pid} still runs {within_s} s later")
        await asyncio.sleep(0.05)


# A parent that starts the simulator, reports its pid, then waits to be killed.
_PARENT = """
import subprocess, sys, time
child = subprocess.Popen(
    [sys.executable, "-m", "necstgen_desk", "sim", "--free-ports", "--json"],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
)
child.stdout.readline()
print(child.pid, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="checks the pid with POSIX signals")
async def test_child_serves_every_plc_and_stops_without_a_trace() -> None:
    child = SimulatorProcess()
    endpoints = await child.start(DEFAULT_SITE_PATH, speed=5.0, scenario=DEMO)
    pid = child.pid
    assert pid is not None and _process_exists(pid)
    try:
        assert set(endpoints) == {"ENV-1", "ENV-2", "ENV-3", "DOOR-1"}
        for host, port in endpoints.values():
            modbus = AsyncModbusTcpClient(host, port=port, timeout=2, retries=0, reconnect_delay=0)
            try:
                assert await modbus.connect()
                rr = await modbus.read_holding_registers(0, count=1, device_id=1)  # heartbeat
                assert not rr.isError()
            finally:
                modbus.close()
    finally:
        code = await child.stop()
    assert code == 0  # it saw EOF on stdin and stopped by itself
    assert not child.running
    assert not _process_exists(pid)
    for host, port in endpoints.values():
        assert await _refused(host, port)


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
async def test_a_ctrl_c_to_the_whole_group_leaves_the_child_serving_until_its_parent_is_done() -> (
    None
):
    """Ctrl+C in a terminal (or `timeout`, or a service manager) signals the app and
    its simulator child together: the child keeps its PLCs up until the app has
    stopped polling and closes its stdin, so the app never logs them as lost."""
    child = SimulatorProcess()
    endpoints = await child.start(DEFAULT_SITE_PATH, speed=5.0)
    pid = child.pid
    assert pid is not None
    try:
        os.kill(pid, signal.SIGINT)
        await asyncio.sleep(0.5)
        assert _process_exists(pid)
        host, port = endpoints["ENV-1"]
        modbus = AsyncModbusTcpClient(host, port=port, timeout=2, retries=0, reconnect_delay=0)
        try:
            assert await modbus.connect()
            rr = await modbus.read_holding_registers(0, count=1, device_id=1)
            assert not rr.isError()
        finally:
            modbus.close()
    finally:
        started = time.monotonic()
        code = await child.stop()  # stdin EOF: at once, not after the grace
    assert code == 0 and time.monotonic() - started < PARENT_GRACE_S / 2
    assert not _process_exists(pid)


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
async def test_a_second_signal_stops_the_child_at_once() -> None:
    child = SimulatorProcess()
    await child.start(DEFAULT_SITE_PATH)
    pid = child.pid
    assert pid is not None
    try:
        os.kill(pid, signal.SIGTERM)
        await asyncio.sleep(0.2)
        assert _process_exists(pid)
        os.kill(pid, signal.SIGTERM)
        await _wait_gone(pid, within_s=5.0)
    finally:
        await child.stop()


@pytest.mark.skipif(sys.platform != "linux", reason="reads process states from /proc")
async def test_child_dies_with_its_parent() -> None:
    parent = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _PARENT, stdout=asyncio.subprocess.PIPE
    )
    assert parent.stdout is not None
    try:
        line = await asyncio.wait_for(parent.stdout.readline(), 20)
        child_pid = int(line)
        assert _process_exists(child_pid)
    finally:
        parent.kill()  # no clean-up code runs in the parent
        await parent.wait()
        await parent.stdout.read()
    await _wait_gone(child_pid)


async def test_bad_site_fails_start_with_the_childs_words(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[site]\nname = 'x'\n", encoding="utf-8")
    child = SimulatorProcess()
    with pytest.raises(SimulatorStartError) as caught:
        await child.start(broken, timeout=20)
    message = str(caught.value)
    assert "exited (code 2)" in message
    assert "problem" in message and "broken.toml" in message
    assert not child.running


def test_with_endpoints_points_the_site_at_the_simulator() -> None:
    site = load_site(DEFAULT_SITE_PATH)
    moved = with_endpoints(site, {"ENV-1": ("127.0.0.1", 40001), "DOOR-1": ("127.0.0.2", 40002)})
    assert moved.plc_by_id["ENV-1"].host == "127.0.0.1"
    assert moved.plc_by_id["ENV-1"].port == 40001
    assert (moved.plc_by_id["DOOR-1"].host, moved.plc_by_id["DOOR-1"].port) == (
        "127.0.0.2",
        40002,
    )
    assert moved.plc_by_id["ENV-2"] == site.plc_by_id["ENV-2"]
    assert moved.plc_by_id["ENV-1"].points == site.plc_by_id["ENV-1"].points
    assert site.plc_by_id["ENV-1"].port == 15021  # the original is untouched
    with pytest.raises(ValueError, match="PLC-9"):
        with_endpoints(site, {"PLC-9": ("127.0.0.1", 1)})


def test_cli_bad_site_is_exit_2_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(str(tmp_path / "nope.toml"), 1.0, None, True, True) == 2
    err = capsys.readouterr().err
    assert "nope.toml" in err and "cannot be read" in err


def test_cli_bad_scenario_is_exit_2_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text("[[step]]\nat = 5\naction = 'open_door'\ndoor = 'NOPE'\n")
    assert run_cli(None, 1.0, str(scenario), True, True) == 2
    captured = capsys.readouterr()
    assert "step[0].door: unknown door 'NOPE'" in captured.err
    assert captured.out == ""


def test_cli_bad_speed_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(None, -1.0, None, True, True) == 2
    assert "--speed" in capsys.readouterr().err
