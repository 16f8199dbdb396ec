"""What every records screen shares: the services, the worker thread, who is logged in.

One :class:`RecordsContext` per run of the app. Screens read ``context.session``
and listen to :attr:`RecordsContext.session_changed` (log-in, switch user,
log-out) and :attr:`RecordsContext.changed` (records written by anyone, already
on the GUI thread, coalesced).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from necstgen_desk.records.passwords import MIN_PASSWORD_LENGTH
from necstgen_desk.records.roles import Permission, may
from necstgen_desk.services import Records, UserSession
from necstgen_desk.site.model import Site, Space
from ui.bridge import RecordsBridge
from ui.forms import InputProblem
from ui.worker import ServiceWorker


class RecordsContext(QObject):
    """The services, the one worker that calls them, the site and the session."""

    session_changed = Signal()
    changed = Signal(object)  # tuple[RecordChange, ...]

    def __init__(
        self,
        records: Records,
        worker: ServiceWorker,
        site: Site,
        parent: QObject | None = None,
        *,
        password_min_length: int = MIN_PASSWORD_LENGTH,
    ) -> None:
        super().__init__(parent)
        self.records = records
        self.worker = worker
        self.site = site
        self.password_min_length = password_min_length
        self.bridge = RecordsBridge(self)
        self.bridge.changed.connect(self.changed)
        self._unsubscribe: Callable[[], None] | None = records.on_change(self.bridge.notify)
        self._session: UserSession | None = None

    @property
    def session(self) -> UserSession | None:
        return self._session

    def set_session(self, session: UserSession | None) -> None:
        self._session = session
        self.session_changed.emit()

    def require_session(self) -> UserSession:
        if self._session is None:
            raise InputProblem("No one is logged in; log in first.")
        return self._session

    def may(self, permission: Permission) -> bool:
        """Whether the logged-in user's role holds ``permission`` (the service checks again)."""
        session = self._session
        return session is not None and may(session.user.role, permission)

    async def call[**P, T](self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A service call on the worker thread (see :class:`ServiceWorker`)."""
        return await self.worker.call(fn, *args, **kwargs)

    @property
    def spaces(self) -> tuple[Space, ...]:
        return tuple(self.site.spaces)

    def room_label(self, room_id: str) -> str:
        space = self.site.space_by_id.get(room_id)
        if space is None:
            return room_id
        return f"{space.id} — {space.name} (Grade {space.grade.value})"

    def close(self) -> None:
        """Stop listening to the services (before the app stops the worker)."""
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        self.bridge.stop()
