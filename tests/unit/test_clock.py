"""The facility's clock (ADR 0006) and the time-lapse site's scan pacing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from necstgen_desk.clock import MIN_SCAN_PERIOD_S, MIN_TICK_S, WALL_CLOCK, FacilityClock
from necstgen_desk.simprocess import paced_scans
from necstgen_desk.simulation import build_simulator
from necstgen_desk.site import DEFAULT_SITE_PATH, load_site


class _Wall:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_speed_one_is_the_wall_clock() -> None:
    wall = _Wall(1_800_000_000.0)
    clock = FacilityClock(1.0, origin=0.0, wall=wall)
    assert clock() == 1_800_000_000.0
    wall.now += 12.5
    assert clock() == 1_800_000_012.5
    assert not clock.time_lapse and clock.describe() == ""
    assert clock.paced(0.25, MIN_TICK_S) == 0.25
    assert not WALL_CLOCK.time_lapse


def test_a_time_lapse_starts_at_the_wall_time_and_runs_faster() -> None:
    wall = _Wall(1_800_000_000.0)
    clock = FacilityClock(60.0, origin=wall.now, wall=wall)
    assert clock() == 1_800_000_000.0
    wall.now += 60.0  # a real minute ...
    assert clock() == 1_800_003_600.0  # ... is the plant's hour
    assert clock.utc() == datetime.fromtimestamp(1_800_003_600.0, UTC)
    assert clock.utc().tzinfo is UTC
    assert clock.wall_seconds(3600.0) == 60.0
    assert clock.time_lapse and "×60" in clock.describe()


def test_pacing_keeps_a_job_as_frequent_in_the_plants_time_within_a_floor() -> None:
    clock = FacilityClock(60.0)
    assert clock.paced(1.0, MIN_SCAN_PERIOD_S) == MIN_SCAN_PERIOD_S  # 1/60 s floored
    assert clock.paced(10.0, MIN_SCAN_PERIOD_S) == pytest.approx(10.0 / 60.0)
    assert clock.paced(0.01, 0.05) == 0.01  # never slower than the job asked for
    assert FacilityClock(2.0).paced(1.0, MIN_SCAN_PERIOD_S) == 0.5


@pytest.mark.parametrize("speed", [0.0, -1.0, float("inf"), float("nan")])
def test_a_clock_refuses_a_speed_that_is_not_a_positive_number(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        FacilityClock(speed)


def test_paced_scans_speed_up_every_plc_and_nothing_else() -> None:
    site = load_site(DEFAULT_SITE_PATH)
    assert paced_scans(site, WALL_CLOCK) is site
    paced = paced_scans(site, FacilityClock(4.0))
    for before, after in zip(site.plcs, paced.plcs, strict=True):
        assert after.scan_period_s == pytest.approx(
            max(before.scan_period_s / 4.0, MIN_SCAN_PERIOD_S)
        )
        assert after.timeout_s == before.timeout_s
        assert after.heartbeat_timeout_s == before.heartbeat_timeout_s
        assert after.points == before.points
    assert paced.points == site.points


def test_the_simulator_steps_a_time_lapse_as_finely_in_the_plants_time() -> None:
    site = load_site(DEFAULT_SITE_PATH)
    assert build_simulator(site, speed=1.0).tick_s == pytest.approx(0.1)
    assert build_simulator(site, speed=5.0).tick_s == pytest.approx(0.02)
    assert build_simulator(site, speed=60.0).tick_s == pytest.approx(0.01)  # the floor
    assert build_simulator(site, speed=0.5).tick_s == pytest.approx(0.1)
