"""The one place where the core's live state becomes Qt signals.

Pollers publish hundreds of samples a second; the screen needs a few coalesced
redraws. The bridge is the single consumer of the store's change sets
(``take_changes`` forgets what it returns, so two consumers would steal from
each other) and fans them out to every view as one signal per tick.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from necstgen_desk.live import PointStore

REFRESH_INTERVAL_MS = 250  # 4 Hz: fast enough to see a door open, cheap to draw


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
