"""GUI test fixtures: offscreen Qt, isolated settings, hand-made samples, a qasync loop.

Hygiene (napari, ophyd-async): a test fails if it leaves a top-level widget
or an asyncio task behind.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from collections.abc import Coroutine, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hal.points import Quality, Quantity, Sample
from necstgen_desk.live import PointStore
from necstgen_desk.site import DEFAULT_SITE_PATH, Site, load_site
from ui.main_window import MainWindow
from ui.records_desk import RecordsConfig, RecordsDesk

from .alarm_support import alarm_harness  # noqa: F401 - the alarm screens' fixture
from .records_support import FAST_POLICY, Harness, sqlite_url

# Before the QApplication exists (qapp fixture) and before qasync is imported.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

# The offscreen platform says so whenever a window is shown or raised; not our bug.
_OFFSCREEN_NOISE = (
    r"This plugin does not support (propagateSizeHints\(\)|raise\(\)|grabbing the (keyboard|mouse))"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "records_config(**fields): RecordsConfig fields for records_harness"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.qt_log_ignore(_OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path) -> Path:
    """QSettings of every test go to a temporary folder, never the user's."""
    folder = tmp_path / "settings"
    folder.mkdir()
    scope = QSettings.Scope.UserScope
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, scope, str(folder))
    return folder


@pytest.fixture(autouse=True)
def _no_leaked_widgets(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a top-level widget alive (pytest-qt closes added ones)."""
    before = {id(w) for w in qapp.topLevelWidgets()}
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()
    leaked = [
        w
        for w in qapp.topLevelWidgets()
        if id(w) not in before and type(w).__name__ not in {"QTipLabel"}
    ]
    names = [f"{type(w).__name__}({w.objectName()!r})" for w in leaked]
    for widget in leaked:
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not names, f"test left widgets behind: {names}"


# ------------------------------------------------------------------ site and samples


@pytest.fixture(scope="session")
def site() -> Site:
    return load_site(DEFAULT_SITE_PATH)


@pytest.fixture
def store(site: Site) -> PointStore:
    return PointStore([p.id for p in site.points], [plc.id for plc in site.plcs])


NOMINAL = {
    Quantity.TEMPERATURE: 21.0,
    Quantity.HUMIDITY: 45.0,
    Quantity.PARTICLES_0_5: 1_200.0,
    Quantity.PARTICLES_5: 12.0,
}


def nominal_value(site: Site, point_id: str) -> float | bool | int | None:
    """A normal reading for a point: setpoint differentials, doors closed, no faults."""
    config = site.point_by_id[point_id]
    quantity = config.hal.quantity
    if quantity is Quantity.DIFFERENTIAL_PRESSURE:
        target = site.space_by_id[config.hal.target].setpoint_pa
        ref = config.hal.reference
        return target - (site.space_by_id[ref].setpoint_pa if ref in site.space_by_id else 0.0)
    if quantity in NOMINAL:
        return NOMINAL[quantity]
    if quantity is Quantity.DOOR_CLOSED:
        return True
    if quantity is Quantity.DOOR_LOCKED:
        return False
    if quantity is Quantity.INTERLOCK_FAULT:
        return 0
    if quantity is Quantity.HEARTBEAT:
        return 1
    return None


def good(point_id: str, value: float | bool | int, at: float | None = None) -> Sample:
    return Sample(point_id, value, Quality.GOOD, time.time() if at is None else at)


def nominal_samples(site: Site, point_ids: Iterable[str] | None = None) -> list[Sample]:
    ids = point_ids if point_ids is not None else (p.id for p in site.points)
    now = time.time()
    samples = []
    for point_id in ids:
        value = nominal_value(site, point_id)
        if value is not None:
            samples.append(good(point_id, value, now))
    return samples


@pytest.fixture
def live_store(site: Site, store: PointStore) -> PointStore:
    """A store where every point has a normal, GOOD reading."""
    store.publish(nominal_samples(site))
    return store


# ------------------------------------------------------------------ asyncio on Qt


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop driven by Qt's event processing, as in the app.

    Tests stay synchronous and wait with ``qtbot.waitUntil``: Qt runs the loop's
    callbacks while it waits, as the app's Qt loop does. (An ``async def`` test
    cannot use waitUntil: the nested Qt loop would re-enter asyncio tasks.)
    Fails a test that leaves tasks running.
    """
    import qasync  # noqa: PLC0415 - after QT_API is set

    loop: asyncio.AbstractEventLoop = qasync.QEventLoop(qapp)
    asyncio.events._set_running_loop(loop)
    try:
        yield loop
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        deadline = time.monotonic() + 5
        while any(not t.done() for t in pending) and time.monotonic() < deadline:
            qapp.processEvents()
        assert not pending, f"test left asyncio tasks running: {pending}"
    finally:
        asyncio.events._set_running_loop(None)
        loop.close()
        # The loop's Qt helpers (qasync timers) must die here, on the GUI thread: left
        # to the cyclic GC they may be collected on a worker thread of a later test.
        gc.collect()


def run_in_loop[T](
    qtbot: QtBot,
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, T],
    timeout_ms: int = 10_000,
) -> T:
    """Run a coroutine on the qasync loop while Qt processes events; return its result."""
    task = loop.create_task(coro)
    qtbot.waitUntil(task.done, timeout=timeout_ms)
    return task.result()


# ------------------------------------------------------------------ GMP records


@pytest.fixture
def records_harness(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    site: Site,
    store: PointStore,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Harness]:
    """The main window with the records desk on a fresh SQLite file, nobody logged in.

    ``@pytest.mark.records_config(idle_lock=timedelta(seconds=1))`` changes the config.
    """
    marker = request.node.get_closest_marker("records_config")
    fields: dict[str, Any] = dict(marker.kwargs) if marker else {}
    settings = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    window = MainWindow(site, store, settings=settings, remember_geometry=False)
    config = RecordsConfig(
        db_url=sqlite_url(tmp_path / "records.sqlite"), password_policy=FAST_POLICY, **fields
    )
    desk = RecordsDesk(window, site, config)
    window.resize(1600, 900)
    window.show()
    harness = Harness(qtbot, qloop, window, desk)
    assert harness.run(desk.start())
    try:
        yield harness
    finally:
        harness.run(desk.stop())
        window.close()
        window.deleteLater()
