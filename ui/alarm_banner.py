"""The alarm banner across the top of the main window.

What an operator must see at a glance (ISA-18.2, ISA-101):

- the count of listed alarms per priority, each with its shape and word
  (▲ HIGH 3 · ◆ MEDIUM 1 · ▼ LOW 0) and how many await acknowledgement;
- the newest, most urgent unacknowledged alarms, one line each, with an
  Acknowledge… button (an interlock fault's goes to the Interlocks view);
- what is hidden: shelved, suppressed by design, out of service;
- an alarm flood, with the time spent in it;
- the horn: ♪ sounding, and Silence (which does not acknowledge).

Grey and quiet when nothing is wrong; colour only on counts that are not
zero, always with the shape and the word. The banner reads the engine a few
times a second at most (the alarm desk schedules :meth:`AlarmBanner.refresh`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.model import Alarm, AlarmCounts, AlarmKind, AlarmState, FloodStatus
from necstgen_desk.site.model import Priority
from ui.alarm_look import (
    PRIORITIES,
    PRIORITY_SHAPES,
    PRIORITY_WORDS,
    priority_icon,
)
from ui.horn import Horn
from ui.timefmt import local_text

#: Unacknowledged alarms shown one per line.
BANNER_LINES = 3
_RANK = {p: i for i, p in enumerate(PRIORITIES)}


def _restyle(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def newest_most_urgent(alarms: list[Alarm], count: int = BANNER_LINES) -> list[Alarm]:
    """Most urgent first, newest first within a priority."""

    def key(alarm: Alarm) -> tuple[int, float, str]:
        at = alarm.changed_at or alarm.raised_at
        return (_RANK[alarm.priority], -(at.timestamp() if at else 0.0), alarm.id)

    return sorted(alarms, key=key)[:count]


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class PriorityCount(QLabel):
    """``▲ HIGH 3``: the stylesheet colours it by ``priority`` when ``active``."""

    def __init__(self, priority: Priority, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.priority = priority
        self.count = -1
        self.unacknowledged = -1
        self.setObjectName(f"count_{priority.value}")
        self.setProperty("priority", priority.value)
        self.setProperty("active", False)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.set_count(0, 0)

    def set_count(self, count: int, unacknowledged: int) -> None:
        if (count, unacknowledged) == (self.count, self.unacknowledged):
            return
        self.count, self.unacknowledged = count, unacknowledged
        self.setText(f"{PRIORITY_SHAPES[self.priority]} {PRIORITY_WORDS[self.priority]} {count}")
        self.setToolTip(
            f"{count} {PRIORITY_WORDS[self.priority]} alarm(s) listed, "
            f"{unacknowledged} unacknowledged"
        )
        active = count > 0
        if self.property("active") != active:
            self.setProperty("active", active)
            _restyle(self)


@dataclass(frozen=True, slots=True)
class BannerLine:
    """What one line shows (tests read it)."""

    alarm_id: str
    text: str
    interlock: bool


class AlarmLine(QFrame):
    """One unacknowledged alarm: shape, priority, time, message, and its button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmLine")
        self.alarm: Alarm | None = None
        self.shape = QLabel(self)
        self.shape.setFixedWidth(18)
        self.priority = QLabel(self)
        self.priority.setObjectName("alarmLinePriority")
        self.priority.setFixedWidth(70)
        self.when = QLabel(self)
        self.when.setObjectName("alarmLineTime")
        self.message = QLabel(self)
        self.message.setObjectName("alarmLineText")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.button = QPushButton("Acknowledge…", self)
        self.button.setObjectName("bannerAcknowledge")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 1, 4, 1)
        layout.setSpacing(8)
        layout.addWidget(self.shape)
        layout.addWidget(self.priority)
        layout.addWidget(self.when)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.button)

    def show_alarm(self, alarm: Alarm) -> None:
        self.alarm = alarm
        self.shape.setPixmap(priority_icon(alarm.priority).pixmap(QSize(14, 14)))
        self.priority.setText(PRIORITY_WORDS[alarm.priority])
        self.setProperty("priority", alarm.priority.value)
        at = alarm.raised_at or alarm.changed_at
        self.when.setText(local_text(at)[11:19] if at is not None else "")
        self.when.setToolTip(local_text(at))
        self.message.setText(alarm.message)
        self.message.setToolTip(f"{alarm.message}\n{alarm.id}")
        interlock = alarm.kind is AlarmKind.INTERLOCK_FAULT
        self.button.setText("Interlock…" if interlock else "Acknowledge…")
        _restyle(self)
        self.show()

    @property
    def line(self) -> BannerLine | None:
        if self.alarm is None or self.isHidden():
            return None
        return BannerLine(
            self.alarm.id, self.message.text(), self.alarm.kind is AlarmKind.INTERLOCK_FAULT
        )


class AlarmBanner(QFrame):
    """Counts, the newest unacknowledged alarms, hidden alarms, flood and horn."""

    acknowledge_requested = Signal(object)  # list[str]
    interlock_requested = Signal(str)  # airlock id
    list_requested = Signal()

    def __init__(
        self,
        engine: AlarmEngine,
        horn: Horn,
        parent: QWidget | None = None,
        *,
        alarms: Callable[[], Iterable[Alarm]] | None = None,
    ) -> None:
        """``alarms`` gives the alarms that are not normal (the alarm list's rows,
        already kept up to date); without it the banner asks the engine."""
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        self.setProperty("worst", "none")
        self.engine = engine
        self.horn = horn
        self._alarms = alarms
        self._may_ack = False
        self._why_not = "Log in to acknowledge"
        self.counts = AlarmCounts()
        self.flood = FloodStatus(False, None, 0, 0.0)

        self.count_labels = {p: PriorityCount(p, self) for p in PRIORITIES}
        self.unack_label = QLabel(self)
        self.unack_label.setObjectName("unackCount")
        self.hidden_label = QLabel(self)
        self.hidden_label.setObjectName("hiddenCounts")
        self.flood_label = QLabel(self)
        self.flood_label.setObjectName("floodIndicator")
        self.flood_label.hide()
        self.horn_label = QLabel(self)
        self.horn_label.setObjectName("hornState")
        self.silence_button = QPushButton("Silence horn", self)
        self.silence_button.setObjectName("silenceHorn")
        self.silence_button.setToolTip("Stop the sound; the alarms stay unacknowledged")
        self.silence_button.clicked.connect(self._silence)
        self.list_button = QPushButton("Alarm list", self)
        self.list_button.setObjectName("openAlarmList")
        self.list_button.clicked.connect(self.list_requested)
        self.quiet = QLabel("No unacknowledged alarms.", self)
        self.quiet.setMinimumHeight(24)
        self.quiet.setObjectName("bannerQuiet")

        top = QHBoxLayout()
        top.setSpacing(10)
        title = QLabel("ALARMS", self)
        title.setObjectName("bannerTitle")
        top.addWidget(title)
        for label in self.count_labels.values():
            top.addWidget(label)
        top.addWidget(self.unack_label)
        top.addStretch(1)
        top.addWidget(self.flood_label)
        top.addSpacing(12)
        top.addWidget(self.hidden_label)

        side = QVBoxLayout()
        side.setSpacing(3)
        side.addWidget(self.horn_label)
        side.addWidget(self.silence_button)
        side.addWidget(self.list_button)
        side.addStretch(1)

        self.lines = [AlarmLine(self) for _ in range(BANNER_LINES)]
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 3, 6, 3)
        grid.setVerticalSpacing(1)
        grid.setHorizontalSpacing(10)
        grid.addLayout(top, 0, 0)
        grid.addWidget(self.quiet, 1, 0)
        for i, line in enumerate(self.lines):
            line.hide()
            line.button.clicked.connect(lambda _checked=False, at=i: self._line_clicked(at))
            grid.addWidget(line, 1 + i, 0)
        grid.addLayout(side, 0, 1, 1 + BANNER_LINES, 1)
        grid.setColumnStretch(0, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        horn.sounding_changed.connect(self._horn_changed)
        self._horn_changed(horn.sounding)
        self.refresh()

    # -------------------------------------------------------------- state

    def set_permissions(self, *, acknowledge: bool, why_not: str = "") -> None:
        self._may_ack = acknowledge
        self._why_not = why_not
        self._update_buttons()

    def _update_buttons(self) -> None:
        for line in self.lines:
            alarm = line.alarm
            interlock = alarm is not None and alarm.kind is AlarmKind.INTERLOCK_FAULT
            line.button.setEnabled(interlock or self._may_ack)
            line.button.setToolTip(
                "Maintenance acknowledges interlock faults in the Interlocks view"
                if interlock
                else ("" if self._may_ack else self._why_not)
            )

    def _horn_changed(self, sounding: bool) -> None:
        self.silence_button.setEnabled(sounding)
        self.horn_label.setText("♪ HORN SOUNDING" if sounding else "Horn quiet")
        self.horn_label.setProperty("sounding", sounding)
        _restyle(self.horn_label)

    @property
    def shown_lines(self) -> list[BannerLine]:
        return [line for item in self.lines if (line := item.line) is not None]

    def refresh(self) -> None:
        """Read the engine: counts, flood, and the lines (a few times a second at most)."""
        engine = self.engine
        counts = engine.counts()
        self.counts = counts
        per = {Priority.HIGH: counts.high, Priority.MEDIUM: counts.medium, Priority.LOW: counts.low}
        if self._alarms is not None:
            unacked = [a for a in self._alarms() if a.state.needs_acknowledgement]
        else:
            unacked = engine.alarms_in(AlarmState.UNACKNOWLEDGED) + engine.alarms_in(
                AlarmState.RETURNED_UNACKNOWLEDGED
            )
        unacked_per = dict.fromkeys(PRIORITIES, 0)
        for alarm in unacked:
            unacked_per[alarm.priority] += 1
        for priority, label in self.count_labels.items():
            label.set_count(per[priority], unacked_per[priority])
        self.unack_label.setText(f"{counts.unacknowledged} unacknowledged")
        self.unack_label.setProperty("active", counts.unacknowledged > 0)
        _restyle(self.unack_label)
        self.hidden_label.setText(
            f"Shelved {counts.shelved} · Suppressed {counts.suppressed} · "
            f"Out of service {counts.out_of_service}"
        )
        self.hidden_label.setToolTip(
            "Hidden from the list, still counted: shelved by a person (for a limited time), "
            "suppressed by design (room in Maintenance or Out of service, condition present), "
            "or out of service"
        )
        self._show_flood(engine.flood())
        shown = newest_most_urgent(unacked)
        for line, alarm in zip(self.lines, shown, strict=False):
            line.show_alarm(alarm)
        for line in self.lines[len(shown) :]:
            line.alarm = None
            line.hide()
        self.quiet.setVisible(not shown)
        worst = next(
            (p.value for p in PRIORITIES if per[p] > 0 and unacked_per[p] > 0),
            "none",
        )
        if self.property("worst") != worst:
            self.setProperty("worst", worst)
            _restyle(self)
        self._update_buttons()

    def _show_flood(self, flood: FloodStatus) -> None:
        self.flood = flood
        if not flood.active:
            self.flood_label.hide()
            return
        now = self.engine.now()
        since = flood.since.timestamp() if flood.since is not None else now
        self.flood_label.setText(
            f"⚑ FLOOD {flood.new_in_window} new / {self.engine.policy.flood_window_min:g} min"
            f" · {_clock(max(0.0, now - since))}"
        )
        self.flood_label.setToolTip(
            f"More than {self.engine.policy.flood_start} new alarms in "
            f"{self.engine.policy.flood_window_min:g} minutes; it ends below "
            f"{self.engine.policy.flood_end}. Time in flood this run: {_clock(flood.total_s)}. "
            "Work the list by priority."
        )
        self.flood_label.show()

    # -------------------------------------------------------------- actions

    def _silence(self) -> None:
        self.horn.silence()

    def _line_clicked(self, at: int) -> None:
        alarm = self.lines[at].alarm
        if alarm is None:
            return
        if alarm.kind is AlarmKind.INTERLOCK_FAULT:
            self.interlock_requested.emit(alarm.definition.source)
        else:
            self.acknowledge_requested.emit([alarm.id])
