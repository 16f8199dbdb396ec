"""The GMP records on the desk: database start-up, log-in, idle lock, menus and windows.

:class:`RecordsDesk` is what the app adds to the main window when it runs for
people (not in screenshot mode):

1. opens the records on the worker thread — schema upgrade (a SQLite backup
   first), the :class:`~necstgen_desk.services.Records` facade, the audit chain
   check (a broken chain is the HIGH-priority audit-chain alarm when the app
   runs the alarm engine — a system message that stays until acknowledged
   otherwise — and is logged); with the alarm desk, the alarm journal is
   restored and the alarm service opened on the same database;
2. covers the window until someone logs in (the first administrator on a new
   database: there is no default password);
3. locks after ``idle_lock`` without input; the same person unlocks with the
   password, anyone else switches user;
4. adds the Records menu — Room logbook, Logbooks, Audit trail, Users, Change
   password, Switch user, Lock — enabled by the person's role;
5. shows each room's status on the plan, refreshed when a record changes (and
   tells the alarm engine, for suppression and the particle limits), and lets
   the system expire clean holds every minute.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QToolBar,
    QWidget,
)
from sqlalchemy import Engine

from necstgen_desk.alarms.blockers import AlarmReleaseBlockers
from necstgen_desk.alarms.interlocks import CoilWriter
from necstgen_desk.alarms.journal import AlarmJournal
from necstgen_desk.alarms.service import AlarmService
from necstgen_desk.records.cleaning import DEFAULT_SPORICIDAL_ROTATION
from necstgen_desk.records.gowning import DEFAULT_QUALIFICATION_MONTHS
from necstgen_desk.records.lifecycle import DEFAULT_CLEAN_HOLD, NoBlockers
from necstgen_desk.records.passwords import DEFAULT_POLICY, PasswordPolicy
from necstgen_desk.records.roles import Permission
from necstgen_desk.services import (
    DEFAULT_IDLE_LOCK,
    ChainReport,
    RecordChange,
    Records,
    UserSession,
)
from necstgen_desk.site.model import Site
from necstgen_desk.storage.engine import describe_url, make_engine
from necstgen_desk.storage.migrate import upgrade_database
from ui.account_dialogs import (
    ChangePasswordDialog,
    FirstAdminDialog,
    LoginDialog,
    UserAdminDialog,
)
from ui.alarm_desk import AlarmDesk
from ui.audit_viewer import AuditViewer, chain_text
from ui.forms import AsyncDialog, error_text, is_expected, run_dialog
from ui.lock import CoverState, CoverWidget, IdleWatcher
from ui.logbooks import LogbooksWindow
from ui.main_window import MainWindow
from ui.records_context import RecordsContext
from ui.room_logbook import RoomLogbookPanel
from ui.room_marks import RoomMark, room_mark
from ui.timefmt import local_text, now_utc
from ui.worker import GuiThreadGarbageCollector, Reloader, ServiceWorker, TaskSet

log = logging.getLogger(__name__)

USER_RECORD = "user"  # the record type of account changes (log-in, log-out, …)
HOLD_CHECK_MS = 60_000  # the clean hold is checked every minute
MARKS_REFRESH_MS = 60_000  # sporicidal overdue is a matter of time, too
LOGOUT_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class RecordsConfig:
    """Where the records are and the knobs tests turn (fast hashing, short idle lock)."""

    db_url: str
    password_policy: PasswordPolicy = DEFAULT_POLICY
    idle_lock: timedelta = DEFAULT_IDLE_LOCK
    clean_hold: timedelta = DEFAULT_CLEAN_HOLD
    sporicidal_rotation: timedelta = DEFAULT_SPORICIDAL_ROTATION
    qualification_months: int = DEFAULT_QUALIFICATION_MONTHS
    hold_check_ms: int = HOLD_CHECK_MS
    marks_refresh_ms: int = MARKS_REFRESH_MS
    # The facility's clock (aware UTC): the wall clock, or a time-lapse demo's.
    clock: Callable[[], datetime] = now_utc


class SystemMessageBar(QFrame):
    """A HIGH-priority system message across the top of the window (▲ HIGH + words).

    Shown in its own tool bar row (the desk shows the row when a message is
    raised). It stays until a logged-in person acknowledges it, and then still shows
    that the condition persists, with who acknowledged it and when (ISA-18.2:
    acknowledged is not cleared). The alarm engine will take these over.
    """

    acknowledged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("systemMessage")
        self.setProperty("priority", "high")
        self.setProperty("acknowledged", False)
        self.text = ""
        self.acknowledged_by: str | None = None
        self._who: str | None = None
        self.label = QLabel(self)
        self.label.setObjectName("systemMessageText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.ack_button = QPushButton("Acknowledge", self)
        self.ack_button.setObjectName("acknowledgeSystemMessage")
        self.ack_button.clicked.connect(self._acknowledge)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.ack_button)

    @property
    def active(self) -> bool:
        return bool(self.text)

    def raise_message(self, text: str) -> None:
        self.text = text
        self.acknowledged_by = None
        self._restyle(False)
        self.label.setText(f"▲ HIGH  {text}")
        self.set_user(self._who)

    def set_user(self, username: str | None) -> None:
        """Who could acknowledge now (None: nobody is logged in)."""
        self._who = username
        waiting = self.acknowledged_by is None
        self.ack_button.setVisible(waiting)
        self.ack_button.setEnabled(waiting and username is not None)
        self.ack_button.setToolTip("" if username else "Log in to acknowledge")

    def _acknowledge(self) -> None:
        if self._who is None or self.acknowledged_by is not None:
            return
        self.acknowledged_by = self._who
        self._restyle(True)
        self.label.setText(
            f"▲ HIGH (acknowledged by {self._who} at {local_text(now_utc())})  {self.text}"
        )
        self.set_user(self._who)
        self.acknowledged.emit(self._who)

    def _restyle(self, acknowledged: bool) -> None:
        self.setProperty("acknowledged", acknowledged)
        self.style().unpolish(self)
        self.style().polish(self)


class RecordsDesk(QObject):
    """Adds the GMP records to a main window; see the module docstring."""

    logged_in = Signal(object)  # UserSession
    logged_out = Signal()
    locked = Signal()

    def __init__(
        self,
        window: MainWindow,
        site: Site,
        config: RecordsConfig,
        parent: QObject | None = None,
        *,
        alarms: AlarmDesk | None = None,
        coil_writer: CoilWriter | None = None,
    ) -> None:
        super().__init__(parent if parent is not None else window)
        self.window = window
        self.site = site
        self.config = config
        self.alarms = alarms
        self.coil_writer = coil_writer
        self.alarm_service: AlarmService | None = None
        self.worker = ServiceWorker()
        self.gc_guard = GuiThreadGarbageCollector(self)
        self.tasks = TaskSet("records desk")
        self.context: RecordsContext | None = None
        self.records: Records | None = None
        self.chain_report: ChainReport | None = None
        self._engine: Engine | None = None
        self._stopped = False
        self._hidden_windows: list[QWidget] = []

        self.cover = CoverWidget(window)
        self.cover.unlock_requested.connect(self._unlock_requested)
        self.cover.switch_user_requested.connect(self.switch_user)
        self.cover.login_requested.connect(self._login_requested)

        self._build_menu()  # its tool bar joins the first row, before the message row
        self.system_message = SystemMessageBar(window)
        self.system_message.acknowledged.connect(self._system_message_acknowledged)
        self.system_bar = QToolBar("System messages", window)
        self.system_bar.setObjectName("systemMessages")
        self.system_bar.setMovable(False)
        self.system_bar.addWidget(self.system_message)
        self.system_bar.hide()
        window.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.system_bar)

        self.user_label = QLabel("Not logged in", window)
        self.user_label.setObjectName("userLabel")
        window.statusBar().insertWidget(0, self.user_label)

        self.idle: IdleWatcher | None = None
        self.panel: RoomLogbookPanel | None = None
        self.panel_dock: QDockWidget | None = None
        self.logbooks: LogbooksWindow | None = None
        self.audit_viewer: AuditViewer | None = None
        self.marks_reloader = Reloader(self.tasks, self._refresh_marks, "room marks")
        self._hold_timer = QTimer(self)
        self._hold_timer.setInterval(config.hold_check_ms)
        self._hold_timer.timeout.connect(self._expire_holds)
        self._marks_timer = QTimer(self)
        self._marks_timer.setInterval(config.marks_refresh_ms)
        self._marks_timer.timeout.connect(self.marks_reloader.request)
        self._update_actions()

    # -------------------------------------------------------------- menu

    def _action(
        self, text: str, name: str, slot: Callable[[], None], shortcut: str | None = None
    ) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.window.addAction(action)
        return action

    def _build_menu(self) -> None:
        self.room_logbook_action = self._action(
            "Room &logbook…", "roomLogbook", lambda: self.open_room_logbook(None), "Ctrl+R"
        )
        self.logbooks_action = self._action(
            "Log&books…", "logbooks", lambda: self.open_logbooks(None), "Ctrl+B"
        )
        self.audit_action = self._action("&Audit trail…", "auditTrail", self.open_audit_trail)
        self.users_action = self._action("&Users…", "users", self.open_users)
        self.password_action = self._action(
            "Change &password…", "changePassword", self.change_password
        )
        self.switch_user_action = self._action(
            "&Switch user", "switchUser", self.switch_user, "Ctrl+Shift+U"
        )
        self.lock_action = self._action("L&ock", "lock", self.lock, "Ctrl+L")
        self.audit_action.setToolTip("Shift leads, QA and administrators")
        self.users_action.setToolTip("Administrators")
        menu = QMenu("&Records", self.window)
        menu.setObjectName("recordsMenu")
        for action in (self.room_logbook_action, self.logbooks_action, self.audit_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.users_action)
        menu.addAction(self.password_action)
        menu.addSeparator()
        menu.addAction(self.switch_user_action)
        menu.addAction(self.lock_action)
        self.menu = menu
        self.window.menuBar().addMenu(menu)
        # Switching user is one click, and so is locking the screen when walking away.
        session = QToolBar("Session", self.window)
        session.setObjectName("sessionToolBar")
        session.setMovable(False)
        session.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        session.addAction(self.room_logbook_action)
        session.addSeparator()
        session.addAction(self.switch_user_action)
        session.addAction(self.lock_action)
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, session)
        self.session_toolbar = session

    def _update_actions(self) -> None:
        ctx = self.context
        session = ctx.session if ctx is not None else None
        usable = session is not None and not self.cover.covering
        self.room_logbook_action.setEnabled(usable)
        self.logbooks_action.setEnabled(usable)
        self.audit_action.setEnabled(
            usable and ctx is not None and ctx.may(Permission.VIEW_AUDIT_TRAIL)
        )
        self.users_action.setEnabled(
            usable and ctx is not None and ctx.may(Permission.MANAGE_USERS)
        )
        self.password_action.setEnabled(usable)
        self.switch_user_action.setEnabled(usable)
        self.lock_action.setEnabled(usable)
        if session is None:
            self.user_label.setText("Not logged in")
        else:
            user = session.user
            self.user_label.setText(
                f"Logged in: {user.full_name} ({user.username}) · {user.role.display_name}"
            )
        self.system_message.set_user(session.user.username if session is not None else None)

    # -------------------------------------------------------------- start and stop

    @property
    def session(self) -> UserSession | None:
        return self.context.session if self.context is not None else None

    def _start(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        if not self._stopped:
            self.tasks.start(coro, name=name)

    def _make_records(self) -> Records:
        """On the worker: the engine and the facade (nothing connects until used)."""
        engine = make_engine(self.config.db_url)
        self._engine = engine
        alarms = self.alarms
        return Records(
            engine,
            site=self.site,
            password_policy=self.config.password_policy,
            idle_lock=self.config.idle_lock,
            clean_hold=self.config.clean_hold,
            sporicidal_rotation=self.config.sporicidal_rotation,
            qualification_months=self.config.qualification_months,
            blockers=AlarmReleaseBlockers(alarms.engine) if alarms is not None else NoBlockers(),
            cleanup_period=self.cleanup_period,
            clock=self.config.clock,
        )

    @property
    def cleanup_period(self) -> timedelta:
        """The clean-up countdown of the plan and the engine: the site's ``[alarms]``."""
        return timedelta(minutes=self.site.alarms.cleanup_minutes)

    async def start(self) -> bool:
        """Open the records; then the log-in runs on its own. False if they cannot be used."""
        self.gc_guard.start()  # from now on a second thread runs Python code
        self.cover.show_starting()
        where = describe_url(self.config.db_url)
        try:
            backup = await self.worker.call(upgrade_database, self.config.db_url)
            if backup is not None:
                log.info("records database %s backed up to %s before upgrading", where, backup)
            records = await self.worker.call(self._make_records)
            report = await self.worker.call(records.audit.verify)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if not is_expected(error):
                log.error("the records database %s cannot be opened", where, exc_info=error)
            else:
                log.error("the records database %s cannot be opened: %s", where, error)
            self.cover.show_failed(
                "The GMP records cannot be opened",
                f"{error_text(error)}\n\nDatabase: {where}\nThe logbooks and log-in are "
                "unavailable until this is solved; close NECSTGEN Desk and call IT.",
            )
            return False
        log.info("records database %s open; audit chain: %s", where, report.message)
        self.records = records
        self.chain_report = report
        context = RecordsContext(
            records,
            self.worker,
            self.site,
            self,
            password_min_length=self.config.password_policy.min_length,
        )
        self.context = context
        if self.alarms is not None:
            await self._open_alarms(context, records)
        if not report.ok:
            self.raise_system_message(chain_text(report))
        context.changed.connect(self._records_changed)
        context.session_changed.connect(self._update_actions)
        self._build_panel(context)
        self.window.plan.space_activated.connect(self.open_room_logbook)
        self._hold_timer.start()
        self._marks_timer.start()
        self.marks_reloader.request()
        self._expire_holds()
        self._start(self._login_flow(), "log-in")
        return True

    async def _open_alarms(self, context: RecordsContext, records: Records) -> None:
        """The alarm journal back into the engine, then the alarm service on these records."""
        alarms = self.alarms
        assert alarms is not None and self._engine is not None
        journal = AlarmJournal(self._engine)
        try:
            restored = await self.worker.call(journal.restore_into, alarms.engine)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.error("the alarm journal could not be restored: %s", error)
            restored = 0
        if restored:
            log.info("%d alarm(s) restored from the journal", restored)
        service = AlarmService(records.core, alarms.engine, journal, self.coil_writer)
        self.alarm_service = service
        alarms.open_records(context, service)
        try:  # the rooms' statuses before the first sample: suppression, particle limits
            current = await self.worker.call(records.rooms.all_current)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("room statuses for the alarm engine not loaded: %s", error)
        else:
            alarms.feed_room_statuses(current, self.cleanup_period)
        alarms.reload()
        report = self.chain_report
        if report is not None:
            service.audit_chain_checked(report.ok, chain_text(report))

    def raise_system_message(self, text: str) -> None:
        """A HIGH-priority message that stays until acknowledged (and is logged).

        With the alarm engine it is the audit-chain alarm in the banner (raised
        by the alarm service); the cover shows it before anyone logs in.
        """
        log.critical("SYSTEM MESSAGE (HIGH): %s", text)
        if self.alarms is None:
            self.system_message.raise_message(text)
            self.system_bar.show()
        self.cover.set_system_message(text)

    def _system_message_acknowledged(self, username: str) -> None:
        log.warning("system message acknowledged by %s: %s", username, self.system_message.text)
        self.cover.set_system_message("")

    async def stop(self) -> None:
        """Log out, stop timers and windows, finish the worker. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self._hold_timer.stop()
        self._marks_timer.stop()
        if self.idle is not None:
            self.idle.stop()
        self._close_dialogs()
        self._close_windows()
        if self.panel is not None:
            await self.panel.tasks.close()
        await self.tasks.close()
        if self.alarms is not None:
            await self.alarms.close_records()  # the journal's last batch, before the engine goes
        context = self.context
        if context is not None:
            context.close()  # no more change notices: the screens are going
            session = context.session
            if session is not None:
                try:
                    await asyncio.wait_for(
                        self.worker.call(context.records.accounts.logout, session),
                        LOGOUT_TIMEOUT_S,
                    )
                except Exception as error:
                    log.warning("logging out %s at exit failed: %s", session.user.username, error)
        engine = self._engine
        if engine is not None:
            try:
                await self.worker.call(engine.dispose)
            except Exception:
                log.exception("closing the records database failed")
        self.worker.shutdown()
        self.gc_guard.stop()

    # -------------------------------------------------------------- log-in

    def _login_requested(self) -> None:
        self._start(self._login_flow(), "log-in")

    async def _login_flow(self, username: str = "") -> None:
        context = self.context
        if context is None:
            return
        self.cover.show_logged_out()
        self._update_actions()
        accounts = context.records.accounts
        try:
            has_users = await context.call(accounts.has_users)
        except Exception as error:
            self.cover.show_logged_out(error_text(error))
            return
        dialog: AsyncDialog[UserSession] = (
            LoginDialog(context, self.window, username=username)
            if has_users
            else FirstAdminDialog(context, self.window)
        )
        if not await run_dialog(dialog) or dialog.value is None:
            self.cover.show_logged_out()
            return
        session = dialog.value
        if session.user.must_change_password:
            change = ChangePasswordDialog(context, session, self.window, required=True)
            if not await run_dialog(change):
                await self._logout(session)
                self.cover.show_logged_out(
                    "The password an administrator set was not changed, so you were logged out."
                )
                return
        self._logged_in(session)

    def _logged_in(self, session: UserSession) -> None:
        context = self.context
        assert context is not None
        user = session.user
        log.info("%s (%s) logged in as %s", user.username, user.full_name, user.role.value)
        context.set_session(session)
        self.cover.uncover()
        self._update_actions()
        if self.idle is None:
            self.idle = IdleWatcher(self.config.idle_lock, self)
            self.idle.idle.connect(self.lock)
        self.idle.start()
        self.logged_in.emit(session)

    async def _logout(self, session: UserSession) -> None:
        context = self.context
        if context is None:
            return
        try:
            await context.call(context.records.accounts.logout, session)
        except Exception as error:
            log.warning("logout of %s failed: %s", session.user.username, error)

    def switch_user(self) -> None:
        """One click: log the current person out and ask who is next."""
        self._start(self._switch_user(), "switch user")

    async def _switch_user(self) -> None:
        context = self.context
        if context is None:
            return
        session = context.session
        if self.idle is not None:
            self.idle.stop()
        self._close_dialogs()
        self._close_windows()
        context.set_session(None)
        self.cover.show_logged_out()
        self._update_actions()
        if session is not None:
            await self._logout(session)
            log.info("%s logged out (switch user)", session.user.username)
        self.logged_out.emit()
        await self._login_flow()

    # -------------------------------------------------------------- idle lock

    def lock(self) -> None:
        """Cover the window; the signing continuity ends (Part 11 §11.200)."""
        context = self.context
        session = self.session
        if context is None or session is None or self.cover.state is CoverState.LOCKED:
            return
        if self.idle is not None:
            self.idle.stop()
        self._close_dialogs()
        self._hidden_windows = [
            w for w in (self.logbooks, self.audit_viewer) if w is not None and w.isVisible()
        ]
        for window in self._hidden_windows:
            window.hide()
        if self.alarms is not None:
            self._hidden_windows += self.alarms.hide_windows()
        self.cover.show_locked(session.user.full_name, session.user.username, self.config.idle_lock)
        self._update_actions()
        log.info("screen locked for %s", session.user.username)
        self._start(self._reset_signing(session), "reset signing")
        self.locked.emit()

    async def _reset_signing(self, session: UserSession) -> None:
        await self.worker.call(session.signing.reset)

    def _unlock_requested(self, password: str) -> None:
        self._start(self._unlock(password), "unlock")

    async def _unlock(self, password: str) -> None:
        context = self.context
        session = self.session
        if context is None or session is None:
            return
        if not password:
            self.cover.message.show_error("Enter your password to unlock.")
            return
        self.cover.set_busy(True)
        try:
            ok = await context.call(context.records.accounts.verify_password, session, password)
        except Exception as error:
            self.cover.set_busy(False)
            self.cover.message.show_error(error)
            return
        self.cover.set_busy(False)
        if not ok:
            self.cover.password.clear()
            self.cover.message.show_error(
                "The password is not correct, or the account is locked or disabled. After "
                "5 wrong passwords in a row the account locks and an administrator must "
                "unlock it. Someone else: Switch user."
            )
            return
        log.info("screen unlocked by %s", session.user.username)
        self.cover.uncover()
        for window in self._hidden_windows:
            window.show()
        self._hidden_windows = []
        self._update_actions()
        if self.idle is not None:
            self.idle.start()

    # -------------------------------------------------------------- windows

    def _build_panel(self, context: RecordsContext) -> None:
        panel = RoomLogbookPanel(context)
        dock = QDockWidget("Room logbook", self.window)
        dock.setObjectName("roomLogbookDock")
        dock.setWidget(panel)
        dock.setAllowedAreas(
            Qt.DockWidgetArea.RightDockWidgetArea | Qt.DockWidgetArea.LeftDockWidgetArea
        )
        dock.setMinimumWidth(560)
        self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.hide()
        self.panel = panel
        self.panel_dock = dock

    def open_room_logbook(self, room_id: str | None) -> None:
        if self.panel is None or self.panel_dock is None or self.session is None:
            return
        if self.cover.covering:
            return
        self.panel_dock.show()
        self.panel_dock.raise_()
        if room_id is not None:
            self.panel.show_room(room_id)
        else:
            self.panel.reload()

    def open_logbooks(self, room_id: str | None) -> None:
        context = self.context
        if context is None or self.session is None or self.cover.covering:
            return
        if self.logbooks is None:
            self.logbooks = LogbooksWindow(context, self.window)
        if room_id is not None:
            self.logbooks.set_room(room_id)
        self.logbooks.show()
        self.logbooks.raise_()
        self.logbooks.reload()

    def open_audit_trail(self) -> None:
        context = self.context
        if context is None or not context.may(Permission.VIEW_AUDIT_TRAIL) or self.cover.covering:
            return
        if self.audit_viewer is None:
            self.audit_viewer = AuditViewer(context, self.window)
        self.audit_viewer.show()
        self.audit_viewer.raise_()
        self.audit_viewer.reload()

    def open_users(self) -> None:
        context = self.context
        session = self.session
        if context is None or session is None or not context.may(Permission.MANAGE_USERS):
            return

        async def flow() -> None:
            await run_dialog(UserAdminDialog(context, session, self.window))

        self._start(flow(), "users")

    def change_password(self) -> None:
        context = self.context
        session = self.session
        if context is None or session is None:
            return

        async def flow() -> None:
            dialog = ChangePasswordDialog(context, session, self.window)
            if await run_dialog(dialog):
                self.window.statusBar().showMessage("Your password was changed.", 10_000)

        self._start(flow(), "change password")

    def _close_dialogs(self) -> None:
        """Close every open dialog of the window (locking, switching user, closing)."""
        for dialog in self.window.findChildren(QDialog):
            if not dialog.isVisible():
                continue
            if isinstance(dialog, AsyncDialog):
                dialog.force_close()
            else:
                dialog.reject()
        if self.panel is not None:
            self.panel.close_dialogs()

    def _close_windows(self) -> None:
        if self.logbooks is not None:
            self.logbooks.shutdown()
            self.logbooks.close()
            self.logbooks.deleteLater()
            self.logbooks = None
        if self.audit_viewer is not None:
            self.audit_viewer.shutdown()
            self.audit_viewer.close()
            self.audit_viewer.deleteLater()
            self.audit_viewer = None
        self._hidden_windows = []
        if self.panel_dock is not None:
            self.panel_dock.hide()
        if self.alarms is not None:
            self.alarms.close_windows()

    # -------------------------------------------------------------- plan and timers

    def _records_changed(self, changes: tuple[RecordChange, ...]) -> None:
        # Log-ins, log-outs and account changes do not change what the plan shows.
        if any(change.record_type != USER_RECORD for change in changes):
            self.marks_reloader.request()

    async def _refresh_marks(self) -> None:
        context = self.context
        if context is None:
            return
        records = context.records
        try:
            current = await context.call(records.rooms.all_current)
            overdue = await context.call(records.cleaning.sporicidal_overdue)
        except Exception as error:
            log.warning("room status for the plan not loaded: %s", error)
            return
        marks: dict[str, RoomMark] = {
            room_id: room_mark(view, overdue.get(room_id), room_id in overdue)
            for room_id, view in current.items()
        }
        self.window.plan.set_room_marks(marks)
        if self.alarms is not None:
            self.alarms.feed_room_statuses(current, self.cleanup_period)

    def _expire_holds(self) -> None:
        self._start(self._expire(), "expire clean holds")

    async def _expire(self) -> None:
        context = self.context
        if context is None:
            return
        try:
            rooms = await context.call(context.records.rooms.expire_holds)
        except Exception as error:
            log.warning("checking clean hold times failed: %s", error)
            return
        if rooms:
            log.info("clean hold expired; back to To be cleaned: %s", ", ".join(rooms))
