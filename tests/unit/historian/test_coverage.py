"""Which stretches a change-based record covers with GOOD values."""

from __future__ import annotations

import pytest

from necstgen_desk.historian.coverage import Stretch, not_good_stretches
from necstgen_desk.historian.model import NO_DATA

G, S, B, C = 0, 1, 2, 3  # quality codes: good, stale, bad, comm_fail
HOLD = 60


@pytest.mark.parametrize(
    ("rows", "before", "expected"),
    [
        pytest.param([], None, [(0, 1000, NO_DATA)], id="nothing-recorded"),
        pytest.param(
            [(0, G), (60, G), (120, G)], None, [(180, 1000, NO_DATA)], id="alive-then-silent"
        ),
        pytest.param(
            [(0, G), (300, C), (500, G)],
            None,
            [(60, 300, NO_DATA), (300, 500, C), (560, 1000, NO_DATA)],
            id="silence-comm-fail-recovery",
        ),
        pytest.param([(100, G)], None, [(0, 100, NO_DATA), (160, 1000, NO_DATA)], id="starts-late"),
        pytest.param(
            [(100, G)], (-30, G), [(30, 100, NO_DATA), (160, 1000, NO_DATA)], id="before-good"
        ),
        pytest.param(
            [(100, G)], (-500, C), [(0, 100, C), (160, 1000, NO_DATA)], id="before-comm-fail"
        ),
        pytest.param(
            [(0, S), (10, B), (20, B), (30, G)],
            None,
            [(0, 10, S), (10, 30, B), (90, 1000, NO_DATA)],
            id="merges-same-code",
        ),
        pytest.param([(i, G) for i in range(0, 1000, 50)], None, [], id="forced-samples-cover-all"),
    ],
)
def test_stretches(
    rows: list[tuple[int, int]], before: tuple[int, int] | None, expected: list[Stretch]
) -> None:
    assert not_good_stretches(rows, 0, 1000, HOLD, before) == expected
