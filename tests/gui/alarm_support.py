"""Driving the alarm screens: an engine on hand-made samples, a clock the test moves,
the records on a temporary SQLite file, people who log in through the dialogs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSettings
from pytestqt.qtbot import QtBot

from hal.points import LinkState, LinkStatus, Quality, Quantity, Sample, Value
from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.model import AlarmState
from necstgen_desk.live import PointStore
from necstgen_desk.records.roles import Role
from necstgen_desk.services import AuditView
from necstgen_desk.site import Site
from tests.gui.records_support import ADMIN, FAST_POLICY, FIRST_PASSWORD, Harness, sqlite_url
from ui.alarm_desk import AlarmDesk
from ui.horn import Horn, SilentSound
from ui.main_window import MainWindow
from ui.records_desk import RecordsConfig, RecordsDesk

LEAD = ("lena", "Lena Lead", "red kite 31")
MAINT = ("mats", "Mats Maintenance", "grey spanner 8")
SETTLE_S = 61.0  # past every on-delay of the default site


class TravelClock:
    """Wall-clock time plus an offset the test moves forward (shelves, on-delays)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def travel(self, seconds: float) -> None:
        self.offset += seconds


class CoilRecorder:
    """The coil writer of the GUI tests: records writes, and may act as the PLC."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, int, bool]] = []
        self.plc: Callable[[str, int, bool], None] | None = None

    async def write_coil(self, plc_id: str, address: int, value: bool) -> None:
        self.writes.append((plc_id, address, value))
        if self.plc is not None:
            self.plc(plc_id, address, value)


@dataclass
class AlarmHarness(Harness):
    site: Site = field(kw_only=True)
    store: PointStore = field(kw_only=True)
    engine: AlarmEngine = field(kw_only=True)
    alarms: AlarmDesk = field(kw_only=True)
    clock: TravelClock = field(kw_only=True)
    coils: CoilRecorder = field(kw_only=True)
    sound: SilentSound = field(kw_only=True)

    # -------------------------------------------------------------- the plant

    def feed(self, point_id: str, value: Value | None, quality: Quality = Quality.GOOD) -> None:
        self.store.publish([Sample(point_id, value, quality, self.clock(), "test")])

    def settle(self, seconds: float = SETTLE_S) -> None:
        """Time passes and the values hold: on-delays run out, the engine ticks.

        The PLCs keep answering meanwhile: every good value is read again (the
        heartbeats count on), so no record gap or frozen heartbeat is raised.
        """
        self.clock.travel(seconds)
        fresh: list[Sample] = []
        for point_id in self.store.point_ids:
            sample = self.store.latest(point_id)
            if sample is None or sample.quality is not Quality.GOOD or sample.value is None:
                continue
            value = sample.value
            if self.site.point_by_id[point_id].hal.quantity is Quantity.HEARTBEAT:
                value = int(value) + 1
            fresh.append(Sample(point_id, value, Quality.GOOD, self.clock()))
        self.store.publish(fresh)
        self.engine.tick()

    def state(self, alarm_id: str) -> AlarmState:
        return self.engine.alarm(alarm_id).state

    def wait_state(self, alarm_id: str, state: AlarmState, timeout: int = 5000) -> None:
        self.qtbot.waitUntil(lambda: self.state(alarm_id) is state, timeout=timeout)

    def wait_listed(self, *alarm_ids: str) -> None:
        """The alarm list (model) shows these alarms (the bridge delivered them)."""
        model = self.alarms.model
        self.qtbot.waitUntil(
            lambda: all(model.row_of(i) is not None for i in alarm_ids), timeout=5000
        )

    def wait_banner(self, alarm_id: str) -> None:
        banner = self.alarms.banner
        self.qtbot.waitUntil(
            lambda: alarm_id in [line.alarm_id for line in banner.shown_lines], timeout=5000
        )

    # -------------------------------------------------------------- people

    def make_users(self, *users: tuple[tuple[str, str, str], Role]) -> None:
        """Accounts made by the administrator through the service (the GUI for that is
        tested with the records); each logs in through the dialogs later."""
        records = self.desk.records
        assert records is not None
        worker = self.desk.worker

        async def go() -> None:
            admin = await worker.call(records.accounts.login, ADMIN[0], ADMIN[2])
            for (username, full_name, _password), role in users:
                await worker.call(
                    records.accounts.create_user,
                    admin,
                    username,
                    full_name,
                    role,
                    FIRST_PASSWORD,
                    "new colleague",
                )
            await worker.call(records.accounts.logout, admin)

        self.run(go())

    def audit(self, **filters: Any) -> list[AuditView]:
        """The audit trail, oldest first, read as the administrator."""
        records = self.desk.records
        assert records is not None
        worker = self.desk.worker

        async def go() -> list[AuditView]:
            admin = await worker.call(records.accounts.login, ADMIN[0], ADMIN[2])
            try:
                rows = await worker.call(records.audit.query, admin, **filters)
            finally:
                await worker.call(records.accounts.logout, admin)
            return list(reversed(rows))

        return self.run(go())

    # -------------------------------------------------------------- the list

    def shown_in_list(self, alarm_id: str) -> QModelIndex | None:
        """The alarm's index in the list as shown (None: not there, or filtered out)."""
        widget = self.alarms.list
        row = widget.model.row_of(alarm_id)
        if row is None:
            return None
        index = widget.proxy.mapFromSource(widget.model.index(row, 0))
        return index if index.isValid() else None

    def select_in_list(self, *alarm_ids: str) -> None:
        """Select these alarms in the list (waits until the list shows them)."""
        widget = self.alarms.list
        self.qtbot.waitUntil(
            lambda: all(self.shown_in_list(i) is not None for i in alarm_ids), timeout=5000
        )
        selection = widget.table.selectionModel()
        selection.clearSelection()
        for ident in alarm_ids:
            index = self.shown_in_list(ident)
            assert index is not None
            selection.select(
                index,
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
            )
        assert {a.id for a in widget.selected_alarms()} == set(alarm_ids)


def nominal(site: Site, store: PointStore, clock: TravelClock) -> None:
    """Every PLC up, every point at a normal value (doors closed, no faults)."""
    from tests.gui.conftest import nominal_samples  # noqa: PLC0415 - conftest helpers

    for plc in site.plcs:
        store.set_link(LinkStatus(plc.id, LinkState.UP, clock()))
    store.publish(nominal_samples(site))


@pytest.fixture
def alarm_harness(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    site: Site,
    store: PointStore,
    tmp_path: Path,
) -> Iterator[AlarmHarness]:
    """The main window with the alarm desk and the records desk on a fresh SQLite
    file; nobody logged in; the plant normal."""
    clock = TravelClock()
    engine = AlarmEngine(site, clock=clock)
    settings = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    window = MainWindow(site, store, settings=settings, remember_geometry=False)
    sound = SilentSound()
    alarms = AlarmDesk(window, engine, horn=Horn(sound), banner_refresh_ms=20)
    coils = CoilRecorder()
    config = RecordsConfig(
        db_url=sqlite_url(tmp_path / "records.sqlite"), password_policy=FAST_POLICY
    )
    desk = RecordsDesk(window, site, config, alarms=alarms, coil_writer=coils)
    window.resize(1600, 900)
    window.show()
    harness = AlarmHarness(
        qtbot,
        qloop,
        window,
        desk,
        site=site,
        store=store,
        engine=engine,
        alarms=alarms,
        clock=clock,
        coils=coils,
        sound=sound,
    )
    assert harness.run(desk.start())
    detach = engine.attach(store)
    nominal(site, store, clock)
    try:
        yield harness
    finally:
        harness.run(desk.stop())
        harness.run(alarms.stop())
        detach()
        window.close()
        window.deleteLater()
