"""The historian's state in the status bar: quiet while it keeps up, plain words when not.

The writer works on its own thread; this label reads its thread-safe
:meth:`~necstgen_desk.historian.HistorianWriter.status` snapshot once a second
(never waiting on the database). What it says, in ISA-101 manner (grey when
normal, colour only for abnormal and always with a word):

- ``✓ Historian`` — recording and keeping up;
- ``… Historian starting`` — points registered and roll-ups repaired first;
- ``◆ Historian behind: 12,300 samples waiting (oldest 8 s)`` — the database is
  slow; nothing is lost while the queue has room;
- ``▲ Historian: database refuses writes — 12,300 samples waiting (oldest 8 s)``
  with the database's reason in the tooltip — locked, full or unreachable;
- ``▲ Historian dropped 1,204 samples`` — the queue overflowed (the system
  alarm says when; this stays until the app restarts);
- ``✕ Historian stopped`` — nothing is being recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from html import escape as esc

from PySide6.QtCore import Property, QTimer
from PySide6.QtWidgets import QLabel, QWidget

from necstgen_desk.historian.model import WriterStatus

#: How often the label reads the writer's status.
REFRESH_MS = 1000


def describe(status: WriterStatus) -> tuple[str, str, str]:
    """(state, text, tooltip) for a status; state is ok/starting/behind/failing/
    dropped/stopped (the stylesheet's ``[historianState=…]``)."""
    waiting = f"{status.queue_depth:,} samples waiting (oldest {status.oldest_wait_s:.0f} s)"
    facts = [
        f"Received {status.received:,} samples; recorded {status.raw_rows:,} raw rows "
        f"and {status.rollup_rows:,} roll-up rows",
        f"Queue: {status.queue_depth:,} of {status.capacity:,}",
    ]
    if status.last_commit_at is not None:
        facts.append(f"Last write {_when(status.last_commit_at)}")
    if status.dropped:
        span = f"{_when(status.first_drop_at)} to {_when(status.last_drop_at)}"
        facts.append(f"Dropped {status.dropped:,} samples when the queue was full ({span})")
    if status.last_error:
        facts.append(f"Database: {status.last_error}")
    if not status.running:
        state, text = "stopped", "✕ Historian stopped"
        facts.insert(0, "Nothing is being recorded.")
    elif status.retrying:
        state, text = "failing", f"▲ Historian: database refuses writes — {waiting}"
        facts.insert(0, "The samples wait in memory and are written when the database answers.")
    elif status.dropped:
        state, text = "dropped", f"▲ Historian dropped {status.dropped:,} samples"
    elif not status.ready:
        state, text = "starting", "… Historian starting"
        facts.insert(0, "Registering points and checking roll-ups; samples wait meanwhile.")
    elif status.behind:
        state, text = "behind", f"◆ Historian behind: {waiting}"
        facts.insert(0, "The database is slow; nothing is lost while the queue has room.")
    else:
        state, text = "ok", "✓ Historian"
        facts.insert(0, "Recording every sample and keeping up.")
    tooltip = "<b>Historian</b><br>" + "<br>".join(esc(f) for f in facts)
    return state, text, tooltip


def _when(at: float | None) -> str:
    return "?" if at is None else time.strftime("%H:%M:%S", time.localtime(at))


class HistorianIndicator(QLabel):
    """The status bar's historian label (module docstring)."""

    def __init__(
        self,
        status: Callable[[], WriterStatus],
        parent: QWidget | None = None,
        *,
        refresh_ms: int = REFRESH_MS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("historianStatus")
        self._status = status
        self._state = ""
        self.last: WriterStatus | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def _get_state(self) -> str:
        return self._state

    def _set_state(self, state: str) -> None:
        if state == self._state:
            return
        self._state = state
        self.style().unpolish(self)  # the stylesheet's [historianState="…"] rules
        self.style().polish(self)

    historianState = Property(str, _get_state, _set_state)

    @property
    def state(self) -> str:
        return self._state

    def refresh(self) -> None:
        status = self._status()
        self.last = status
        state, text, tooltip = describe(status)
        self._set_state(state)
        if text != self.text():
            self.setText(text)
        if tooltip != self.toolTip():
            self.setToolTip(tooltip)

    def stop(self) -> None:
        self._timer.stop()
