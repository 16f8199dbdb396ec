"""The alarms on the main window: banner, list, plan marks, horn, and the actions.

:class:`AlarmDesk` is what the app adds to the main window for the alarm
engine. Without the GMP records (screenshot mode, or before they open) it
shows: the banner at the top, the alarm list (a dock), each room's and door's
alarm state on the plan, the horn. Once the records are open
(:meth:`AlarmDesk.open_records`), people act on the alarms through the alarm
service on the records' worker thread: acknowledge (a comment), shelve
(reason, time, signature), unshelve, the Interlocks view (maintenance:
acknowledge with a signature, reset), the alarm history with its export.

The journal writer (process and system changes to disk, in batches off the
GUI thread) runs while the records are open; it writes what is queued once
more when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QWidget

from necstgen_desk.alarms.engine import AlarmEngine, AlarmNotFound
from necstgen_desk.alarms.journal import JournalWriter
from necstgen_desk.alarms.model import (
    LISTED_STATES,
    Alarm,
    AlarmChange,
    AlarmKind,
    AlarmState,
)
from necstgen_desk.alarms.service import AlarmService, shelve_durations
from necstgen_desk.records.lifecycle import RoomStatus
from necstgen_desk.records.roles import Permission
from necstgen_desk.records.signatures import SignatureMeaning
from necstgen_desk.services import RoomStatusView, SignatureRequest
from ui.alarm_banner import AlarmBanner
from ui.alarm_bridge import AlarmBridge
from ui.alarm_history import AlarmHistoryWindow
from ui.alarm_list import AcknowledgeDialog, AlarmListWidget, AlarmTableModel, ShelveDialog
from ui.alarm_look import PRIORITIES
from ui.forms import ReasonDialog, run_dialog
from ui.horn import Horn
from ui.interlock_view import InterlockView
from ui.main_window import MainWindow
from ui.plan_items import PlanAlarm
from ui.records_context import RecordsContext
from ui.signature_dialog import SignatureDialog
from ui.worker import TaskSet

log = logging.getLogger(__name__)

BANNER_REFRESH_MS = 200  # the banner reads the engine at most five times a second
FLOOD_CLOCK_MS = 1000  # the time in flood ticks on
JOURNAL_FLUSH_S = 1.0
_RANK = {p: i for i, p in enumerate(PRIORITIES)}
_AIRLOCK_KINDS = frozenset({AlarmKind.BOTH_DOORS_OPEN, AlarmKind.INTERLOCK_FAULT})


def plan_alarm(alarms: Iterable[Alarm]) -> PlanAlarm | None:
    """What the plan shows for these alarms (only the listed ones count)."""
    listed = [a for a in alarms if a.state in LISTED_STATES]
    if not listed:
        return None
    listed.sort(key=lambda a: _RANK[a.priority])
    return PlanAlarm(
        priority=listed[0].priority,
        unacknowledged=any(a.state.needs_acknowledgement for a in listed),
        count=len(listed),
        lines=tuple(a.message for a in listed),
    )


class AlarmDesk(QObject):
    """See the module docstring."""

    def __init__(
        self,
        window: MainWindow,
        engine: AlarmEngine,
        *,
        horn: Horn | None = None,
        banner_refresh_ms: int = BANNER_REFRESH_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent if parent is not None else window)
        self.window = window
        self.engine = engine
        self.site = engine.site
        self.tasks = TaskSet("alarm desk")
        self.context: RecordsContext | None = None
        self.service: AlarmService | None = None
        self.writer: JournalWriter | None = None
        self._writer_task: asyncio.Task[Any] | None = None
        self._detach_writer: Callable[[], None] | None = None
        self._told: dict[str, tuple[RoomStatus, datetime | None]] = {}
        self._stopped = False
        self.interlock_view: InterlockView | None = None
        self.history: AlarmHistoryWindow | None = None

        self.horn = horn if horn is not None else Horn(parent=self)
        self.bridge = AlarmBridge(engine, self)
        self.model = AlarmTableModel(self._lookup, self)
        self.model.reset(self._not_normal())

        self.banner = AlarmBanner(engine, self.horn, window, alarms=lambda: self.model.alarms)
        self.banner_dock = QDockWidget("Alarm banner", window)
        self.banner_dock.setObjectName("alarmBannerDock")
        self.banner_dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.banner_dock.setTitleBarWidget(QWidget(self.banner_dock))
        self.banner_dock.setWidget(self.banner)
        window.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, self.banner_dock)

        self.list = AlarmListWidget(self.model, self.site, window)
        self.list_dock = QDockWidget("Alarms", window)
        self.list_dock.setObjectName("alarmListDock")
        self.list_dock.setWidget(self.list)
        self.list_dock.setAllowedAreas(
            Qt.DockWidgetArea.BottomDockWidgetArea | Qt.DockWidgetArea.TopDockWidgetArea
        )
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.list_dock)
        self.list_dock.hide()

        self._build_menu()
        self._banner_timer = QTimer(self)
        self._banner_timer.setSingleShot(True)
        self._banner_timer.setInterval(banner_refresh_ms)
        self._banner_timer.timeout.connect(self.banner.refresh)
        self._flood_timer = QTimer(self)
        self._flood_timer.setInterval(FLOOD_CLOCK_MS)
        self._flood_timer.timeout.connect(self.banner.refresh)

        self.bridge.changed.connect(self._changed)
        self.bridge.flood_changed.connect(self._flood_changed)
        self.banner.acknowledge_requested.connect(self.acknowledge)
        self.banner.interlock_requested.connect(self.open_interlocks)
        self.banner.list_requested.connect(self.show_list)
        self.list.acknowledge_requested.connect(self.acknowledge)
        self.list.shelve_requested.connect(self.shelve)
        self.list.unshelve_requested.connect(self.unshelve)
        self.list.show_room_requested.connect(self.show_room)
        self.list.interlock_requested.connect(self.open_interlocks)
        self.list.history_requested.connect(self.open_history)
        self._update_permissions()
        self.refresh_plan()
        self.banner.refresh()

    # -------------------------------------------------------------- menu

    def _build_menu(self) -> None:
        window = self.window

        def action(text: str, name: str, slot: Callable[[], None], key: str = "") -> QAction:
            made = QAction(text, window)
            made.setObjectName(name)
            if key:
                made.setShortcut(QKeySequence(key))
            made.triggered.connect(slot)
            window.addAction(made)
            return made

        self.list_action = self.list_dock.toggleViewAction()
        self.list_action.setText("Alarm &list")
        self.list_action.setObjectName("alarmListAction")
        self.list_action.setShortcut(QKeySequence("Ctrl+Shift+A"))
        self.interlocks_action = action(
            "&Interlocks…", "interlocks", lambda: self.open_interlocks(""), "Ctrl+I"
        )
        self.history_action = action("Alarm &history…", "alarmHistory", self.open_history, "Ctrl+H")
        self.silence_action = action(
            "&Silence horn", "silenceHorn", lambda: self.horn.silence(self._who()), "Ctrl+M"
        )
        menu = window.menuBar().addMenu("&Alarms")
        menu.setObjectName("alarmsMenu")
        for item in (
            self.list_action,
            self.interlocks_action,
            self.history_action,
            self.silence_action,
        ):
            menu.addAction(item)
        self.menu = menu

    def _who(self) -> str | None:
        session = self.context.session if self.context is not None else None
        return session.user.username if session is not None else None

    # -------------------------------------------------------------- the engine

    def _lookup(self, alarm_id: str) -> Alarm | None:
        try:
            return self.engine.alarm(alarm_id)
        except AlarmNotFound:
            return None

    def _not_normal(self) -> list[Alarm]:
        out: list[Alarm] = []
        for state in AlarmState:
            if state is not AlarmState.NORMAL:
                out.extend(self.engine.alarms_in(state))
        return out

    def reload(self) -> None:
        """Everything from the engine again (after a restore from the journal)."""
        self.model.reset(self._not_normal())
        self.refresh_plan()
        self.banner.refresh()

    def _changed(self, changes: Sequence[AlarmChange]) -> None:
        self.model.apply(changes)
        for change in changes:
            if change.annunciates:
                self.horn.annunciate(change.definition.priority)
        if self.horn.sounding and self.engine.counts().unacknowledged == 0:
            self.horn.nothing_to_acknowledge()
        self.refresh_plan(changes)
        if not self._banner_timer.isActive():
            self._banner_timer.start()
        if self.interlock_view is not None:
            self.interlock_view.alarms_changed(changes)

    def _flood_changed(self, _status: object) -> None:
        if self.engine.flood().active:
            self._flood_timer.start()
        else:
            self._flood_timer.stop()
        self.banner.refresh()

    # -------------------------------------------------------------- the plan

    def refresh_plan(self, changes: Sequence[AlarmChange] | None = None) -> None:
        """The alarm marks of the rooms and doors these changes touch (all: None)."""
        site = self.site
        if changes is None:
            rooms = {s.id for s in site.spaces}
        else:
            rooms = {c.definition.room for c in changes if c.definition.room is not None}
            rooms &= set(site.space_by_id)
        if not rooms:
            return
        room_marks: dict[str, PlanAlarm | None] = {}
        door_marks: dict[str, PlanAlarm | None] = {}
        for room in rooms:
            alarms = self.engine.room_alarms(room)
            room_marks[room] = plan_alarm(alarms)
            for door in site.doors:
                if door.airlock != room and room not in door.between:
                    continue
                door_marks[door.id] = plan_alarm(
                    a for a in self._door_alarms(door.id, door.airlock) if a.state in LISTED_STATES
                )
        self.window.plan.set_alarm_marks(room_marks, door_marks)

    def _door_alarms(self, door_id: str, airlock: str | None) -> list[Alarm]:
        found: list[Alarm] = []
        rooms = {r for r in (airlock,) if r is not None}
        door = self.site.door_by_id[door_id]
        rooms.update(r for r in door.between if r in self.site.space_by_id)
        seen: set[str] = set()
        for room in rooms:
            for alarm in self.engine.room_alarms(room):
                if alarm.id in seen:
                    continue
                kind = alarm.kind
                mine = (
                    kind is AlarmKind.DOOR_HELD_OPEN and alarm.definition.source == door_id
                ) or (
                    kind in _AIRLOCK_KINDS
                    and airlock is not None
                    and alarm.definition.source == airlock
                )
                if mine:
                    seen.add(alarm.id)
                    found.append(alarm)
        return found

    def show_room(self, room_id: str) -> None:
        self.window.plan.show_space(room_id)

    # -------------------------------------------------------------- room statuses

    def feed_room_statuses(
        self, views: Mapping[str, RoomStatusView], cleanup_period: timedelta
    ) -> None:
        """Tell the engine each room's status (suppression, particle limits, clean-up).

        A room that left operation less than the clean-up period ago is told In
        operation first, so the engine runs the countdown from the right moment.
        """
        now = datetime.fromtimestamp(self.engine.now(), UTC)
        for room_id, view in views.items():
            if room_id not in self.site.space_by_id:
                continue
            since = view.since if view.since is not None else now
            told = self._told.get(room_id)
            if told == (view.status, view.since):
                continue
            if (
                told is None
                and view.status is not RoomStatus.IN_OPERATION
                and view.cleanup_ends_at is not None
                and view.cleanup_ends_at > now
            ):
                left = view.cleanup_ends_at - cleanup_period
                self.engine.set_room_status(room_id, RoomStatus.IN_OPERATION, left)
                since = max(since, left)
            self.engine.set_room_status(room_id, view.status, since)
            self._told[room_id] = (view.status, view.since)

    # -------------------------------------------------------------- records

    def open_records(self, context: RecordsContext, service: AlarmService) -> None:
        """People can act now; the journal writer starts."""
        self.context = context
        self.service = service
        writer = JournalWriter(service.journal)
        self.writer = writer
        self._detach_writer = writer.attach(self.engine)
        self._writer_task = self.tasks.start(writer.run(JOURNAL_FLUSH_S), name="alarm journal")
        context.session_changed.connect(self._update_permissions)
        if self.interlock_view is not None:
            self.interlock_view.attach(context, service)
        self._update_permissions()

    async def close_records(self) -> None:
        """Stop the journal writer (it writes what is queued first), close the windows."""
        self.close_windows()
        task, self._writer_task = self._writer_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._detach_writer is not None:
            self._detach_writer()
            self._detach_writer = None
        context, self.context = self.context, None
        if context is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                context.session_changed.disconnect(self._update_permissions)
        self.service = None
        self._update_permissions()

    def _update_permissions(self) -> None:
        context = self.context
        session = context.session if context is not None else None
        if context is None:
            why = "The GMP records are not open: nobody can act on alarms"
        elif session is None:
            why = "Log in to act on alarms"
        else:
            why = f"{session.user.role.display_name}s may not do this"
        ack = context is not None and context.may(Permission.ACKNOWLEDGE_ALARM)
        shelve = context is not None and context.may(Permission.SHELVE_ALARM)
        self.banner.set_permissions(acknowledge=ack, why_not=why)
        self.list.set_permissions(acknowledge=ack, shelve=shelve, why_not=why)
        self.history_action.setEnabled(context is not None and session is not None)

    # -------------------------------------------------------------- actions

    def _start(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        if self._stopped:
            coro.close()
            return
        self.tasks.start(coro, name=name)

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 15_000)

    def acknowledge(self, alarm_ids: list[str]) -> None:
        self._start(self._acknowledge(list(alarm_ids)), "acknowledge")

    async def _acknowledge(self, alarm_ids: list[str]) -> None:
        context, service = self.context, self.service
        if context is None or service is None or context.session is None:
            self._say("Log in to acknowledge alarms.")
            return
        session = context.session
        alarms = [a for i in alarm_ids if (a := self._lookup(i)) is not None]
        faults = [a for a in alarms if a.kind is AlarmKind.INTERLOCK_FAULT]
        due = [a for a in alarms if a not in faults and a.state.needs_acknowledgement]
        if faults:
            self._say(
                "Interlock faults are acknowledged by maintenance in the Interlocks view, "
                "with a comment and a signature."
            )
        if not due:
            return
        ids = [a.id for a in due]

        async def act(comment: str) -> list[AlarmChange]:
            return await context.call(service.acknowledge, session, ids, comment)

        dialog = AcknowledgeDialog(due, act, self.window)
        if await run_dialog(dialog) and dialog.value is not None:
            self._say(f"{len(dialog.value)} alarm(s) acknowledged by {session.user.username}.")

    def shelve(self, alarm_id: str) -> None:
        self._start(self._shelve(alarm_id), "shelve")

    async def _shelve(self, alarm_id: str) -> None:
        context, service = self.context, self.service
        alarm = self._lookup(alarm_id)
        if context is None or service is None or context.session is None or alarm is None:
            return
        session = context.session
        ask = ShelveDialog(
            alarm, shelve_durations(self.engine.policy.shelve_max_hours), self.window
        )
        if not await run_dialog(ask) or ask.value is None:
            return
        reason, duration = ask.value

        async def sign(request: SignatureRequest) -> AlarmChange:
            return await context.call(service.shelve, session, alarm_id, reason, duration, request)

        until = datetime.fromtimestamp(self.engine.now(), UTC) + duration
        signature = SignatureDialog(
            session,
            SignatureMeaning.SHELVED,
            f"Shelving of alarm {alarm.id}: {alarm.message}",
            sign,
            self.window,
            details=[
                ("Reason", reason),
                ("Until", f"{until.astimezone():%Y-%m-%d %H:%M} (then it comes back by itself)"),
            ],
        )
        if not await run_dialog(signature) or signature.value is None:
            self._say("Not signed: the alarm was not shelved.")
            return
        self._say(f"Alarm {alarm_id} shelved by {session.user.username}.")

    def unshelve(self, alarm_id: str) -> None:
        self._start(self._unshelve(alarm_id), "unshelve")

    async def _unshelve(self, alarm_id: str) -> None:
        context, service = self.context, self.service
        if context is None or service is None or context.session is None:
            return
        session = context.session

        async def act(comment: str) -> AlarmChange:
            return await context.call(service.unshelve, session, alarm_id, comment)

        dialog = ReasonDialog(
            "Unshelve alarm",
            f"Put alarm {alarm_id} back in the list now, before its shelf time is up?",
            act,
            self.window,
            ok_text="Unshelve",
        )
        if await run_dialog(dialog):
            self._say(f"Alarm {alarm_id} unshelved by {session.user.username}.")

    def _covered(self) -> bool:
        """Whether the records' cover (log-in, idle lock) hides the window: it disables
        the window's contents, the plan first among them. The horn stays silenceable."""
        return not self.window.plan.isEnabled()

    def show_list(self) -> None:
        if self._covered():
            return
        self.list_dock.show()
        self.list_dock.raise_()
        self.list.table.setFocus()

    def open_interlocks(self, airlock_id: str = "") -> None:
        if self._stopped or self._covered():
            return
        view = self.interlock_view
        if view is None:
            view = InterlockView(self.engine, self.site, self.window)
            self.interlock_view = view
            if self.context is not None and self.service is not None:
                view.attach(self.context, self.service)
        view.show()
        view.raise_()
        view.refresh()
        if airlock_id:
            view.select(airlock_id)

    def open_history(self) -> None:
        context, service = self.context, self.service
        if self._stopped or context is None or service is None or context.session is None:
            return
        if self._covered():
            return
        if self.history is None:
            self.history = AlarmHistoryWindow(context, service, self.window)
        self.history.show()
        self.history.raise_()
        self.history.reload()

    def close_windows(self) -> None:
        for window in (self.interlock_view, self.history):
            if window is not None:
                window.shutdown()
                window.close()
                window.deleteLater()
        self.interlock_view = None
        self.history = None

    def hide_windows(self) -> list[QWidget]:
        """Hide the alarm windows (the screen locks); returns those that were shown."""
        shown: list[QWidget] = [
            w for w in (self.interlock_view, self.history) if w is not None and w.isVisible()
        ]
        for window in shown:
            window.hide()
        return shown

    # -------------------------------------------------------------- stop

    async def stop(self) -> None:
        """Stop the writer (flushing), timers, horn and bridge; close the windows."""
        if self._stopped:
            return
        self._stopped = True
        await self.close_records()
        self._banner_timer.stop()
        self._flood_timer.stop()
        self.horn.stop()
        self.bridge.stop()
        await self.tasks.close()
