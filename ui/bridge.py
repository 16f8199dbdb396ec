"""The one place where the core's live state becomes Qt signals.

Pollers publish hundreds of samples a second; the screen needs a few coalesced
redraws. The bridge is the single consumer of the store's change sets
(``take_changes`` forgets what it returns, so two consumers would steal from
each other) and fans them out to every view as one signal per tick.

The records services notify from their worker thread; :class:`RecordsBridge`
moves those notices onto the GUI thread as a Qt signal.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from necstgen_desk.live import PointStore

REFRESH_INTERVAL_MS = 100
"""10 Hz. A new value must reach the plan within one scan period + 150 ms (p95);
a 250 ms tick alone spent most of that. The work per tick follows what changed,
so ticking faster spreads the same work thinner (benchmarks/gui.py)."""


class LiveBridge(QObject):
    """Polls the point store on a timer and emits what changed since the last tick."""

    points_changed = Signal(object)  # frozenset[str] of point ids
    links_changed = Signal()

    def __init__(
        self,
        store: PointStore,
        parent: QObject | None = None,
        interval_ms: int = REFRESH_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def poll(self) -> None:
        """Emit the changes gathered since the last call (tests call this directly)."""
        changed = self.store.take_changes()
        if changed:
            self.points_changed.emit(frozenset(changed))
        if self.store.take_link_changes():
            self.links_changed.emit()


class RecordsBridge(QObject):
    """Carries the records services' change notices to the GUI thread.

    ``Records.on_change`` callbacks run on the worker thread (ADR 0004), where
    no widget may be touched. :meth:`notify` may be called from any thread: it
    emits a queued signal that Qt delivers on this object's (the GUI) thread,
    where the notices of one burst (a record, its signature, its audit entries)
    are gathered into one :attr:`changed` emission.
    """

    changed = Signal(object)  # tuple[RecordChange, ...]
    _incoming = Signal(object)

    def __init__(self, parent: QObject | None = None, coalesce_ms: int = 30) -> None:
        super().__init__(parent)
        self._pending: list[object] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(coalesce_ms)
        self._timer.timeout.connect(self._flush)
        self._stopped = False
        self._incoming.connect(self._queue, Qt.ConnectionType.QueuedConnection)

    def notify(self, change: object) -> None:
        """Thread-safe: hand a change notice to the GUI thread."""
        if not self._stopped:
            self._incoming.emit(change)

    def _queue(self, change: object) -> None:
        if self._stopped:
            return
        self._pending.append(change)
        if not self._timer.isActive():
            self._timer.start()

    def _flush(self) -> None:
        changes, self._pending = tuple(self._pending), []
        if changes:
            self.changed.emit(changes)

    def stop(self) -> None:
        self._stopped = True
        self._timer.stop()
        self._pending.clear()
