"""Hypothesis strategies: realistic sample streams with gaps, qualities, late and
repeated samples."""

from __future__ import annotations

from hypothesis import strategies as st

from hal.points import Quality, Sample

T0 = 1_800_000_000.0  # 2027-01-15, a whole minute

_QUALITIES = st.sampled_from([Quality.GOOD] * 6 + [Quality.STALE, Quality.BAD, Quality.COMM_FAIL])
_REASONS = {
    Quality.GOOD: st.just(""),
    Quality.STALE: st.sampled_from(["no fresh value for 2.1 s", "heartbeat frozen"]),
    Quality.BAD: st.sampled_from(["exception 2: illegal address", "value is NaN"]),
    Quality.COMM_FAIL: st.just("connection refused"),
}


@st.composite
def _step(draw: st.DrawFn) -> tuple[str, float, Quality, float | None, str]:
    kind = draw(st.sampled_from(["next"] * 12 + ["silence", "repeat", "late"]))
    if kind == "next":
        dt = draw(st.sampled_from([0.5, 1.0, 1.0, 1.0, 2.0, 7.5]))
    elif kind == "silence":
        dt = draw(st.floats(min_value=30, max_value=1200)).__round__(1)
    else:
        dt = 0.0
    quality = draw(_QUALITIES)
    reason = draw(_REASONS[quality])
    move = draw(st.sampled_from([0.0, 0.0, 0.1, -0.2, 0.6, -0.7, 3.0]))
    value: float | None = move
    if quality is not Quality.GOOD and draw(st.booleans()):
        value = None
    return kind, dt, quality, value, reason


@st.composite
def streams(
    draw: st.DrawFn, *, points: int = 1, min_size: int = 1, max_size: int = 150
) -> list[Sample]:
    """Samples of ``points`` points, interleaved in arrival order.

    Mostly a 1 Hz-ish random walk of GOOD values; also stretches of silence,
    STALE/BAD/COMM_FAIL (sometimes without a value), a sample repeating the
    time of the one before, and late samples (older than the point's newest,
    at times no other sample has).
    """
    ids = [f"P{i}" for i in range(points)]
    steps = draw(
        st.lists(st.tuples(st.sampled_from(ids), _step()), min_size=min_size, max_size=max_size)
    )
    now = {p: T0 for p in ids}
    level = {p: 45.0 for p in ids}
    used: set[tuple[str, float]] = set()
    out: list[Sample] = []
    late_index = 0
    for point, (kind, dt, quality, move, reason) in steps:
        if kind == "late":
            late_index += 1
            t = now[point] - 0.25 - 0.001 * late_index
            if (point, t) in used or t < T0:
                continue
        else:
            t = now[point] + dt
            now[point] = t
        used.add((point, t))
        value: float | None = None
        if move is not None:
            level[point] += move
            value = round(level[point], 3)
        out.append(Sample(point, value, quality, t, reason))
    return out
