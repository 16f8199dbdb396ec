"""Settings, policies from the site (``hist_deadband``), times and quality codes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hal.points import Quality, Quantity
from necstgen_desk.historian.model import (
    DEFAULT_DEADBANDS,
    NO_DATA,
    QUALITY_CODE,
    HistorianSettings,
    OverflowEpisode,
    PointPolicy,
    RetentionPolicy,
    Tier,
    historian_settings,
    policies_for_site,
    quality_of,
    to_datetime,
    to_us,
)
from necstgen_desk.site import DEFAULT_SITE_PATH, SiteError, load_site, parse_site
from tests.unit.test_site_loader import DP_LIMITS, GOOD, mutate


def test_quality_codes_order_worse_higher_and_round_trip() -> None:
    assert [QUALITY_CODE[q] for q in (Quality.GOOD, Quality.STALE, Quality.BAD)] == [0, 1, 2]
    assert QUALITY_CODE[Quality.COMM_FAIL] == 3
    for quality, code in QUALITY_CODE.items():
        assert quality_of(code) is quality
    assert quality_of(NO_DATA) is None


def test_times() -> None:
    when = datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=UTC)
    assert to_us(when) == to_us(when.astimezone(timezone(timedelta(hours=1))))
    assert to_datetime(to_us(when)) == when
    assert to_us(when.timestamp()) == to_us(when)
    with pytest.raises(ValueError, match="naive"):
        to_us(datetime(2026, 11, 27))
    with pytest.raises(ValueError, match="not a time"):
        to_us(math.nan)


def test_default_site_policies() -> None:
    site = load_site(DEFAULT_SITE_PATH)
    policies = policies_for_site(site)
    polled = [p for p in site.points if p.hal.access.value == "read"]
    assert set(policies) == {p.id for p in polled}  # reset coils are never recorded
    assert policies["B-01.dp"] == PointPolicy(
        deadband=0.5, forced_s=15.0, critical=True, scan_s=1.0
    )
    assert policies["B-01.t"] == PointPolicy(deadband=0.1, forced_s=60.0, scan_s=1.0)
    critical = {p for p, policy in policies.items() if policy.critical}
    assert critical == {p.id for p in site.points if p.alarm.critical}
    heartbeat = next(p for p in polled if p.hal.quantity is Quantity.HEARTBEAT)
    assert policies[heartbeat.id].deadband == math.inf
    # A time-lapse site's scan periods are real seconds: on the plant's clock, × speed.
    fast = policies_for_site(site, time_lapse=60.0)
    assert fast["B-01.dp"].scan_s == pytest.approx(60.0 * site.plc_by_id["ENV-1"].scan_period_s)


def test_historian_settings_map_every_key_of_the_site() -> None:
    # The defaults of [historian] are the historian's own.
    assert historian_settings(parse_site(GOOD)) == HistorianSettings()
    assert historian_settings(load_site(DEFAULT_SITE_PATH)) == HistorianSettings()
    site = parse_site(
        GOOD + "\n[historian]\nraw_days = 2\nminute_days = 45.5\nquarter_hour_days = 800\n"
        "forced_s = 20\n"
    )
    assert historian_settings(site) == HistorianSettings(
        forced_s=20,
        retention=RetentionPolicy(raw_days=2, minute_days=45.5, quarter_hour_days=800),
    )
    forever = parse_site(
        GOOD + '\n[historian]\nraw_days = "forever"\nminute_days = "forever"\n'
        'quarter_hour_days = "forever"\n'
    )
    retention = historian_settings(forever).retention
    assert [retention.days(tier) for tier in Tier] == [None, None, None]


def test_policies_follow_the_site_forced_interval() -> None:
    site = parse_site(
        mutate(DP_LIMITS, f"{DP_LIMITS}\ncritical = true") + "\n[historian]\nforced_s = 120\n"
    )
    policies = policies_for_site(site)
    assert policies["R1.t"].forced_s == 120
    assert policies["R1.dp"].forced_s == site.alarms.gap_s / 2  # critical: half the gap
    assert policies_for_site(site, HistorianSettings(forced_s=10))["R1.t"].forced_s == 10


def test_hist_deadband_overrides_the_quantity_default() -> None:
    site = parse_site(
        mutate('quantity = "temperature"', 'quantity = "temperature"\nhist_deadband = 0.02')
    )
    assert site.point_by_id["R1.t"].hist_deadband == 0.02
    assert site.point_by_id["R1.dp"].hist_deadband is None
    policies = policies_for_site(site, HistorianSettings(forced_s=30))
    assert policies["R1.t"] == PointPolicy(
        deadband=0.02, forced_s=30, scan_s=site.plcs[0].scan_period_s
    )
    assert policies["R1.dp"].deadband == DEFAULT_DEADBANDS[Quantity.DIFFERENTIAL_PRESSURE]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("hist_deadband = -1", "point[R1.t].hist_deadband: is -1, below the smallest allowed 0"),
        ('hist_deadband = "small"', "point[R1.t].hist_deadband: must be a number, not text"),
        ("hist_deadband = inf", "point[R1.t].hist_deadband: must be a finite number"),
        ("hist_deadband = true", "point[R1.t].hist_deadband: must be a number, not true/false"),
    ],
)
def test_hist_deadband_mistakes_are_named_with_their_key_path(extra: str, expected: str) -> None:
    text = mutate('quantity = "temperature"', f'quantity = "temperature"\n{extra}')
    with pytest.raises(SiteError) as info:
        parse_site(text)
    assert expected in [str(p) for p in info.value.problems]


def test_hist_deadband_on_a_write_only_point_is_refused() -> None:
    text = GOOD + (
        '\n[[point]]\nid = "L1.reset"\nplc = "P1"\ntarget = "L1"\nquantity = "interlock_reset"\n'
        'table = "coil"\naddress = 0\ntype = "bool"\naccess = "write"\nhist_deadband = 1\n'
    )
    with pytest.raises(SiteError) as info:
        parse_site(text)
    assert [str(p) for p in info.value.problems] == [
        "point[L1.reset].hist_deadband: a write-only point is never read, so never recorded"
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"deadband": -1.0}, "deadband"),
        ({"deadband": math.nan}, "deadband"),
        ({"forced_s": -1.0}, "forced_s"),
        ({"forced_s": math.inf}, "forced_s"),
    ],
)
def test_bad_point_policy(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PointPolicy(deadband=kwargs.get("deadband", 0.0), forced_s=kwargs.get("forced_s", 60.0))


def test_bad_settings() -> None:
    with pytest.raises(ValueError, match="must hold at least one batch"):
        HistorianSettings(queue_capacity=10, batch_samples=100)
    with pytest.raises(ValueError, match="batch_interval_s"):
        HistorianSettings(batch_interval_s=0)
    with pytest.raises(ValueError, match="raw_days"):
        RetentionPolicy(raw_days=0)
    assert RetentionPolicy(raw_days=None).days(Tier.RAW) is None
    assert RetentionPolicy().days(Tier.QUARTER_HOUR) == 3650


def test_overflow_episode_says_how_many_and_when() -> None:
    episode = OverflowEpisode(
        dropped=12_345,
        first_drop_at=1_800_000_000.0,
        last_drop_at=1_800_000_060.0,
        oldest_sample_t=1_799_999_000.0,
        newest_sample_t=1_799_999_500.0,
        capacity=2_000_000,
    )
    text = episode.describe()
    assert "12,345" in text and "2,000,000" in text
    assert "2027-01-15T08:00:00+00:00" in text and "dropping the oldest" in text
