"""Kill a writing child with SIGKILL at a chosen moment (the crash tests' harness)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_and_kill(module: str, args: list[str], delay_s: float) -> list[str]:
    """Run ``python -m module *args`` from the repository root, wait for its ``ready``
    line, let it write for ``delay_s``, SIGKILL it; the complete lines it printed
    after ``ready`` (a line cut by the kill has no newline yet and is left out)."""
    child = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        first = child.stdout.readline()
        if first.strip() != "ready":
            child.kill()
            _, err = child.communicate(timeout=10)
            pytest.fail(f"the writer did not start: {first!r} {err}")
        time.sleep(delay_s)
        os.kill(child.pid, signal.SIGKILL)
        out, _ = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL
    return out.split("\n")[:-1]
