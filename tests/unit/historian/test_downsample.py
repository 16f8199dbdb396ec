"""Peak-preserving decimation: a spike never disappears, whatever the zoom."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from necstgen_desk.historian.downsample import downsample_minmax

values_st = st.lists(
    st.one_of(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
        st.just(math.nan),
    ),
    min_size=1,
    max_size=600,
)


@st.composite
def lines(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    values = draw(values_st)
    steps = draw(
        st.lists(
            st.sampled_from([0.0, 0.001, 1.0, 1.0, 2.5, 60.0]),
            min_size=len(values),
            max_size=len(values),
        )
    )
    times: list[float] = []
    t = 1_800_000_000.0
    for step in steps:
        t += step
        times.append(t)
    return times, values


def _finite(values: list[float]) -> list[float]:
    return [v for v in values if not math.isnan(v)]


@settings(max_examples=300, deadline=None)
@given(line=lines(), n=st.integers(1, 50))
def test_every_bucket_keeps_its_extremes(line: tuple[list[float], list[float]], n: int) -> None:
    times, values = line
    out_t, out_v = downsample_minmax(times, values, n)
    assert len(out_t) == len(out_v)
    assert list(out_t) == sorted(out_t)
    assert set(out_t) <= set(times)
    if len(times) <= 2 * n:
        assert list(out_t) == times
        assert [repr(v) for v in out_v] == [repr(v) for v in values]
        return
    assert len(out_t) <= 3 * n
    # Peak preserving: the global and every bucket's extremes are in the output.
    finite = _finite(values)
    if finite:
        assert min(_finite(list(out_v))) == min(finite)
        assert max(_finite(list(out_v))) == max(finite)
    t0, span = times[0], times[-1] - times[0]
    scale = n / span if span > 0 else 0.0
    for bucket in range(n):
        inside = [
            v
            for t, v in zip(times, values, strict=True)
            if min(int((t - t0) * scale), n - 1) == bucket
        ]
        kept = [
            v
            for t, v in zip(out_t, out_v, strict=True)
            if min(int((t - t0) * scale), n - 1) == bucket
        ]
        if _finite(inside):
            assert max(_finite(kept)) == max(_finite(inside))
            assert min(_finite(kept)) == min(_finite(inside))
        if any(math.isnan(v) for v in inside):
            assert any(math.isnan(v) for v in kept), "a gap must still break the line"


def test_a_one_sample_spike_in_a_week_survives() -> None:
    n = 604_800
    times = [float(i) for i in range(n)]
    values = [45.0] * n
    values[123_457] = 80.0
    values[400_001] = 3.0
    out_t, out_v = downsample_minmax(times, values, 1000)
    assert len(out_t) <= 2000
    assert max(out_v) == 80.0 and min(out_v) == 3.0
    assert out_t[list(out_v).index(80.0)] == 123_457.0


@pytest.mark.parametrize(
    ("times", "values", "n", "message"),
    [
        ([1.0, 2.0], [1.0], 1, "2 times but 1 values"),
        ([1.0, 2.0], [1.0, 2.0], 0, "n_buckets must be at least 1"),
        ([2.0, 1.0, 3.0], [1.0, 2.0, 3.0], 1, "ascending"),
    ],
)
def test_bad_input_is_refused(
    times: list[float], values: list[float], n: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        downsample_minmax(times, values, n)


def test_empty_input() -> None:
    out_t, out_v = downsample_minmax([], [], 10)
    assert len(out_t) == len(out_v) == 0
