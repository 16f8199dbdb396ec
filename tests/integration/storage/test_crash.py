"""A writer killed with SIGKILL at random moments loses nothing it reported saved."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from necstgen_desk.storage.audit import verify_chain
from necstgen_desk.storage.engine import make_engine
from necstgen_desk.storage.models import CleaningRecord

ROOT = Path(__file__).resolve().parents[3]
ROUNDS = 5


def _run_and_kill(url: str, delay_s: float) -> list[int]:
    """Start the writer, let it write for ``delay_s`` after it is ready, SIGKILL it;
    returns the ids it reported committed (complete lines only)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.storage.crash_writer", url],
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
    complete = out.split("\n")[:-1]  # a line cut by the kill has no newline yet
    return [int(line) for line in complete]


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_records_reported_saved_survive_sigkill(migrated_url: str) -> None:
    rng = random.Random(20261126)
    reported: list[int] = []
    for _ in range(ROUNDS):
        reported += _run_and_kill(migrated_url, rng.uniform(0.05, 0.5))
    assert reported, "the writer never committed: the test proved nothing"
    assert reported == sorted(reported) and len(set(reported)) == len(reported)

    engine = make_engine(migrated_url)  # "after restart": a new process's view
    try:
        with Session(engine) as session:
            present = set(session.scalars(select(CleaningRecord.id)))
        missing = sorted(set(reported) - present)
        assert not missing, f"reported saved but gone after SIGKILL: {missing[:20]}"
        report = verify_chain(engine)
        assert report.ok, report.message
        assert report.entries_checked >= len(reported)
    finally:
        engine.dispose()
