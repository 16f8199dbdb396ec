"""The historian's status-bar label: quiet while it keeps up, plain words when the
database is locked (samples wait, nothing lost), and back once it catches up —
against a real writer on a real SQLite file that another connection locks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from hal.points import Quality, Sample
from necstgen_desk.historian import HistorianWriter, PointPolicy
from necstgen_desk.historian.model import WriterStatus
from necstgen_desk.storage.migrate import upgrade_database
from tests.gui.records_support import sqlite_url
from tests.integration.historian.conftest import FAST
from tests.integration.historian.test_writer import locked
from ui.historian_status import HistorianIndicator, describe
from ui.theme import load_stylesheet

T0 = 1_800_000_000.0
POINTS = [f"W{i}" for i in range(5)]

OK = WriterStatus(
    running=True,
    ready=True,
    queue_depth=0,
    capacity=200_000,
    oldest_wait_s=0.0,
    received=1000,
    processed=1000,
    raw_rows=900,
    rollup_rows=40,
    last_commit_at=T0,
    retrying=False,
    last_error=None,
    dropped=0,
    first_drop_at=None,
    last_drop_at=None,
    duplicates=0,
)


@pytest.mark.parametrize(
    ("status", "state", "words"),
    [
        (OK, "ok", "✓ Historian"),
        (replace(OK, ready=False), "starting", "… Historian starting"),
        (
            replace(OK, queue_depth=12_300, oldest_wait_s=8.2),
            "behind",
            "◆ Historian behind: 12,300 samples waiting (oldest 8 s)",
        ),
        (
            replace(OK, queue_depth=450, oldest_wait_s=2.0, retrying=True, last_error="locked"),
            "failing",
            "▲ Historian: database refuses writes — 450 samples waiting (oldest 2 s)",
        ),
        (
            replace(OK, dropped=1204, first_drop_at=T0, last_drop_at=T0 + 3),
            "dropped",
            "▲ Historian dropped 1,204 samples",
        ),
        (replace(OK, running=False, ready=False), "stopped", "✕ Historian stopped"),
    ],
)
def test_each_state_has_its_words(status: WriterStatus, state: str, words: str) -> None:
    got_state, text, tooltip = describe(status)
    assert (got_state, text) == (state, words)
    assert "Received 1,000 samples" in tooltip
    if status.last_error:
        assert f"Database: {status.last_error}" in tooltip
    if status.dropped:
        assert "Dropped 1,204 samples when the queue was full" in tooltip


@pytest.fixture
def url(tmp_path: Path) -> str:
    made = sqlite_url(tmp_path / "desk.sqlite")
    upgrade_database(made)
    return made


@pytest.fixture
def writer(url: str) -> Iterator[HistorianWriter]:
    every = {p: PointPolicy(forced_s=0) for p in POINTS}
    made = HistorianWriter(url, policies=every, settings=FAST)
    made.start()
    try:
        yield made
    finally:
        made.stop()


def _second(k: int) -> list[Sample]:
    return [Sample(p, float(k), Quality.GOOD, T0 + k) for p in POINTS]


def test_the_label_says_when_the_database_is_locked_and_when_it_caught_up(
    qtbot: QtBot, writer: HistorianWriter, url: str, tmp_path: Path
) -> None:
    window = QMainWindow()
    window.setStyleSheet(load_stylesheet())  # the app's: red with white words when failing
    qtbot.addWidget(window)
    label = HistorianIndicator(writer.status, window, refresh_ms=50)
    window.statusBar().addPermanentWidget(label)
    window.resize(900, 200)
    window.show()
    writer.submit(_second(0))
    qtbot.waitUntil(lambda: label.state == "ok", timeout=5000)
    assert label.text() == "✓ Historian"

    seconds = 1
    with locked(url):
        writer.submit(_second(seconds))
        seconds += 1

        def failing() -> bool:
            nonlocal seconds
            writer.submit(_second(seconds))  # the plant keeps sending
            seconds += 1
            return label.state == "failing"

        qtbot.waitUntil(failing, timeout=10_000)
        assert label.text().startswith("▲ Historian: database refuses writes — ")
        assert "samples waiting" in label.text()
        assert "Database: " in label.toolTip() and "busy" in label.toolTip().lower()
        window.grab().save(str(tmp_path / "locked.png"))
    assert writer.flush(20)
    qtbot.waitUntil(lambda: label.state == "ok", timeout=5000)
    status = label.last
    assert status is not None and status.dropped == 0
    assert status.processed == status.received == seconds * len(POINTS)  # nothing lost
    label.stop()
