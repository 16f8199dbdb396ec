"""The facility's clock: wall time, or the faster time of a simulated facility.

Everything the app stamps or times about the facility reads one clock: the
pollers' sample times, the alarm engine's delays, shelves and clean-up countdown,
the historian's timestamps and roll-up buckets, the records' times, and the
"now" of the trend and room views. For a real site that clock is the wall
clock. For the demo run at ``--speed N`` (a time-lapse) it is the simulated
plant's clock: it starts at the wall time when the app starts and then runs N
times faster, so an hour of the plant's life takes a minute of the operator's
and still reads as an hour on every screen and in every record (ADR 0006).

What stays on the wall clock: people (the idle lock), the transport (Modbus
time-outs, the STALE timers, the heartbeat watch) and the GUI's own pacing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

#: The shortest scan period a time-lapse asks of a PLC (20 scans a second).
MIN_SCAN_PERIOD_S = 0.05
#: The shortest alarm-engine tick in a time-lapse.
MIN_TICK_S = 0.05


@dataclass(frozen=True, slots=True)
class FacilityClock:
    """Epoch seconds of the facility: ``start + (wall - origin) × speed``.

    ``origin`` is the wall time the clock was made; ``start`` the facility's time
    then (default: ``origin``; a time-lapse continues where its database's time
    ends, :mod:`necstgen_desk.timelapse`). ``speed`` 1 is the wall clock itself
    (a real site; ``start`` is ignored). Calling the clock gives
    epoch seconds (the pollers', the engine's and the historian's clocks);
    :meth:`utc` gives an aware datetime (the records' clock).
    """

    speed: float = 1.0
    origin: float = field(default_factory=time.time)
    wall: Callable[[], float] = time.time
    start: float | None = None

    def __post_init__(self) -> None:
        if not (self.speed > 0 and self.speed < float("inf")):
            raise ValueError(f"the clock's speed must be a number more than 0, not {self.speed!r}")

    @property
    def time_lapse(self) -> bool:
        return self.speed != 1.0

    def __call__(self) -> float:
        wall = self.wall()
        if self.speed == 1.0:
            return wall
        start = self.origin if self.start is None else self.start
        return start + (wall - self.origin) * self.speed

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self(), UTC)

    def wall_seconds(self, facility_seconds: float) -> float:
        """How long ``facility_seconds`` of the facility's time take on the wall clock."""
        return facility_seconds / self.speed

    def paced(self, facility_seconds: float, floor_s: float) -> float:
        """A wall-clock period for a job due every ``facility_seconds`` (at least ``floor_s``).

        A real site (speed 1) keeps ``facility_seconds`` as it is.
        """
        if self.speed == 1.0:
            return facility_seconds
        return max(facility_seconds / self.speed, min(floor_s, facility_seconds))

    def describe(self) -> str:
        """What the status bar says about time ("" on a real site)."""
        if not self.time_lapse:
            return ""
        return f"Time-lapse ×{self.speed:g}: simulated time, 1 s = {self.speed:g} s of the plant"


WALL_CLOCK = FacilityClock()
