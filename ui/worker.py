"""The one thread that talks to the records services, and the tasks the screens start.

argon2id hashing (~0.1 s per password check) and ``synchronous=FULL`` commits
must never run on the GUI thread (ADR 0004). Every service call goes through
:class:`ServiceWorker`: a single dedicated thread — one owner of the database
session, so calls run one after the other in the order they were made —
awaited from the qasync loop, so the window keeps painting while it works.

:class:`TaskSet` owns the coroutines a screen starts from a button: it keeps
them alive, logs what they did not handle, and cancels them when the screen
goes, so no task outlives its window. :class:`GuiThreadGarbageCollector` keeps
Python's cycle collector off the worker thread (Qt objects die on their own
thread).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

WORKER_THREAD_NAME = "necstgen-records"


class WorkerClosed(RuntimeError):
    """A service call was made after :meth:`ServiceWorker.shutdown`."""


class ServiceWorker:
    """Runs service calls one at a time on one dedicated thread.

    ``await worker.call(records.accounts.login, "jdoe", password)`` returns the
    function's result or re-raises its exception in the caller, with the GUI
    thread free while it runs. Calls run in the order they were made.
    """

    def __init__(self, thread_name: str = WORKER_THREAD_NAME) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name)
        self._pending = 0
        self._closed = False

    @property
    def busy(self) -> bool:
        """Whether a call is queued or running."""
        return self._pending > 0

    @property
    def closed(self) -> bool:
        return self._closed

    async def call[**P, T](self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on the worker thread and return its result."""
        if self._closed:
            raise WorkerClosed("the records worker has stopped; no more calls are taken")
        loop = asyncio.get_running_loop()
        self._pending += 1
        try:
            return await loop.run_in_executor(
                self._executor, functools.partial(fn, *args, **kwargs)
            )
        finally:
            self._pending -= 1

    def shutdown(self, *, wait: bool = True) -> None:
        """Refuse new calls, drop queued ones, and (by default) wait for the running one.

        Waiting is short: a call is one transaction. A record the user was told
        is saved was committed before its call returned, so nothing is lost.
        """
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=wait, cancel_futures=True)


class TaskSet:
    """The coroutines one screen started; cancelled together when it closes."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def start(self, coro: Coroutine[Any, Any, Any], *, name: str = "") -> asyncio.Task[Any] | None:
        """Run ``coro`` as a task of this set; None (and ``coro`` dropped) once closed."""
        if self._closed:
            coro.close()
            return None
        loop = asyncio.get_running_loop()
        task = loop.create_task(coro, name=f"{self._owner}: {name}" if name else self._owner)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("%s failed", task.get_name(), exc_info=error)

    @property
    def running(self) -> bool:
        return any(not t.done() for t in self._tasks)

    def cancel_all(self) -> None:
        """Cancel every task but the one calling (a task may close its own screen)."""
        current = _current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()

    async def close(self) -> None:
        """Take no more tasks; cancel every task (but the caller) and wait for them."""
        self._closed = True
        self.cancel_all()
        current = _current_task()
        pending = [t for t in self._tasks if t is not current]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no loop running
        return None


class Reloader:
    """Runs a screen's async ``load``; requests made while it runs cause one more run.

    Change notices come in bursts; this keeps a screen to one load at a time
    and never leaves it showing data older than the last notice.
    """

    def __init__(
        self, tasks: TaskSet, load: Callable[[], Coroutine[Any, Any, None]], name: str
    ) -> None:
        self._tasks = tasks
        self._load = load
        self._name = name
        self._task: asyncio.Task[Any] | None = None
        self._again = False
        self.loads = 0  # completed loads (tests wait on it)

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def request(self) -> None:
        if self.busy:
            self._again = True
            return
        self._task = self._tasks.start(self._run(), name=self._name)

    async def _run(self) -> None:
        while True:
            self._again = False
            await self._load()
            self.loads += 1
            if not self._again:
                return


def freeze_startup_objects() -> int:
    """Collect once, then move every object alive to the collector's permanent
    generation (:func:`gc.freeze`); how many.

    What exists once the app has started — the site, the plan and its items, the
    screens, the pollers' plans, the historian's per-point state — lives as long
    as the app. Left in the collector's oldest generation, every full collection
    walks all of it: on the 10,020-point site p50 164 ms, max 214 ms on the GUI
    thread, about every 7 s (``benchmarks/gui.py --historian --no-freeze``,
    ``full_gc_ms``). Frozen, a full collection walks only what came since
    (p50 15 ms, max 29 ms without ``--no-freeze``). A frozen object that later becomes
    cyclic garbage is not reclaimed, which is why this runs once, after start-up.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class GuiThreadGarbageCollector(QObject):
    """Runs Python's cyclic garbage collector on the GUI thread only, while it is active.

    The collector runs in whichever thread happens to allocate when a threshold
    is crossed. With a worker thread (:class:`ServiceWorker`) that may be the
    worker, and a Qt object caught in a reference cycle (a closed dialog, a
    finished qasync timer) would then be destroyed off the GUI thread — Qt
    warns ("Timers cannot be stopped from another thread") or crashes. So,
    as pyqtgraph does, automatic collection is switched off and a timer on the
    GUI thread collects by the same generational thresholds.
    """

    def __init__(self, parent: QObject | None = None, interval_ms: int = 500) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._was_enabled = False
        self._active = False

    @property
    def active(self) -> bool:
        return self._active

    def start(self) -> None:
        if self._active:
            return
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._active = True
        self._timer.start()

    def check(self) -> None:
        """Collect the generations whose thresholds are passed (on this, the GUI thread)."""
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        if c0 > t0:
            gc.collect(0)
            if c1 > t1:
                gc.collect(1)
                if c2 > t2:
                    gc.collect(2)

    def stop(self) -> None:
        """Collect once more here, then give collection back to Python."""
        if not self._active:
            return
        self._timer.stop()
        self._active = False
        gc.collect()
        if self._was_enabled:
            gc.enable()
