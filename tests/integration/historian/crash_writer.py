"""The child of the historian crash test: feeds a writer until it is killed.

``python -m tests.integration.historian.crash_writer URL ROUND`` records 40
points of round ``ROUND`` (``C<round>.<i>``), one sample each per simulated
second, every sample recorded (``forced_s = 0``), in batches of up to 400.
It prints ``ready`` once the writer runs, then after each commit the number
of samples committed so far: every number printed was durable when printed.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

from hal.points import Quality, Sample
from necstgen_desk.historian import HistorianSettings, HistorianWriter, PointPolicy

POINTS = 40
BATCH = 400
T0 = 1_800_000_000.0


def main(argv: list[str]) -> int:
    url, round_ = argv[1], int(argv[2])
    ids = [f"C{round_}.{i}" for i in range(POINTS)]
    committed = 0

    def on_commit(count: int) -> None:
        nonlocal committed
        committed += count
        sys.stdout.write(f"{committed}\n")
        sys.stdout.flush()

    now = [T0]
    settings = replace(
        HistorianSettings(),
        batch_samples=BATCH,
        batch_interval_s=0.01,
        retention_every_s=None,
    )
    writer = HistorianWriter(
        url,
        policies={p: PointPolicy(forced_s=0) for p in ids},
        settings=settings,
        on_commit=on_commit,
        clock=lambda: now[0],
    )
    writer.start()
    print("ready", flush=True)
    k = 0
    while True:
        t = T0 + k
        quality = Quality.STALE if k % 97 == 13 else Quality.GOOD
        writer.submit(
            [
                Sample(p, k + i / 1000, quality, t, "" if quality is Quality.GOOD else "stale")
                for i, p in enumerate(ids)
            ]
        )
        now[0] = t
        k += 1
        while writer.status().queue_depth > 2 * BATCH:
            time.sleep(0.001)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
