"""The audible annunciation: a horn that sounds for new alarms and is silenced
separately from acknowledging them (ISA-18.2).

A new alarm (a change into Unacknowledged) starts the horn, or restarts it
after a silence; it repeats while it sounds — every 1.5 s for HIGH, every 4 s
for MEDIUM, once for LOW. *Silence* stops the sound and nothing else: the
alarms stay unacknowledged in the banner and the list. The horn also stops
once nothing is left to acknowledge.

PySide6-Essentials has no QtMultimedia, so the sound is pluggable
(:class:`SoundBackend`): the default is the platform's beep
(:class:`BeepSound`); tests and headless runs use :class:`SilentSound`,
which only counts (``NECSTGEN_HORN=off``, or the offscreen platform). The
banner shows that the horn sounds (♪ and the word), so a muted speaker does
not hide it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from necstgen_desk.site.model import Priority

log = logging.getLogger(__name__)

#: ``off`` (or 0/no/false) switches the sound off (the horn still shows).
HORN_ENV = "NECSTGEN_HORN"
_OFF = frozenset({"off", "0", "no", "false", "silent"})

#: Repeat interval per priority while the horn sounds (0: once).
REPEAT_MS: Mapping[Priority, int] = {Priority.HIGH: 1500, Priority.MEDIUM: 4000, Priority.LOW: 0}
_RANK = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


class SoundBackend(Protocol):
    """Makes the sound; one call per burst."""

    def sound(self, priority: Priority) -> None: ...


class BeepSound:
    """The platform's beep (``QApplication.beep``): always there, if modest."""

    def sound(self, priority: Priority) -> None:
        QApplication.beep()


class SilentSound:
    """No sound: counts the bursts (tests, headless runs, ``NECSTGEN_HORN=off``)."""

    def __init__(self) -> None:
        self.bursts: list[Priority] = []

    def sound(self, priority: Priority) -> None:
        self.bursts.append(priority)


def sound_enabled(env: Mapping[str, str] | None = None) -> bool:
    """Whether to make real sound: not with ``NECSTGEN_HORN=off`` nor offscreen."""
    values = os.environ if env is None else env
    if values.get(HORN_ENV, "").strip().lower() in _OFF:
        return False
    return values.get("QT_QPA_PLATFORM", "").strip().lower() != "offscreen"


def default_backend() -> SoundBackend:
    return BeepSound() if sound_enabled() else SilentSound()


class Horn(QObject):
    """Sounds for new alarms until silenced or until nothing awaits acknowledgement.

    ``sounding`` and ``priority`` are what the banner shows.
    """

    sounding_changed = Signal(bool)

    def __init__(self, backend: SoundBackend | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.backend = backend if backend is not None else default_backend()
        self.priority: Priority | None = None
        self.silenced_by: str | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._repeat)

    @property
    def sounding(self) -> bool:
        return self.priority is not None

    def annunciate(self, priority: Priority) -> None:
        """A new alarm: sound now (the most urgent priority sounding decides the repeat)."""
        if self.priority is not None and _RANK[self.priority] <= _RANK[priority]:
            return  # already sounding at least this urgently
        started = self.priority is None
        self.priority = priority
        self.silenced_by = None
        self._burst()
        interval = REPEAT_MS[priority]
        if interval > 0:
            self._timer.start(interval)
        else:
            self._timer.stop()
        if started:
            self.sounding_changed.emit(True)

    def silence(self, by: str | None = None) -> None:
        """Stop the sound; the alarms stay unacknowledged."""
        if self.priority is None:
            return
        log.info("horn silenced%s", f" by {by}" if by else "")
        self.silenced_by = by
        self._stop()

    def nothing_to_acknowledge(self) -> None:
        """Every alarm was acknowledged (or cleared unseen and acknowledged): stop."""
        self._stop()

    def _stop(self) -> None:
        self._timer.stop()
        if self.priority is not None:
            self.priority = None
            self.sounding_changed.emit(False)

    def _repeat(self) -> None:
        if self.priority is not None:
            self._burst()

    def _burst(self) -> None:
        assert self.priority is not None
        try:
            self.backend.sound(self.priority)
        except Exception:  # a broken speaker must not stop the alarms
            log.exception("the horn's sound failed")

    def stop(self) -> None:
        """At shutdown."""
        self._timer.stop()
        self.priority = None
