"""The historian on real databases: every test using ``migrated_url`` runs on SQLite
and PostgreSQL (the storage tests' fixtures). Writers are stopped at the end of
each test, and a test that leaves a writer thread running fails."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from necstgen_desk.historian import HistorianSettings, HistorianWriter, PointPolicy
from tests.integration.storage.conftest import (  # the databases of the storage tests
    db_url,
    engine,
    migrated_url,
    pg_admin,
)

__all__ = ["FAST", "Clock", "WriterFactory", "db_url", "engine", "migrated_url", "pg_admin"]

#: Fast settings for tests: small batches, short waits, no retention pass.
FAST = HistorianSettings(
    batch_interval_s=0.02,
    batch_samples=2_000,
    queue_capacity=200_000,
    busy_timeout_s=0.2,
    retry_initial_s=0.02,
    retry_max_s=0.2,
    retention_every_s=None,
    stop_timeout_s=20,
)


class Clock:
    """A hand-driven clock (epoch seconds) for the writer's bucket closing."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


type WriterFactory = Callable[..., HistorianWriter]


@pytest.fixture
def make_writer(migrated_url: str) -> Iterator[WriterFactory]:
    """Start writers on the test database; each is stopped at the end of the test."""
    made: list[HistorianWriter] = []

    def make(
        *,
        policies: Mapping[str, PointPolicy] | None = None,
        settings: HistorianSettings = FAST,
        url: str | None = None,
        **kwargs: Any,
    ) -> HistorianWriter:
        writer = HistorianWriter(
            url or migrated_url, policies=policies, settings=settings, **kwargs
        )
        made.append(writer)
        writer.start()
        return writer

    yield make
    for writer in made:
        writer.stop()


@pytest.fixture(autouse=True)
def no_leaked_writer_threads() -> Iterator[None]:
    yield
    leaked = [t.name for t in threading.enumerate() if t.name.startswith("historian-writer")]
    assert not leaked, f"historian writer threads left running: {leaked}"
