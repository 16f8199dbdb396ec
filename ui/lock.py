"""The idle lock and the cover over the window while nobody is logged in.

Annex 11 §12 and Part 11 §11.300: a workstation left alone must not let the
next person act in someone else's name. :class:`IdleWatcher` sees every input
event of the application (an event filter on the QApplication) and says when
none came for ``idle_lock``. :class:`CoverWidget` then covers the whole window
— plan, menus, panels — until the same person types their password, or
someone else logs in ("Switch user"). The same cover hides the window at start
until the first log-in.
"""

from __future__ import annotations

import time
from datetime import timedelta
from enum import StrEnum

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.forms import BusyBar, MessageLabel

_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.TabletPress,
        QEvent.Type.InputMethod,
    }
)


class IdleWatcher(QObject):
    """Emits :attr:`idle` once after ``timeout`` without keyboard, mouse or touch input."""

    idle = Signal()

    def __init__(self, timeout: timedelta, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if timeout <= timedelta(0):
            raise ValueError("the idle lock time must be longer than zero")
        self._timeout_s = timeout.total_seconds()
        self._last_input = time.monotonic()
        self._timer = QTimer(self)
        # Check often enough to lock within a fifth of the timeout, at most once a second.
        self._timer.setInterval(max(20, min(1000, round(self._timeout_s * 200))))
        self._timer.timeout.connect(self._check)
        self._watching = False

    @property
    def timeout(self) -> timedelta:
        return timedelta(seconds=self._timeout_s)

    @property
    def watching(self) -> bool:
        return self._watching

    def start(self) -> None:
        app = QApplication.instance()
        if app is not None and not self._watching:
            app.installEventFilter(self)
        self._watching = True
        self._last_input = time.monotonic()
        self._timer.start()

    def stop(self) -> None:
        app = QApplication.instance()
        if app is not None and self._watching:
            app.removeEventFilter(self)
        self._watching = False
        self._timer.stop()

    def idle_for(self) -> float:
        return time.monotonic() - self._last_input

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS:
            self._last_input = time.monotonic()
        return False

    def _check(self) -> None:
        if self.idle_for() >= self._timeout_s:
            self.stop()
            self.idle.emit()


class CoverState(StrEnum):
    STARTING = "starting"  # opening the records
    LOGGED_OUT = "logged_out"  # nobody is logged in
    LOCKED = "locked"  # idle lock: the session waits for its password
    FAILED = "failed"  # the records cannot be used


class CoverWidget(QWidget):
    """An opaque panel over the whole main window; nothing under it can be reached.

    ``unlock_requested(password)``, ``switch_user_requested()`` and
    ``login_requested()`` are for the records desk to act on.
    """

    unlock_requested = Signal(str)
    switch_user_requested = Signal()
    login_requested = Signal()

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("lockCover")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._window = window
        self.state = CoverState.STARTING
        self._disabled: list[QWidget] = []

        panel = QFrame(self)
        panel.setObjectName("lockPanel")
        panel.setMinimumWidth(460)
        self.title = QLabel(panel)
        self.title.setObjectName("lockTitle")
        self.title.setWordWrap(True)
        self.detail = QLabel(panel)
        self.detail.setObjectName("lockDetail")
        self.detail.setWordWrap(True)
        self.system_message = QLabel(panel)
        self.system_message.setObjectName("lockSystemMessage")
        self.system_message.setWordWrap(True)
        self.system_message.hide()
        self.password = QLineEdit(panel)
        self.password.setObjectName("unlockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("your password")
        self.password.returnPressed.connect(self._unlock_clicked)
        self.unlock_button = QPushButton("Unlock", panel)
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._unlock_clicked)
        self.switch_button = QPushButton("Switch user", panel)
        self.switch_button.setObjectName("switchUserButton")
        self.switch_button.clicked.connect(self.switch_user_requested)
        self.login_button = QPushButton("Log in…", panel)
        self.login_button.setObjectName("loginButton")
        self.login_button.clicked.connect(self.login_requested)
        self.message = MessageLabel(panel)
        self.busy_bar = BusyBar(parent=panel)

        buttons = QHBoxLayout()
        buttons.addWidget(self.unlock_button)
        buttons.addWidget(self.switch_button)
        buttons.addWidget(self.login_button)
        buttons.addStretch(1)
        inner = QVBoxLayout(panel)
        inner.setContentsMargins(24, 20, 24, 20)
        inner.setSpacing(10)
        inner.addWidget(self.title)
        inner.addWidget(self.detail)
        inner.addWidget(self.system_message)
        inner.addWidget(self.password)
        inner.addLayout(buttons)
        inner.addWidget(self.message)
        inner.addWidget(self.busy_bar)

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(panel)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

        window.installEventFilter(self)
        self._fit()
        self.hide()

    # -------------------------------------------------------------- states

    def show_starting(self, text: str = "Opening the GMP records…") -> None:
        self._set(CoverState.STARTING, text, "")

    def show_logged_out(self, detail: str = "") -> None:
        self._set(
            CoverState.LOGGED_OUT,
            "Nobody is logged in",
            detail or "Log in with your own account to use NECSTGEN Desk.",
        )

    def show_locked(self, full_name: str, username: str, idle: timedelta) -> None:
        minutes = idle.total_seconds() / 60
        after = f"{minutes:g} min" if minutes >= 1 else f"{idle.total_seconds():g} s"
        self._set(
            CoverState.LOCKED,
            f"Locked — {full_name} ({username})",
            f"The screen locked after {after} without input. {full_name}: enter your password "
            "to continue. Anyone else: Switch user.",
        )
        self.password.setFocus()

    def show_failed(self, title: str, detail: str) -> None:
        self._set(CoverState.FAILED, title, detail)

    def set_system_message(self, text: str) -> None:
        """A HIGH-priority system message shown on the cover too (e.g. a broken audit chain)."""
        self.system_message.setText(f"▲ HIGH  {text}" if text else "")
        self.system_message.setVisible(bool(text))

    def _set(self, state: CoverState, title: str, detail: str) -> None:
        self.state = state
        self.setProperty("coverState", state.value)
        self.title.setText(title)
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        locked = state is CoverState.LOCKED
        self.password.setVisible(locked)
        self.password.clear()
        self.unlock_button.setVisible(locked)
        self.switch_button.setVisible(locked)
        self.login_button.setVisible(state is CoverState.LOGGED_OUT)
        self.message.clear_message()
        self.set_busy(state is CoverState.STARTING)
        self.style().unpolish(self)
        self.style().polish(self)
        self._fit()
        self._block_window(True)
        self.show()
        self.raise_()

    def set_busy(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)
        for widget in (self.password, self.unlock_button, self.switch_button, self.login_button):
            widget.setEnabled(not busy)

    def uncover(self) -> None:
        self.password.clear()
        self.message.clear_message()
        self.hide()
        self._block_window(False)

    def _block_window(self, block: bool) -> None:
        """Disable what the cover hides, so the keyboard cannot reach it either
        (Tab into a covered panel, a menu mnemonic); enable it again after."""
        if block:
            if self._disabled:
                return
            for child in self._window.findChildren(
                QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
            ):
                if child is self or child.isWindow() or not child.isEnabled():
                    continue
                child.setEnabled(False)
                self._disabled.append(child)
        else:
            for child in self._disabled:
                child.setEnabled(True)
            self._disabled = []

    @property
    def covering(self) -> bool:
        return self.isVisible()

    # -------------------------------------------------------------- events

    def _unlock_clicked(self) -> None:
        if self.state is CoverState.LOCKED and self.unlock_button.isEnabled():
            self.unlock_requested.emit(self.password.text())

    def _fit(self) -> None:
        self.setGeometry(self._window.rect())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Resize:
            self._fit()
        return False
