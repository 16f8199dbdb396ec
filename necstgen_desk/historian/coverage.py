"""Which stretches of time a change-based record covers with GOOD values (pure).

A recorded sample stands for the time until the next recorded one: the
filter only skips samples that were within the deadband, with the same
quality and reason. A GOOD sample vouches for at most ``hold`` (the point's
forced interval) after it: the writer records a sample at least that often
while samples arrive, so a longer silence means none arrived (the app was
down, or samples were lost). A non-GOOD sample (COMM_FAIL, STALE, BAD) holds
until the next one, however long: the poller reports a failure once, not on
every scan.
"""

from __future__ import annotations

from collections.abc import Sequence

from necstgen_desk.historian.model import NO_DATA

__all__ = ["Stretch", "not_good_stretches"]

GOOD = 0

#: ``(start, end, code)``: microseconds; ``code`` is a quality code or NO_DATA.
type Stretch = tuple[int, int, int]


def not_good_stretches(
    rows: Sequence[tuple[int, int]],
    start: int,
    end: int,
    hold: int,
    before: tuple[int, int] | None = None,
) -> list[Stretch]:
    """The stretches of ``[start, end)`` without a GOOD value.

    ``rows`` are ``(t, quality code)`` in time order, inside ``[start, end)``;
    ``before`` is the last row before ``start`` (the state the range opens
    with), if any. Adjacent stretches with the same code are merged.
    """
    out: list[Stretch] = []

    def add(a: int, b: int, code: int) -> None:
        a = max(a, start)
        b = min(b, end)
        if a >= b:
            return
        if out and out[-1][1] == a and out[-1][2] == code:
            out[-1] = (out[-1][0], b, code)
        else:
            out.append((a, b, code))

    timeline: list[tuple[int, int]] = []
    if before is not None:
        timeline.append(before)
    else:
        first = rows[0][0] if rows else end
        add(start, first, NO_DATA)
    timeline.extend(rows)
    for i, (t, code) in enumerate(timeline):
        nxt = timeline[i + 1][0] if i + 1 < len(timeline) else end
        if code == GOOD:
            covered = min(nxt, t + hold)
            add(covered, nxt, NO_DATA)
        else:
            add(t, nxt, code)
    return out
