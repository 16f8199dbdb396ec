"""kill -9 while the writer commits: nothing committed is lost, the batch in flight
is all or nothing, the file is sound, and the roll-ups agree with the raw record
once the next start has repaired the buckets that were open."""

from __future__ import annotations

import random
import sys
from collections import defaultdict

import pytest
from sqlalchemy import select

from hal.points import Quality, Sample
from necstgen_desk.historian import HistorianQuery, Tier, recover_rollups
from necstgen_desk.historian.model import quality_of, to_seconds
from necstgen_desk.historian.store import POINTS, RAW
from necstgen_desk.storage.engine import is_sqlite, make_engine
from tests.crashing import run_and_kill
from tests.integration.historian import crash_writer
from tests.unit.historian import reference

ROUNDS = 3


def _run_and_kill(url: str, round_: int, delay_s: float) -> int:
    """Start the child, let it write for ``delay_s``, SIGKILL it; the last count
    of committed samples it reported."""
    complete = run_and_kill("tests.integration.historian.crash_writer", [url, str(round_)], delay_s)
    return int(complete[-1]) if complete else 0


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_kill_9_loses_at_most_the_batch_in_flight(migrated_url: str) -> None:
    rng = random.Random(20261127)
    reported = [_run_and_kill(migrated_url, r, rng.uniform(0.3, 0.9)) for r in range(ROUNDS)]
    assert all(reported), f"a writer never committed: {reported}"

    engine = make_engine(migrated_url)  # "after restart": a new process's view
    try:
        if is_sqlite(migrated_url):
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        with engine.connect() as connection:
            ids = dict(connection.execute(select(POINTS.c.id, POINTS.c.point_id)).all())
            rows = connection.execute(
                select(RAW.c.point, RAW.c.t, RAW.c.value, RAW.c.quality).order_by(RAW.c.t)
            ).all()
        raw: dict[str, list[Sample]] = defaultdict(list)
        for hist_id, t, value, code in rows:
            quality = quality_of(code)
            assert quality is not None
            raw[ids[hist_id]].append(Sample(ids[hist_id], value, quality, to_seconds(t)))

        for round_, count in enumerate(reported):
            point_ids = [f"C{round_}.{i}" for i in range(crash_writer.POINTS)]
            stored = sum(len(raw[p]) for p in point_ids)
            # Every sample reported committed is there; beyond it at most the
            # batch that committed as the kill came (taken whole: one list more).
            assert count <= stored <= count + crash_writer.BATCH + crash_writer.POINTS, round_
            # Whole seconds only: a transaction is never half there.
            per_point = {len(raw[p]) for p in point_ids}
            assert len(per_point) == 1, per_point
            assert any(s.quality is Quality.STALE for s in raw[point_ids[0]])

        # The last round's open buckets are repaired by the next start.
        assert recover_rollups(engine) > 0
        assert recover_rollups(engine) == 0  # and only once
        query = HistorianQuery(engine)
        far = crash_writer.T0 + 86_400
        for point_id, samples in raw.items():
            for tier, width in (
                (Tier.MINUTE, reference.MINUTE_US),
                (Tier.QUARTER_HOUR, reference.QUARTER_US),
            ):
                expected = reference.rollups(samples, width)
                stored_rows = query.rollups(point_id, tier, crash_writer.T0, far)
                assert [r[0] for r in stored_rows] == sorted(expected), (point_id, tier)
                for (
                    bucket,
                    count,
                    good,
                    lo,
                    hi,
                    mean,
                    worst,
                    last_q,
                    first_t,
                    last_t,
                ) in stored_rows:
                    b = expected[bucket]
                    assert (count, good, lo, hi, worst, last_q, first_t, last_t) == (
                        b.count,
                        b.good,
                        b.minimum,
                        b.maximum,
                        b.worst,
                        b.last_quality,
                        b.first_t,
                        b.last_t,
                    ), (point_id, tier, bucket)
                    assert reference.close(mean, b.mean)
    finally:
        engine.dispose()
