"""The writer under a locked database: it keeps everything, then catches up; when
its queue would overflow it drops the oldest, counts, logs once and says so."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from sqlalchemy import Engine, func, select, text

from hal.points import Quality, Sample
from necstgen_desk.historian import HistorianQuery, OverflowEpisode, PointPolicy
from necstgen_desk.historian.store import RAW
from necstgen_desk.storage.engine import is_sqlite, make_engine, sqlite_path
from tests.integration.historian.conftest import FAST, WriterFactory
from tests.unit.historian.strategies import T0

POINTS = [f"W{i}" for i in range(10)]
EVERY = {p: PointPolicy(forced_s=0) for p in POINTS}  # record every sample


def _second(k: int) -> list[Sample]:
    return [Sample(p, k + i / 100, Quality.GOOD, T0 + k) for i, p in enumerate(POINTS)]


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@contextmanager
def locked(url: str) -> Iterator[None]:
    """Another connection holds the lock the writer needs: SQLite's write lock
    (``BEGIN EXCLUSIVE``), PostgreSQL's ``ACCESS EXCLUSIVE`` on ``hist_raw``."""
    if is_sqlite(url):
        path = sqlite_path(url)
        assert path is not None
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            yield
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            connection.execute(text("LOCK TABLE hist_raw IN ACCESS EXCLUSIVE MODE"))
            yield
            transaction.rollback()
    finally:
        engine.dispose()


def _raw_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(RAW)).scalar() or 0)


def test_a_locked_database_loses_nothing_and_the_writer_catches_up(
    make_writer: WriterFactory, migrated_url: str, engine: Engine
) -> None:
    writer = make_writer(policies=EVERY)
    writer.submit(_second(0))
    assert writer.flush(10)
    seconds = 1
    with locked(migrated_url):
        started = time.monotonic()
        while time.monotonic() - started < 2.0:  # ~2 s of a database nobody can write
            writer.submit(_second(seconds))
            seconds += 1
            time.sleep(0.02)
        status = writer.status()
        assert status.retrying and status.last_error and "busy" in status.last_error
        assert status.queue_depth > 0 and status.oldest_wait_s > 0.5
        assert status.behind
        assert status.processed == len(POINTS)  # only what came before the lock
    assert writer.flush(20)
    status = writer.status()
    assert not status.retrying and status.last_error is None and status.queue_depth == 0
    assert status.dropped == 0 and status.processed == status.received == seconds * len(POINTS)
    assert _raw_count(engine) == seconds * len(POINTS)
    query = HistorianQuery(engine)
    assert [r.t for r in query.raw("W3", T0, T0 + seconds)] == [T0 + k for k in range(seconds)]


def test_overflow_drops_the_oldest_counts_logs_once_and_calls_back(
    make_writer: WriterFactory,
    migrated_url: str,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    episodes: list[OverflowEpisode] = []
    settings = replace(FAST, queue_capacity=500, batch_samples=100)
    writer = make_writer(policies=EVERY, settings=settings, on_overflow=episodes.append)
    writer.submit(_second(0))
    assert writer.flush(10)
    caplog.set_level(logging.WARNING, logger="necstgen_desk.historian.writer")
    seconds = 1
    with locked(migrated_url):
        _wait_for(lambda: writer.status().retrying or writer.status().queue_depth == 0)
        for _ in range(200):  # 2,000 samples into a queue of 500
            writer.submit(_second(seconds))
            seconds += 1
        status = writer.status()
        assert status.queue_depth <= 500
        assert status.dropped >= 2_000 - 500
        assert status.first_drop_at is not None and status.last_drop_at is not None
    assert writer.flush(20)
    writer.submit(_second(seconds))  # the queue is short again: the episode is over
    seconds += 1
    assert writer.flush(10)
    status = writer.status()

    # Nothing silently: every sample is either stored or counted as dropped.
    assert _raw_count(engine) + status.dropped == seconds * len(POINTS)
    assert [e.ended for e in episodes] == [False, True]
    assert episodes[1].dropped == status.dropped
    assert T0 + 1 <= episodes[1].oldest_sample_t <= episodes[1].newest_sample_t < T0 + seconds
    full = [r for r in caplog.records if "queue full" in r.getMessage()]
    assert [r.levelno for r in full] == [logging.ERROR, logging.WARNING]
    assert f"{status.dropped:,}" in full[1].getMessage()
    # The oldest waiting samples went (not those in the transaction being
    # retried): the holes lie in the past, within the dropped samples' span,
    # and the record is complete from there up to now.
    query = HistorianQuery(engine)
    times = [r.t for r in query.raw("W0", T0, T0 + seconds)]
    missing = sorted({T0 + k for k in range(seconds)} - set(times))
    assert len(missing) * len(POINTS) == status.dropped
    assert (missing[0], missing[-1]) == (episodes[1].oldest_sample_t, episodes[1].newest_sample_t)
    after = [t for t in times if t > missing[-1]]
    assert after == [T0 + k for k in range(round(missing[-1] - T0) + 1, seconds)]
    assert len(after) >= (settings.queue_capacity - 2 * settings.batch_samples) // len(POINTS)


def test_samples_after_stop_are_refused_and_logged(
    make_writer: WriterFactory, caplog: pytest.LogCaptureFixture
) -> None:
    writer = make_writer(policies=EVERY)
    writer.stop()
    caplog.set_level(logging.ERROR, logger="necstgen_desk.historian.writer")
    writer.submit(_second(1))
    writer.submit(_second(2))
    assert [r.getMessage() for r in caplog.records] == [
        "historian writer stopped: 10 samples submitted after it"
    ]
    assert not writer.status().running


def test_duplicates_are_counted(make_writer: WriterFactory) -> None:
    writer = make_writer(policies=EVERY)
    writer.submit([Sample("W0", 1.0, Quality.GOOD, T0), Sample("W0", 2.0, Quality.GOOD, T0)])
    assert writer.flush(10)
    assert writer.status().duplicates == 1


def test_a_point_the_site_does_not_name_is_registered(
    make_writer: WriterFactory, engine: Engine
) -> None:
    writer = make_writer(policies=EVERY)
    writer.submit([Sample("elsewhere", 3.0, Quality.GOOD, T0)])
    assert writer.flush(10)
    assert HistorianQuery(engine).point_ids() == sorted([*POINTS, "elsewhere"])
