"""The GUI entry point: exit codes, screenshot mode, logging, a clean stop."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import platformdirs
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

import resources
from necstgen_desk.historian import HistorianQuery
from necstgen_desk.options import AppOptions
from necstgen_desk.simprocess import SimulatorProcess, SimulatorStartError
from necstgen_desk.site import DEFAULT_SITE_PATH
from necstgen_desk.storage.engine import make_engine
from necstgen_desk.timelapse import newest_recorded_time
from ui.app import (
    EXIT_BAD_SITE,
    EXIT_NO_LIVE_VALUES,
    EXIT_NO_PLC,
    EXIT_OK,
    LOG_NAME,
    configure_logging,
    run,
)
from ui.historian_status import HistorianIndicator
from ui.main_window import MainWindow
from ui.timefmt import now_utc

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_state(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """run() changes the shared QApplication and the root logger: put both back."""
    log_dir = tmp_path / "logs"
    monkeypatch.setattr(platformdirs, "user_log_dir", lambda *_a, **_k: str(log_dir))
    # The records database too: never the user's (default_db_url reads both).
    monkeypatch.delenv("NECSTGEN_DB_URL", raising=False)
    data_dir = tmp_path / "data"
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda *_a, **_k: str(data_dir))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    sheet, quit_on_close = qapp.styleSheet(), qapp.quitOnLastWindowClosed()
    icon, desktop_name = qapp.windowIcon(), qapp.desktopFileName()
    yield log_dir
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    qapp.setStyleSheet(sheet)
    qapp.setQuitOnLastWindowClosed(quit_on_close)
    qapp.setWindowIcon(icon)
    qapp.setDesktopFileName(desktop_name)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _site_without_plcs(tmp_path: Path) -> Path:
    """The default site with every PLC on a loopback port where nothing listens."""
    text = DEFAULT_SITE_PATH.read_text(encoding="utf-8")
    for port in (15021, 15022, 15023, 15024):
        text = text.replace(f"port = {port}", f"port = {_closed_port()}")
    path = tmp_path / "unreachable.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bad_site_file_exits_2_with_the_reason(
    app_state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[site]\nname = 3\n", encoding="utf-8")
    code = run(AppOptions(site_path=bad, screenshot=tmp_path / "x.png"))
    assert code == EXIT_BAD_SITE
    err = capsys.readouterr().err
    assert "site" in err and "name" in err
    assert not (tmp_path / "x.png").exists()
    assert (app_state / LOG_NAME).exists()


def test_screenshot_without_a_reachable_plc_exits_3(
    app_state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "plan.png"
    code = run(AppOptions(site_path=_site_without_plcs(tmp_path), screenshot=png, after=1.0))
    assert code == EXIT_NO_PLC
    err = capsys.readouterr().err
    assert "No PLC became reachable" in err and "ENV-1" in err
    assert not png.exists()


def test_demo_without_its_simulator_exits_3(
    app_state: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def refuse(self: SimulatorProcess, *args: object, **kwargs: object) -> None:
        raise SimulatorStartError("the simulator exited (code 1) before it was ready")

    monkeypatch.setattr(SimulatorProcess, "start", refuse)
    png = tmp_path / "plan.png"
    assert run(AppOptions(screenshot=png, after=1.0)) == EXIT_NO_PLC
    assert "simulator did not start" in capsys.readouterr().err
    assert not png.exists()


def test_screenshot_waits_for_every_room_then_exits_4(
    app_state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The simulator serves every PLC but ENV-2 is misaddressed: its rooms never go live."""
    sim = subprocess.Popen(
        [sys.executable, "-m", "necstgen_desk", "sim", "--free-ports", "--json"],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert sim.stdout is not None
        endpoints = json.loads(sim.stdout.readline())["endpoints"]
        endpoints["ENV-2"] = ["127.0.0.1", _closed_port()]
        text = DEFAULT_SITE_PATH.read_text(encoding="utf-8")
        ids = ("ENV-1", "ENV-2", "ENV-3", "DOOR-1")
        for plc_id, port in zip(ids, range(15021, 15025), strict=True):
            text = text.replace(f"port = {port}", f"port = {endpoints[plc_id][1]}")
        site_path = tmp_path / "site.toml"
        site_path.write_text(text, encoding="utf-8")
        png = tmp_path / "plan.png"
        code = run(AppOptions(site_path=site_path, screenshot=png, after=2.0))
    finally:
        assert sim.stdin is not None and sim.stdout is not None
        sim.stdin.close()
        sim.wait(timeout=10)
        sim.stdout.close()
    assert code == EXIT_NO_LIVE_VALUES
    err = capsys.readouterr().err
    assert "Not every room showed live values" in err
    assert "B-05" in err and "B-01" not in err
    assert not png.exists()


def test_closing_the_window_stops_cleanly(app_state: Path, tmp_path: Path) -> None:
    def close_main_window() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        if not windows:
            QTimer.singleShot(50, close_main_window)
            return
        for window in windows:
            window.quit_action.trigger()

    QTimer.singleShot(300, close_main_window)
    db = tmp_path / "records.sqlite"
    options = AppOptions(site_path=_site_without_plcs(tmp_path), db_url=f"sqlite:///{db}")
    assert run(options) == EXIT_OK
    assert db.exists()  # the records were opened (and the log-in asked for)
    log_text = (app_state / LOG_NAME).read_text(encoding="utf-8")
    assert "starting NECSTGEN Desk" in log_text


def test_logging_goes_to_a_rotating_file_once(app_state: Path, tmp_path: Path) -> None:
    path = configure_logging(tmp_path / "a")
    again = configure_logging(tmp_path / "b")
    assert path == tmp_path / "a" / LOG_NAME
    assert again == tmp_path / "b" / LOG_NAME
    ours = [h for h in logging.getLogger().handlers if h.get_name() == "necstgen-desk-file"]
    assert len(ours) == 1
    logging.getLogger("necstgen_desk.test").warning("hello log")
    ours[0].flush()
    assert "hello log" in path.read_text(encoding="utf-8")


@pytest.mark.timeout(90)
def test_demo_screenshot_end_to_end(tmp_path: Path) -> None:
    """The one-command demo: simulator child, pollers, plan, PNG — as a user runs it."""
    png = tmp_path / "demo.png"
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "necstgen_desk", "--screenshot", str(png), "--after", "30"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=80,
        check=False,
    )
    assert result.returncode == EXIT_OK, result.stderr
    image = QImage(str(png))
    assert (image.width(), image.height()) == (1600, 900)
    assert list((tmp_path / "state").rglob(LOG_NAME))


@pytest.mark.timeout(120)
def test_a_time_lapse_demo_records_on_the_plants_clock_and_a_second_run_continues(
    app_state: Path, tmp_path: Path
) -> None:
    """The real demo at speed 60 twice on one database: the historian records from
    the first minutes, the status bar says time-lapse and how the historian does,
    and the second run's time starts after the first run's newest record."""
    db = tmp_path / "records.sqlite"
    url = f"sqlite:///{db}"
    seen: dict[str, str] = {}

    def quit_after(seconds: float) -> None:
        def look_and_quit() -> None:
            windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
            if not windows:
                QTimer.singleShot(100, look_and_quit)
                return
            window = windows[0]
            if window.time_label is not None:
                seen["time"] = window.time_label.text()
            seen["ahead_s"] = str(now_utc().timestamp() - time.time())
            indicator = window.findChild(HistorianIndicator)
            if indicator is not None:
                seen["historian"] = indicator.text()
            window.quit_action.trigger()

        QTimer.singleShot(int(seconds * 1000), look_and_quit)

    options = AppOptions(speed=60.0, scenario=resources.path("scenarios", "b04-hour.toml"))
    options = replace(options, db_url=url)
    started = time.time()
    quit_after(8.0)
    assert run(options) == EXIT_OK
    assert seen["time"].startswith("▶▶ Time-lapse ×60")
    assert seen["historian"] == "✓ Historian"
    assert float(seen["ahead_s"]) > 60  # the forms' "now" is the plant's ...
    assert abs(now_utc().timestamp() - time.time()) < 5  # ... until the app closed
    first = newest_recorded_time(url)
    assert first is not None
    # About 8 real seconds at 60×: minutes of the plant, far ahead of the wall clock.
    assert first - started > 5 * 60
    engine = make_engine(url)
    try:
        query = HistorianQuery(engine, clock=lambda: first + 1)
        samples = query.raw("B-04.dp", started, first + 1)
        assert samples and samples[-1].t - samples[0].t > 4 * 60
    finally:
        engine.dispose()

    seen.clear()
    second_start = time.time()
    quit_after(4.0)
    assert run(options) == EXIT_OK
    engine = make_engine(url)
    try:
        query = HistorianQuery(engine, clock=lambda: time.time() + 10 * 3600)
        later = query.raw("B-04.dp", first + 0.5, second_start + 10 * 3600)
        assert later, "the second run recorded nothing after the first"
        assert later[0].t > first  # its time continued: never back into the first run
    finally:
        engine.dispose()
