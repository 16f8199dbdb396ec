"""The alarm list: every alarm that is not normal, sortable and filterable.

Acknowledge one or several (with a comment), shelve one (reason, duration,
e-signature), unshelve, jump to its room on the plan, or — for an interlock
fault — open the Interlocks view, where maintenance acknowledges it.

Speed (benchmarks/alarms.py): the model follows the engine's change batches
row by row — a changed alarm is one ``dataChanged``, new alarms one
``rowsInserted`` at the end, gone ones one ``rowsRemoved`` per contiguous
run — and the proxy re-sorts only those rows; the model is never reset per
change. Sort keys are computed once per row, so a comparison costs one list
lookup. A selection follows its alarms, not row numbers.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum, StrEnum
from html import escape as esc
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from necstgen_desk.alarms.model import Alarm, AlarmChange, AlarmState
from necstgen_desk.site.model import Priority, Site
from ui.alarm_look import (
    PRIORITIES,
    PRIORITY_WORDS,
    STATE_WORDS,
    priority_icon,
    priority_text,
    value_text,
)
from ui.forms import AsyncDialog, InputProblem
from ui.timefmt import local_text, utc_text

type Index = QModelIndex | QPersistentModelIndex

SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 1
ALARM_ROLE = int(Qt.ItemDataRole.UserRole) + 2

#: Beyond this share of the rows changing in one batch, one reset is cheaper.
RESET_SHARE = 0.5


class AlarmColumn(IntEnum):
    PRIORITY = 0
    STATE = 1
    RAISED = 2
    ROOM = 3
    ALARM = 4
    VALUE = 5
    ACKNOWLEDGED = 6


_TITLES = {
    AlarmColumn.PRIORITY: "Priority",
    AlarmColumn.STATE: "State",
    AlarmColumn.RAISED: "Raised (local)",
    AlarmColumn.ROOM: "Room / source",
    AlarmColumn.ALARM: "Alarm",
    AlarmColumn.VALUE: "Value",
    AlarmColumn.ACKNOWLEDGED: "Acknowledged by",
}
_WIDTHS = {
    AlarmColumn.PRIORITY: 96,
    AlarmColumn.STATE: 150,
    AlarmColumn.RAISED: 240,
    AlarmColumn.ROOM: 125,
    AlarmColumn.ALARM: 520,
    AlarmColumn.VALUE: 110,
}
_COLUMNS = len(AlarmColumn)
_PRIORITY_RANK = {p: i for i, p in enumerate(PRIORITIES)}
_STATE_RANK = {
    AlarmState.UNACKNOWLEDGED: 0,
    AlarmState.RETURNED_UNACKNOWLEDGED: 1,
    AlarmState.ACKNOWLEDGED: 2,
    AlarmState.SHELVED: 3,
    AlarmState.SUPPRESSED: 4,
    AlarmState.OUT_OF_SERVICE: 5,
    AlarmState.NORMAL: 6,
}


def _ts(alarm: Alarm) -> float:
    at = alarm.raised_at or alarm.changed_at
    return at.timestamp() if at is not None else 0.0


class _Row:
    """One alarm and its sort keys (computed once per change, not per comparison)."""

    __slots__ = ("alarm", "id", "keys", "search")

    def __init__(self, alarm: Alarm) -> None:
        self.alarm = alarm
        self.id = alarm.definition.id
        ts = _ts(alarm)
        rank = _PRIORITY_RANK[alarm.priority]
        value = alarm.value
        number = (
            float(value)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else -math.inf
        )
        source = alarm.room or alarm.definition.source
        self.keys: tuple[Any, ...] = (
            rank * 1e10 - ts,  # most urgent first, newest first within a priority
            _STATE_RANK[alarm.state] * 10 + rank,
            ts,
            f"{source}\x00{alarm.id}",
            alarm.message.casefold(),
            number,
            alarm.acknowledged_by or "",
        )
        self.search = f"{alarm.id} {source} {alarm.message}".casefold()


class AlarmTableModel(QAbstractTableModel):
    """The alarms that are not normal, updated incrementally from change batches.

    ``lookup(alarm_id)`` gives the alarm as it is now (the engine's snapshot);
    a batch only names which alarms to look at again, so batches delivered late
    or merged never leave a row behind the engine.
    """

    def __init__(
        self, lookup: Callable[[str], Alarm | None], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._lookup = lookup
        self._rows: list[_Row] = []
        self._index: dict[str, int] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    # -------------------------------------------------------------- contents

    def reset(self, alarms: Iterable[Alarm]) -> None:
        """Replace every row (at start, and for batches touching most rows)."""
        self.beginResetModel()
        self._rows = [_Row(a) for a in alarms if a.state is not AlarmState.NORMAL]
        self._index = {row.id: i for i, row in enumerate(self._rows)}
        self.endResetModel()

    def apply(self, changes: Sequence[AlarmChange]) -> None:
        """Follow one batch of changes: update, insert and remove only those rows."""
        ids = list(dict.fromkeys(c.alarm_id for c in changes))
        if not ids:
            return
        if len(ids) > 64 and len(ids) > RESET_SHARE * max(1, len(self._rows)):
            current = (self._lookup(i) for i in set(self._index) | set(ids))
            self.reset(a for a in current if a is not None)
            return
        last_column = _COLUMNS - 1
        added: list[_Row] = []
        removed: list[int] = []
        for ident in ids:
            alarm = self._lookup(ident)
            row = self._index.get(ident)
            if alarm is None or alarm.state is AlarmState.NORMAL:
                if row is not None:
                    removed.append(row)
            elif row is None:
                added.append(_Row(alarm))
            else:
                self._rows[row] = _Row(alarm)
                self.dataChanged.emit(self.index(row, 0), self.index(row, last_column))
        if removed:
            self._remove(removed)
        if added:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            for offset, new in enumerate(added):
                self._index[new.id] = first + offset
            self._rows.extend(added)
            self.endInsertRows()

    def _remove(self, doomed: list[int]) -> None:
        """Remove rows in contiguous runs, from the bottom up; renumber once."""
        doomed.sort(reverse=True)
        run_end = run_start = doomed[0]
        runs: list[tuple[int, int]] = []
        for row in doomed[1:]:
            if row == run_start - 1:
                run_start = row
            else:
                runs.append((run_start, run_end))
                run_end = run_start = row
        runs.append((run_start, run_end))
        for start, end in runs:
            self.beginRemoveRows(QModelIndex(), start, end)
            for gone in self._rows[start : end + 1]:
                del self._index[gone.id]
            del self._rows[start : end + 1]
            self.endRemoveRows()
        lowest = runs[-1][0]
        index = self._index
        rows = self._rows
        for i in range(lowest, len(rows)):
            index[rows[i].id] = i

    # -------------------------------------------------------------- reading

    def alarm_at(self, row: int) -> Alarm:
        return self._rows[row].alarm

    def row_entry(self, row: int) -> _Row:
        return self._rows[row]

    def row_of(self, alarm_id: str) -> int | None:
        return self._index.get(alarm_id)

    @property
    def alarms(self) -> list[Alarm]:
        return [r.alarm for r in self._rows]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else _COLUMNS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if not index.isValid() or not 0 <= row < len(self._rows):
            return None
        entry = self._rows[row]
        column = index.column()
        if role == SORT_ROLE:
            return entry.keys[column]
        alarm = entry.alarm
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(alarm, AlarmColumn(column))
        if role == ALARM_ROLE:
            return alarm
        if role == Qt.ItemDataRole.DecorationRole and column == AlarmColumn.PRIORITY:
            return priority_icon(alarm.priority, filled=alarm.state.needs_acknowledgement)
        if role == Qt.ItemDataRole.FontRole and alarm.state.needs_acknowledgement:
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(alarm)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _TITLES[AlarmColumn(section)]
        return None


def _display(alarm: Alarm, column: AlarmColumn) -> str:
    match column:
        case AlarmColumn.PRIORITY:
            return PRIORITY_WORDS[alarm.priority]
        case AlarmColumn.STATE:
            return STATE_WORDS[alarm.state]
        case AlarmColumn.RAISED:
            return local_text(alarm.raised_at or alarm.changed_at)
        case AlarmColumn.ROOM:
            return alarm.room or alarm.definition.source
        case AlarmColumn.ALARM:
            if alarm.state is AlarmState.SHELVED and alarm.shelved_until is not None:
                return f"{alarm.message}  [shelved until {local_text(alarm.shelved_until)}]"
            return alarm.message
        case AlarmColumn.VALUE:
            return value_text(alarm)
        case AlarmColumn.ACKNOWLEDGED:
            if alarm.acknowledged_by is None:
                return ""
            return f"{alarm.acknowledged_by}, {local_text(alarm.acknowledged_at)}"


def _tooltip(alarm: Alarm) -> str:
    d = alarm.definition
    lines = [
        f"<b>{esc(priority_text(alarm.priority))} — {esc(d.title)}</b>",
        esc(alarm.message),
        f"State: {esc(alarm.state.display_name)}"
        + ("; condition present" if alarm.active else "; condition cleared"),
        f"Alarm id: {esc(alarm.id)}",
    ]
    if alarm.raised_at is not None:
        lines.append(
            f"Raised {esc(local_text(alarm.raised_at))} ({esc(utc_text(alarm.raised_at))})"
        )
    if alarm.acknowledged_by is not None:
        lines.append(
            f"Acknowledged by {esc(alarm.acknowledged_by)} {esc(local_text(alarm.acknowledged_at))}"
        )
    if alarm.state is AlarmState.SHELVED:
        lines.append(
            f"Shelved by {esc(alarm.shelved_by or '?')} until "
            f"{esc(local_text(alarm.shelved_until))}: {esc(alarm.shelve_reason)}"
        )
    if d.holdoff_justification:
        lines.append(f"Door hold-off {d.door_holdoff_s:g} s: {esc(d.holdoff_justification)}")
    return "<br>".join(lines)


# ------------------------------------------------------------------ filtering


class StateFilter(StrEnum):
    ATTEND = "attend"  # unacknowledged, acknowledged, returned
    UNACKNOWLEDGED = "unacknowledged"
    SHELVED = "shelved"
    HIDDEN = "hidden"  # suppressed by design, out of service
    ALL = "all"

    @property
    def display_name(self) -> str:
        return _STATE_FILTER_NAMES[self]

    def accepts(self, state: AlarmState) -> bool:
        return state in _STATE_FILTER_STATES[self]


_STATE_FILTER_NAMES = {
    StateFilter.ATTEND: "Active: to attend",
    StateFilter.UNACKNOWLEDGED: "Unacknowledged",
    StateFilter.SHELVED: "Shelved",
    StateFilter.HIDDEN: "Suppressed / out of service",
    StateFilter.ALL: "Every alarm not normal",
}
_S = AlarmState
_STATE_FILTER_STATES = {
    StateFilter.ATTEND: frozenset({_S.UNACKNOWLEDGED, _S.ACKNOWLEDGED, _S.RETURNED_UNACKNOWLEDGED}),
    StateFilter.UNACKNOWLEDGED: frozenset({_S.UNACKNOWLEDGED, _S.RETURNED_UNACKNOWLEDGED}),
    StateFilter.SHELVED: frozenset({_S.SHELVED}),
    StateFilter.HIDDEN: frozenset({_S.SUPPRESSED, _S.OUT_OF_SERVICE}),
    StateFilter.ALL: frozenset(set(AlarmState) - {_S.NORMAL}),
}


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    priorities: frozenset[Priority] = frozenset(PRIORITIES)
    states: StateFilter = StateFilter.ATTEND
    room: str = ""
    text: str = ""


class AlarmFilterProxy(QSortFilterProxyModel):
    """Sorts by precomputed keys; filters by priority, state group, room and text."""

    def __init__(self, source: AlarmTableModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self.where = AlarmFilter()
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)
        self.sort(AlarmColumn.PRIORITY, Qt.SortOrder.AscendingOrder)

    def set_filter(self, where: AlarmFilter) -> None:
        if where != self.where:
            self.beginFilterChange()
            self.where = where
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        entry = self._source.row_entry(source_row)
        alarm = entry.alarm
        where = self.where
        if alarm.priority not in where.priorities or not where.states.accepts(alarm.state):
            return False
        if where.room and (alarm.room or alarm.definition.source) != where.room:
            return False
        return not where.text or where.text in entry.search

    def alarm_at(self, row: int) -> Alarm:
        return self._source.alarm_at(self.mapToSource(self.index(row, 0)).row())

    def alarms(self) -> list[Alarm]:
        """The alarms shown, in the order shown."""
        return [self.alarm_at(r) for r in range(self.rowCount())]


# ------------------------------------------------------------------ the widget


class AlarmListWidget(QWidget):
    """Filters, the table, and the actions on the selected alarms.

    The actions are signals; the alarm desk runs them (dialogs, service calls).
    """

    acknowledge_requested = Signal(object)  # list[str]
    shelve_requested = Signal(str)
    unshelve_requested = Signal(str)
    show_room_requested = Signal(str)
    interlock_requested = Signal(str)  # airlock id
    history_requested = Signal()

    def __init__(self, model: AlarmTableModel, site: Site, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmList")
        self.model = model
        self.site = site
        self.proxy = AlarmFilterProxy(model, self)
        self._may_ack = False
        self._may_shelve = False
        self._why_not = "Log in to act on alarms"

        self.priority_boxes: dict[Priority, QCheckBox] = {}
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show:", self))
        for priority in PRIORITIES:
            box = QCheckBox(priority_text(priority), self)
            box.setObjectName(f"show_{priority.value}")
            box.setChecked(True)
            box.toggled.connect(self._filter_changed)
            self.priority_boxes[priority] = box
            filters.addWidget(box)
        self.state_filter = QComboBox(self)
        self.state_filter.setObjectName("stateFilter")
        for option in StateFilter:
            self.state_filter.addItem(option.display_name, option.value)
        self.state_filter.currentIndexChanged.connect(self._filter_changed)
        self.room_filter = QComboBox(self)
        self.room_filter.setObjectName("alarmRoomFilter")
        self.room_filter.addItem("All rooms and sources", "")
        for space in site.spaces:
            self.room_filter.addItem(f"{space.id} — {space.name}", space.id)
        for plc in site.plcs:
            self.room_filter.addItem(f"PLC {plc.id}", plc.id)
        self.room_filter.currentIndexChanged.connect(self._filter_changed)
        self.text_filter = QLineEdit(self)
        self.text_filter.setObjectName("alarmTextFilter")
        self.text_filter.setPlaceholderText("search alarms")
        self.text_filter.setClearButtonEnabled(True)
        self.text_filter.textChanged.connect(self._filter_changed)
        filters.addWidget(self.state_filter)
        filters.addWidget(self.room_filter)
        filters.addWidget(self.text_filter, 1)

        self.table = QTableView(self)
        self.table.setObjectName("alarmTable")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(AlarmColumn.PRIORITY, Qt.SortOrder.AscendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in _WIDTHS.items():
            header.resizeSection(column, width)
        self.table.doubleClicked.connect(self._double_clicked)
        # The buttons and the count follow the rows, once per pass of the event loop
        # (a batch of changes emits many signals).
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(0)
        self._refresh.timeout.connect(self._update_buttons)
        self._refresh.timeout.connect(self._update_summary)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        for signal in (
            self.proxy.modelReset,
            self.proxy.rowsInserted,
            self.proxy.rowsRemoved,
            self.proxy.dataChanged,
            self.proxy.layoutChanged,
        ):
            signal.connect(self._refresh.start)

        self.ack_button = QPushButton("Acknowledge…", self)
        self.ack_button.setObjectName("acknowledgeAlarms")
        self.ack_button.clicked.connect(self._acknowledge)
        self.shelve_button = QPushButton("Shelve…", self)
        self.shelve_button.setObjectName("shelveAlarm")
        self.shelve_button.clicked.connect(self._shelve)
        self.unshelve_button = QPushButton("Unshelve…", self)
        self.unshelve_button.setObjectName("unshelveAlarm")
        self.unshelve_button.clicked.connect(self._unshelve)
        self.room_button = QPushButton("Show room", self)
        self.room_button.setObjectName("showRoom")
        self.room_button.clicked.connect(self._show_room)
        self.interlock_button = QPushButton("Interlock…", self)
        self.interlock_button.setObjectName("openInterlock")
        self.interlock_button.clicked.connect(self._interlock)
        self.history_button = QPushButton("History…", self)
        self.history_button.setObjectName("alarmHistoryButton")
        self.history_button.clicked.connect(self.history_requested)
        self.summary = QLabel(self)
        self.summary.setObjectName("hint")
        buttons = QHBoxLayout()
        for button in (
            self.ack_button,
            self.shelve_button,
            self.unshelve_button,
            self.room_button,
            self.interlock_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.summary)
        buttons.addWidget(self.history_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._update_buttons()
        self._update_summary()

    # -------------------------------------------------------------- filters

    def current_filter(self) -> AlarmFilter:
        return AlarmFilter(
            priorities=frozenset(p for p, box in self.priority_boxes.items() if box.isChecked()),
            states=StateFilter(str(self.state_filter.currentData())),
            room=str(self.room_filter.currentData() or ""),
            text=self.text_filter.text().strip().casefold(),
        )

    def set_state_filter(self, option: StateFilter) -> None:
        self.state_filter.setCurrentIndex(self.state_filter.findData(option.value))

    def _filter_changed(self) -> None:
        self.proxy.set_filter(self.current_filter())
        self._update_summary()
        self._update_buttons()

    def _update_summary(self) -> None:
        self.summary.setText(f"{self.proxy.rowCount()} shown of {self.model.rowCount()} not normal")

    # -------------------------------------------------------------- selection

    def selected_alarms(self) -> list[Alarm]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.proxy.alarm_at(r) for r in rows]

    def select_alarms(self, alarm_ids: Iterable[str]) -> None:
        """Select these alarms (where shown) and scroll to the first."""
        selection = self.table.selectionModel()
        selection.clearSelection()
        first: QModelIndex | None = None
        for ident in alarm_ids:
            row = self.model.row_of(ident)
            if row is None:
                continue
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            if not index.isValid():
                continue
            selection.select(
                index,
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
            )
            first = first or index
        if first is not None:
            self.table.scrollTo(first)

    def set_permissions(self, *, acknowledge: bool, shelve: bool, why_not: str = "") -> None:
        self._may_ack = acknowledge
        self._may_shelve = shelve
        self._why_not = why_not
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = self.selected_alarms()
        due = [a for a in chosen if a.state.needs_acknowledgement]
        one = chosen[0] if len(chosen) == 1 else None
        self.ack_button.setEnabled(self._may_ack and bool(due))
        self.ack_button.setToolTip("" if self._may_ack else self._why_not)
        self.shelve_button.setEnabled(
            self._may_shelve
            and one is not None
            and one.state in (_S.UNACKNOWLEDGED, _S.ACKNOWLEDGED, _S.RETURNED_UNACKNOWLEDGED)
        )
        self.unshelve_button.setEnabled(
            self._may_shelve and one is not None and one.state is _S.SHELVED
        )
        tip = "" if self._may_shelve else "Shift leads and QA shelve alarms"
        self.shelve_button.setToolTip(tip)
        self.unshelve_button.setToolTip(tip)
        self.room_button.setEnabled(one is not None and self._room_of(one) is not None)
        self.interlock_button.setEnabled(one is not None and self._airlock_of(one) is not None)

    def _room_of(self, alarm: Alarm) -> str | None:
        room = alarm.room or alarm.definition.source
        return room if room in self.site.space_by_id else None

    def _airlock_of(self, alarm: Alarm) -> str | None:
        source = alarm.definition.source
        return source if any(a.id == source for a in self.site.airlocks) else None

    # -------------------------------------------------------------- actions

    def _acknowledge(self) -> None:
        ids = [a.id for a in self.selected_alarms() if a.state.needs_acknowledgement]
        if ids:
            self.acknowledge_requested.emit(ids)

    def _shelve(self) -> None:
        chosen = self.selected_alarms()
        if len(chosen) == 1:
            self.shelve_requested.emit(chosen[0].id)

    def _unshelve(self) -> None:
        chosen = self.selected_alarms()
        if len(chosen) == 1:
            self.unshelve_requested.emit(chosen[0].id)

    def _show_room(self) -> None:
        chosen = self.selected_alarms()
        if len(chosen) == 1 and (room := self._room_of(chosen[0])) is not None:
            self.show_room_requested.emit(room)

    def _interlock(self) -> None:
        chosen = self.selected_alarms()
        if len(chosen) == 1 and (airlock := self._airlock_of(chosen[0])) is not None:
            self.interlock_requested.emit(airlock)

    def _double_clicked(self, index: QModelIndex) -> None:
        alarm = self.proxy.alarm_at(index.row())
        room = self._room_of(alarm)
        if room is not None:
            self.show_room_requested.emit(room)


# ------------------------------------------------------------------ dialogs


def alarm_lines(alarms: Sequence[Alarm], limit: int = 8) -> str:
    lines = [f"{priority_text(a.priority)} — {a.message}" for a in alarms[:limit]]
    if len(alarms) > limit:
        lines.append(f"… and {len(alarms) - limit} more")
    return "\n".join(lines)


class AcknowledgeDialog[R](AsyncDialog[R]):
    """Acknowledge the listed alarms with a comment (it goes into the audit trail)."""

    def __init__(
        self,
        alarms: Sequence[Alarm],
        act: Callable[[str], Awaitable[R]],
        parent: QWidget | None = None,
    ) -> None:
        count = len(alarms)
        super().__init__(
            "Acknowledge alarm" if count == 1 else f"Acknowledge {count} alarms",
            parent,
            ok_text="Acknowledge",
        )
        self.alarms = list(alarms)
        self._act = act
        title = QLabel(
            "Acknowledge this alarm" if count == 1 else f"Acknowledge these {count} alarms",
            self.body,
        )
        title.setObjectName("dialogTitle")
        listing = QLabel(alarm_lines(self.alarms), self.body)
        listing.setObjectName("alarmsToAcknowledge")
        listing.setWordWrap(True)
        listing.setTextFormat(Qt.TextFormat.PlainText)
        self.comment = QLineEdit(self.body)
        self.comment.setObjectName("comment")
        self.comment.setPlaceholderText("what you saw or did (recorded in the audit trail)")
        note = QLabel(
            "Acknowledging says you have seen the alarm; it stays listed while its "
            "condition is present.",
            self.body,
        )
        note.setObjectName("hint")
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Comment:", self.comment)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(listing)
        layout.addWidget(note)
        layout.addLayout(form)
        self.comment.setFocus()
        self.setMinimumWidth(560)

    async def submit(self) -> R:
        comment = self.comment.text().strip()
        if not comment:
            self.comment.setFocus()
            raise InputProblem("Give a comment: every acknowledgement is recorded with it.")
        return await self._act(comment)


class ShelveDialog(AsyncDialog[tuple[str, timedelta]]):
    """The reason and the time of a shelving (the signature follows)."""

    def __init__(
        self, alarm: Alarm, durations: Sequence[timedelta], parent: QWidget | None = None
    ) -> None:
        super().__init__("Shelve alarm", parent, ok_text="Continue to sign…")
        self.alarm = alarm
        title = QLabel("Shelve this alarm", self.body)
        title.setObjectName("dialogTitle")
        what = QLabel(f"{priority_text(alarm.priority)} — {alarm.message}", self.body)
        what.setWordWrap(True)
        self.reason = QLineEdit(self.body)
        self.reason.setObjectName("shelveReason")
        self.reason.setPlaceholderText("why it may be hidden (recorded and signed)")
        self.duration = QComboBox(self.body)
        self.duration.setObjectName("shelveDuration")
        for duration in durations:
            self.duration.addItem(_duration_text(duration), duration)
        self.duration.setCurrentIndex(min(2, self.duration.count() - 1))
        note = QLabel(
            "A shelved alarm is hidden from the list and the banner (the banner counts it) "
            "and comes back by itself when the time is up.",
            self.body,
        )
        note.setObjectName("hint")
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Reason:", self.reason)
        form.addRow("For:", self.duration)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(what)
        layout.addWidget(note)
        layout.addLayout(form)
        self.reason.setFocus()
        self.setMinimumWidth(520)

    async def submit(self) -> tuple[str, timedelta]:
        reason = self.reason.text().strip()
        if not reason:
            self.reason.setFocus()
            raise InputProblem("Give a reason: a shelved alarm is hidden, so say why.")
        duration = self.duration.currentData()
        assert isinstance(duration, timedelta)
        return reason, duration


def _duration_text(duration: timedelta) -> str:
    minutes = round(duration.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" if not rest else f"{hours} h {rest} min"
