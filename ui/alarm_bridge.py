"""The alarm engine's changes as Qt signals, on the GUI thread, coalesced.

The engine calls its listeners from whichever thread changed it: the event
loop for samples and ticks (the GUI thread, under qasync), the service
worker for a person's action. No widget may be touched from the worker, and
the screens want a few batches a second, not one per change: the bridge
queues every change under a lock and hands them over on the GUI thread as
one :attr:`AlarmBridge.changed` emission per burst (``coalesce_ms``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from necstgen_desk.alarms.engine import AlarmEngine
from necstgen_desk.alarms.model import AlarmChange, FloodStatus

COALESCE_MS = 50


class AlarmBridge(QObject):
    """``changed(tuple[AlarmChange, ...])`` and ``flood_changed(FloodStatus)``."""

    changed = Signal(object)
    flood_changed = Signal(object)
    _wake = Signal()
    _flood = Signal(object)

    def __init__(
        self, engine: AlarmEngine, parent: QObject | None = None, coalesce_ms: int = COALESCE_MS
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self._lock = threading.Lock()
        self._pending: list[AlarmChange] = []
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(coalesce_ms)
        self._timer.timeout.connect(self.flush)
        self._wake.connect(self._schedule, Qt.ConnectionType.QueuedConnection)
        self._flood.connect(self._flood_on_gui, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: list[Callable[[], None]] = [
            engine.on_change(self._on_changes),
            engine.on_flood(self._on_flood),
        ]

    # ------------------------------------------------------------ any thread

    def _on_changes(self, changes: list[AlarmChange]) -> None:
        with self._lock:
            if self._stopped:
                return
            first = not self._pending
            self._pending.extend(changes)
        if first:
            self._wake.emit()

    def _on_flood(self, status: FloodStatus) -> None:
        if not self._stopped:
            self._flood.emit(status)

    # ------------------------------------------------------------ GUI thread

    def _schedule(self) -> None:
        if not self._stopped and not self._timer.isActive():
            self._timer.start()

    def _flood_on_gui(self, status: object) -> None:
        if not self._stopped:
            self.flood_changed.emit(status)

    def flush(self) -> None:
        """Emit what is queued now (the timer does this; tests may call it)."""
        with self._lock:
            changes, self._pending = self._pending, []
        if changes and not self._stopped:
            self.changed.emit(tuple(changes))

    def stop(self) -> None:
        """Stop listening to the engine; nothing more is emitted."""
        with self._lock:
            self._stopped = True
            self._pending.clear()
        self._timer.stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
