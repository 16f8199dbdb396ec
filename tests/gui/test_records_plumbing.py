"""The plumbing under the records screens: the worker thread, the change bridge,
busy dialogs, times on screen, and how a room status reads on the plan."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from necstgen_desk.records.errors import RuleViolation
from necstgen_desk.records.lifecycle import RoomStatus
from necstgen_desk.services import RecordChange, RoomStatusView
from ui import room_logbook
from ui.bridge import RecordsBridge
from ui.forms import AsyncDialog, error_text, run_dialog
from ui.room_marks import MarkStyle, room_mark, short_status
from ui.timefmt import (
    local_text,
    now_local,
    now_utc,
    to_date,
    to_qdatetime,
    to_utc,
    today_local,
    use_clock,
)
from ui.worker import (
    WORKER_THREAD_NAME,
    GuiThreadGarbageCollector,
    ServiceWorker,
    WorkerClosed,
    freeze_startup_objects,
)

from .conftest import run_in_loop

# ------------------------------------------------------------------ the worker


def test_every_call_runs_on_the_one_worker_thread_in_order(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    worker = ServiceWorker()
    seen: list[tuple[str, int]] = []

    def job(n: int) -> int:
        seen.append((threading.current_thread().name, n))
        return n * n

    async def calls() -> list[int]:
        return list(await asyncio.gather(*(worker.call(job, n) for n in range(5))))

    try:
        assert run_in_loop(qtbot, qloop, calls()) == [0, 1, 4, 9, 16]
    finally:
        worker.shutdown()
    assert [n for _, n in seen] == [0, 1, 2, 3, 4]
    names = {name for name, _ in seen}
    assert len(names) == 1 and names.pop().startswith(WORKER_THREAD_NAME)
    assert threading.current_thread() is threading.main_thread()


def test_errors_reach_the_caller_and_the_gui_keeps_running(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    worker = ServiceWorker()
    release = threading.Event()
    ticks: list[int] = []

    def refuse() -> None:
        release.wait(5)
        raise RuleViolation("Release of room B-01 refused", ["the room is not Cleaned"])

    async def call() -> str:
        try:
            await worker.call(refuse)
        except RuleViolation as error:
            return error_text(error)
        return "no error"

    async def meanwhile() -> None:
        for i in range(3):  # the loop (and so the GUI) runs while the worker waits
            ticks.append(i)
            await asyncio.sleep(0)
        release.set()

    async def both() -> str:
        result, _ = await asyncio.gather(call(), meanwhile())
        return result

    try:
        text = run_in_loop(qtbot, qloop, both())
    finally:
        worker.shutdown()
    assert text == "Release of room B-01 refused: the room is not Cleaned."
    assert ticks == [0, 1, 2]


def test_a_stopped_worker_refuses_calls(qtbot: QtBot, qloop: asyncio.AbstractEventLoop) -> None:
    worker = ServiceWorker()
    worker.shutdown()
    worker.shutdown()  # twice is harmless
    with pytest.raises(WorkerClosed):
        run_in_loop(qtbot, qloop, worker.call(print, "never"))


def test_cyclic_garbage_is_collected_on_the_gui_thread_only() -> None:
    guard = GuiThreadGarbageCollector(interval_ms=10)
    enabled = gc.isenabled()
    guard.start()
    try:
        assert not gc.isenabled()
        guard.check()
    finally:
        guard.stop()
        guard.deleteLater()
    assert gc.isenabled() is enabled


def test_start_up_objects_are_frozen_after_a_collection_and_garbage_is_not() -> None:
    class Node:
        def __init__(self) -> None:
            self.other: Node | None = None

    alive = Node()
    garbage = Node()
    garbage.other = Node()
    garbage.other.other = garbage  # a cycle only the collector can reclaim
    witness = weakref.ref(garbage)
    del garbage
    try:
        frozen = freeze_startup_objects()
        assert witness() is None  # collected first, never frozen
        assert frozen == gc.get_freeze_count() > 0
        assert not any(o is alive for o in gc.get_objects(generation=2))  # now permanent
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


# ------------------------------------------------------------------ the bridge


def test_change_notices_from_the_worker_thread_arrive_on_the_gui_thread(qtbot: QtBot) -> None:
    bridge = RecordsBridge()
    received: list[tuple[object, ...]] = []
    threads: list[threading.Thread] = []

    def on_changed(changes: tuple[object, ...]) -> None:
        received.append(changes)
        threads.append(threading.current_thread())

    bridge.changed.connect(on_changed)
    notices = [RecordChange("cleaning_record", str(i), "B-01") for i in range(3)]

    def burst() -> None:
        for change in notices:
            bridge.notify(change)

    sender = threading.Thread(target=burst)
    sender.start()
    sender.join()
    qtbot.waitUntil(lambda: bool(received), timeout=2000)
    assert received == [tuple(notices)]  # one coalesced emission
    assert threads == [threading.main_thread()]
    bridge.stop()
    bridge.notify(notices[0])
    QApplication.processEvents()
    assert len(received) == 1
    bridge.deleteLater()


# ------------------------------------------------------------------ dialogs


class _SlowDialog(AsyncDialog[int]):
    def __init__(self, gate: asyncio.Event) -> None:
        super().__init__("Slow")
        self.gate = gate

    async def submit(self) -> int:
        await self.gate.wait()
        return 42


def test_a_dialog_is_busy_while_it_waits_and_refuses_to_close(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    gate = asyncio.Event()
    dialog = _SlowDialog(gate)
    task = qloop.create_task(run_dialog(dialog))
    qtbot.waitUntil(dialog.isVisible, timeout=2000)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.busy, timeout=2000)
    assert not dialog.body.isEnabled() and not dialog.cancel_button.isEnabled()
    assert dialog.busy_bar.isVisible()
    dialog.reject()  # Escape / Cancel while a call runs: ignored
    assert dialog.isVisible()
    gate.set()
    qtbot.waitUntil(task.done, timeout=2000)
    assert task.result() is True
    assert dialog.value == 42


# ------------------------------------------------------------------ times and marks


def test_times_show_local_with_the_offset_and_go_back_to_utc() -> None:
    at = datetime(2026, 11, 26, 16, 2, 11, tzinfo=UTC)
    text = local_text(at)
    local = at.astimezone()
    offset = local.strftime("%z")
    assert text == f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"
    assert to_utc(to_qdatetime(at)) == at
    assert to_utc(QDateTime.fromSecsSinceEpoch(0)) == datetime(1970, 1, 1, tzinfo=UTC)


def _view(status: RoomStatus, **extra: object) -> RoomStatusView:
    fields: dict[str, object] = {
        "room_id": "B-01",
        "room_name": "Cell-processing suite 1",
        "grade": "B",
        "status": status,
        "never_logged": False,
        "since": datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
        "by": "olga",
        "product": None,
        "batch": None,
        "reason": None,
        "entry_id": 1,
    }
    fields.update(extra)
    return RoomStatusView(**fields)  # type: ignore[arg-type]  # test table of plain values


def test_the_screens_now_follows_the_facility_clock_and_goes_back_to_the_wall() -> None:
    """A time-lapse demo hands its clock to the UI: the forms' default times and
    the signature dialog's "now" are the plant's (ADR 0006)."""
    ahead = datetime.now(UTC) + timedelta(minutes=50)
    use_clock(lambda: ahead)
    try:
        assert now_utc() == ahead
        assert abs((to_utc(now_local()) - ahead).total_seconds()) <= 0.001  # to the ms
        assert to_date(today_local()) == ahead.astimezone().date()
        assert to_utc(room_logbook._now()) == to_utc(now_local())  # the logbook forms' default
    finally:
        use_clock(None)
    assert abs((now_utc() - datetime.now(UTC)).total_seconds()) < 5


@pytest.mark.parametrize(
    ("status", "text", "style"),
    [
        (RoomStatus.IN_OPERATION, "IN OP", MarkStyle.QUIET),
        (RoomStatus.RELEASED, "RELEASED", MarkStyle.QUIET),
        (RoomStatus.CLEANED, "CLEANED", MarkStyle.QUIET),
        (RoomStatus.TO_BE_CLEANED, "TO CLEAN", MarkStyle.BOXED),
        (RoomStatus.CLEANING, "CLEANING", MarkStyle.BOXED),
        (RoomStatus.MAINTENANCE, "MAINT", MarkStyle.HATCHED),
        (RoomStatus.OUT_OF_SERVICE, "OUT OF SVC", MarkStyle.FILLED),
    ],
)
def test_room_status_reads_as_short_text_and_shape(
    status: RoomStatus, text: str, style: MarkStyle
) -> None:
    mark = room_mark(_view(status), None, False)
    assert (mark.text, mark.style) == (text, style)
    assert short_status(status) == text
    assert mark.marked is (style is not MarkStyle.QUIET)
    assert status.display_name in mark.tooltip


def test_the_sporicidal_flag_says_how_late() -> None:
    released = _view(RoomStatus.RELEASED, hold_expires_at=datetime(2026, 11, 29, 8, 0, tzinfo=UTC))
    late = room_mark(released, 3, True)
    assert late.sporicidal_overdue and "overdue by 3 day(s)" in late.tooltip
    assert "Clean hold expires" in late.tooltip
    never = room_mark(_view(RoomStatus.CLEANED), None, True)
    assert "No sporicidal clean on record" in never.tooltip
    assert not room_mark(_view(RoomStatus.CLEANED), None, False).sporicidal_overdue
