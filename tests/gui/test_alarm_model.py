"""The alarm list's model: incremental updates agree with a full rebuild, and a
selection follows its alarms (not row numbers) while rows come and go."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from necstgen_desk.alarms.model import (
    Alarm,
    AlarmChange,
    AlarmDefinition,
    AlarmEvent,
    AlarmKind,
    AlarmState,
    Priority,
)
from necstgen_desk.site import Site
from ui.alarm_list import (
    ALARM_ROLE,
    AlarmColumn,
    AlarmFilter,
    AlarmFilterProxy,
    AlarmListWidget,
    AlarmTableModel,
    StateFilter,
)
from ui.horn import HORN_ENV, sound_enabled

T0 = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
STATES = [s for s in AlarmState if s is not AlarmState.NORMAL]


class FakeEngine:
    """Alarms by id as the engine would hand them out, and the changes it makes."""

    def __init__(self, count: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.alarms: dict[str, Alarm] = {}
        self.definitions = [
            AlarmDefinition(
                f"R-{i % 40:02d}.p{i}/alert",
                AlarmKind.LIMIT,
                f"R-{i % 40:02d}.p{i}",
                f"R-{i % 40:02d} point {i} alert limit",
                self.rng.choice(list(Priority)),
                room=f"R-{i % 40:02d}",
            )
            for i in range(count)
        ]
        self.seq = 0

    def lookup(self, alarm_id: str) -> Alarm | None:
        return self.alarms.get(alarm_id)

    def churn(self, size: int) -> list[AlarmChange]:
        """``size`` random changes: raise, acknowledge, clear, shelve, normal."""
        changes: list[AlarmChange] = []
        for definition in self.rng.sample(self.definitions, size):
            old = self.alarms.get(definition.id)
            state = self.rng.choice([AlarmState.NORMAL, *STATES])
            self.seq += 1
            at = T0 + timedelta(seconds=self.seq)
            if state is AlarmState.NORMAL:
                self.alarms.pop(definition.id, None)
            else:
                self.alarms[definition.id] = Alarm(
                    definition,
                    state,
                    True,
                    f"{definition.title}: {self.seq}",
                    float(self.seq),
                    raised_at=at,
                    changed_at=at,
                    seq=self.seq,
                )
            changes.append(
                AlarmChange(
                    self.seq,
                    definition,
                    AlarmEvent.CONDITION_ACTIVE,
                    old.state if old else AlarmState.NORMAL,
                    state,
                    True,
                    at,
                    "",
                )
            )
        return changes


def test_incremental_updates_match_a_rebuild(qtbot: QtBot) -> None:
    engine = FakeEngine(400)
    model = AlarmTableModel(engine.lookup)
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    proxy = AlarmFilterProxy(model)
    proxy_tester = QAbstractItemModelTester(
        proxy, QAbstractItemModelTester.FailureReportingMode.Warning
    )
    model.reset(engine.alarms.values())
    for size in (5, 40, 1, 120, 300, 17, 2, 60, 250, 9):
        model.apply(engine.churn(size))
        assert {a.id: a for a in model.alarms} == engine.alarms
        for row, alarm in enumerate(model.alarms):
            assert model.row_of(alarm.id) == row
        shown = proxy.alarms()
        expected = [a for a in engine.alarms.values() if StateFilter.ATTEND.accepts(a.state)]
        assert {a.id for a in shown} == {a.id for a in expected}
        keys = [
            proxy.data(proxy.index(r, AlarmColumn.PRIORITY), Qt.ItemDataRole.UserRole + 1)
            for r in range(proxy.rowCount())
        ]
        assert keys == sorted(keys)  # most urgent first, newest first within a priority
    del tester, proxy_tester


def test_filters_by_priority_state_room_and_text(qtbot: QtBot) -> None:
    engine = FakeEngine(200)
    engine.churn(200)
    model = AlarmTableModel(engine.lookup)
    model.reset(engine.alarms.values())
    proxy = AlarmFilterProxy(model)
    proxy.set_filter(AlarmFilter(priorities=frozenset({Priority.HIGH}), states=StateFilter.ALL))
    assert {a.priority for a in proxy.alarms()} == {Priority.HIGH}
    proxy.set_filter(AlarmFilter(states=StateFilter.SHELVED))
    assert {a.state for a in proxy.alarms()} == {AlarmState.SHELVED}
    proxy.set_filter(AlarmFilter(states=StateFilter.ALL, room="R-07"))
    assert proxy.alarms() and {a.room for a in proxy.alarms()} == {"R-07"}
    some = next(iter(engine.alarms.values()))
    proxy.set_filter(AlarmFilter(states=StateFilter.ALL, text=some.id.casefold()))
    assert [a.id for a in proxy.alarms()] == [some.id]


def test_a_selection_follows_its_alarm_as_rows_come_and_go(qtbot: QtBot, site: Site) -> None:
    engine = FakeEngine(300, seed=3)
    for _ in range(3):
        engine.churn(150)
    model = AlarmTableModel(engine.lookup)
    model.reset(engine.alarms.values())
    widget = AlarmListWidget(model, site)
    qtbot.addWidget(widget)
    widget.set_state_filter(StateFilter.ALL)
    chosen = widget.proxy.alarm_at(widget.proxy.rowCount() // 2).id
    widget.select_alarms([chosen])
    assert [a.id for a in widget.selected_alarms()] == [chosen]
    for _ in range(10):
        changes = [c for c in engine.churn(40) if c.alarm_id != chosen]
        model.apply(changes)
        assert [a.id for a in widget.selected_alarms()] == [chosen]
        view: QTableView = widget.table
        index: QModelIndex = view.selectionModel().selectedRows()[0]
        assert widget.proxy.data(index, ALARM_ROLE).id == chosen
    widget.table.selectionModel().select(
        widget.proxy.index(0, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert len(widget.selected_alarms()) == 1


def test_the_horn_makes_no_sound_in_tests_or_when_told_so() -> None:
    assert not sound_enabled({"QT_QPA_PLATFORM": "offscreen"})
    assert not sound_enabled({HORN_ENV: "off", "QT_QPA_PLATFORM": "xcb"})
    assert sound_enabled({"QT_QPA_PLATFORM": "xcb"})
