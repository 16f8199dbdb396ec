"""A writer killed with SIGKILL at random moments loses nothing it reported saved."""

from __future__ import annotations

import random
import sys

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from necstgen_desk.storage.audit import verify_chain
from necstgen_desk.storage.engine import make_engine
from necstgen_desk.storage.models import CleaningRecord
from tests.crashing import run_and_kill

ROUNDS = 5


def _run_and_kill(url: str, delay_s: float) -> list[int]:
    """Start the writer, let it write for ``delay_s`` after it is ready, SIGKILL it;
    returns the ids it reported committed (complete lines only)."""
    lines = run_and_kill("tests.integration.storage.crash_writer", [url], delay_s)
    return [int(line) for line in lines]


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
