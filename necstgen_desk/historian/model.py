"""The historian's vocabulary: quality codes, tiers, settings, what queries return.

Everything here is plain data (frozen dataclasses, enums, mappings); the
writer, the queries and the retention use it, and so will the trend view.
Times in and out of the historian are UTC: epoch seconds (``float``, as
:class:`hal.points.Sample` carries them) or aware datetimes; in the database
they are whole microseconds since the epoch.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from hal.points import Access, Quality, Quantity
from necstgen_desk.site.model import Site

__all__ = [
    "DEFAULT_DEADBANDS",
    "MINUTE_US",
    "NO_DATA",
    "QUALITY_CODE",
    "QUARTER_HOUR_US",
    "US_PER_S",
    "Gap",
    "HistorianSettings",
    "Instant",
    "OverflowEpisode",
    "PointPolicy",
    "RawSample",
    "RetentionPolicy",
    "Series",
    "Tier",
    "WriterStatus",
    "historian_settings",
    "policies_for_site",
    "quality_of",
    "to_datetime",
    "to_seconds",
    "to_us",
]

US_PER_S = 1_000_000
MINUTE_US = 60 * US_PER_S
QUARTER_HOUR_US = 15 * MINUTE_US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)

#: A point in time: UTC epoch seconds or an aware datetime.
type Instant = float | datetime

#: Stored quality codes, ordered so that a higher code is worse: the worst
#: quality of a bucket is the largest code. Frozen: rows keep these numbers.
QUALITY_CODE: Mapping[Quality, int] = MappingProxyType(
    {Quality.GOOD: 0, Quality.STALE: 1, Quality.BAD: 2, Quality.COMM_FAIL: 3}
)
_QUALITY_BY_CODE: tuple[Quality, ...] = (
    Quality.GOOD,
    Quality.STALE,
    Quality.BAD,
    Quality.COMM_FAIL,
)
#: The code a :class:`Series` gives an entry that stands for no data at all.
NO_DATA = -1


def quality_of(code: int) -> Quality | None:
    """The quality of a stored code; None for :data:`NO_DATA`."""
    if code == NO_DATA:
        return None
    return _QUALITY_BY_CODE[code]


def to_us(instant: Instant) -> int:
    """Whole microseconds since the epoch (UTC); a naive datetime is refused."""
    if isinstance(instant, datetime):
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"naive datetime {instant.isoformat()} has no time zone; use UTC")
        return (instant - _EPOCH) // _ONE_US
    if not math.isfinite(instant):
        raise ValueError(f"{instant!r} is not a time")
    return round(instant * US_PER_S)


def to_seconds(us: int) -> float:
    return us / US_PER_S


def to_datetime(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class Tier(StrEnum):
    """Where a series came from: the recorded samples or a roll-up."""

    RAW = "raw"
    MINUTE = "1m"
    QUARTER_HOUR = "15m"

    @property
    def width_us(self) -> int:
        """Bucket width of a roll-up tier (0 for raw)."""
        return _TIER_WIDTH[self]


_TIER_WIDTH = {Tier.RAW: 0, Tier.MINUTE: MINUTE_US, Tier.QUARTER_HOUR: QUARTER_HOUR_US}

#: Default deadband per quantity, in the point's unit: a value is recorded when
#: it moves further than this from the last recorded one. About the sensor
#: noise: the simulator's ΔP noise is 0.25 Pa (sd), T 0.25 °C, RH 1.2 %RH.
#: Particles are relative to the Grade A/B at-rest limits (3,520 and 29 /m³).
#: Door states and fault codes record every change; a heartbeat (a counter
#: that changes every second by design) only its forced samples.
DEFAULT_DEADBANDS: Mapping[Quantity, float] = MappingProxyType(
    {
        Quantity.DIFFERENTIAL_PRESSURE: 0.5,
        Quantity.TEMPERATURE: 0.1,
        Quantity.HUMIDITY: 0.5,
        Quantity.PARTICLES_0_5: 100.0,
        Quantity.PARTICLES_5: 2.0,
        Quantity.DOOR_CLOSED: 0.0,
        Quantity.DOOR_LOCKED: 0.0,
        Quantity.INTERLOCK_FAULT: 0.0,
        Quantity.INTERLOCK_RESET: 0.0,
        Quantity.HEARTBEAT: math.inf,
    }
)


@dataclass(frozen=True, slots=True)
class PointPolicy:
    """How one point is recorded.

    A sample is recorded when it is the point's first, when its quality or
    reason differs from the last recorded one, when its value moved more than
    ``deadband`` from the last recorded value, or when ``forced_s`` or more
    passed since the last recorded sample (so a flat line is provably alive).
    ``forced_s = 0`` records every sample. ``critical`` raw samples are never
    purged by retention. ``scan_s`` is how often the point is read (on the
    facility's clock): the forced sample is the last read before ``forced_s``
    runs out (recorded once ``forced_s - scan_s`` passed), and a recorded
    sample vouches for the time up to ``forced_s + 2 × scan_s`` — a read up to
    two periods late is not a hole, as a value is GOOD until two periods pass
    without a fresh one (ADR 0002). Only what lies beyond is a hole.
    """

    deadband: float = 0.0
    forced_s: float = 60.0
    critical: bool = False
    scan_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.deadband >= 0:
            raise ValueError(f"deadband must be 0 or more, not {self.deadband!r}")
        if not (self.forced_s >= 0 and math.isfinite(self.forced_s)):
            raise ValueError(f"forced_s must be a finite 0 or more, not {self.forced_s!r}")
        if not (self.scan_s >= 0 and math.isfinite(self.scan_s)):
            raise ValueError(f"scan_s must be a finite 0 or more, not {self.scan_s!r}")


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long each tier is kept, in days (``None``: forever).

    Raw samples of critical differentials are kept whatever ``raw_days``
    says: only :func:`necstgen_desk.historian.retention.archive_raw` (audited)
    removes them.
    """

    raw_days: float | None = 90.0
    minute_days: float | None = 2 * 365.0
    quarter_hour_days: float | None = 10 * 365.0

    def __post_init__(self) -> None:
        for name in ("raw_days", "minute_days", "quarter_hour_days"):
            days = getattr(self, name)
            if days is not None and not (days > 0 and math.isfinite(days)):
                raise ValueError(f"{name} must be more than 0 days (or None), not {days!r}")

    def days(self, tier: Tier) -> float | None:
        if tier is Tier.RAW:
            return self.raw_days
        if tier is Tier.MINUTE:
            return self.minute_days
        return self.quarter_hour_days


@dataclass(frozen=True, slots=True)
class HistorianSettings:
    """Everything tunable about the historian, with the defaults the app runs with.

    ``queue_capacity`` bounds the samples waiting for the database (memory:
    about 150 bytes a sample, so 2,000,000 is ~300 MB and 200 s of 10,000
    points at 1 Hz). A transaction takes up to ``batch_samples`` samples, at
    least every ``batch_interval_s``. ``busy_timeout_s`` is how long one
    attempt waits for a lock before the writer backs off (``retry_initial_s``
    doubling to ``retry_max_s``) and tries again with the same rows. A
    roll-up bucket is written once it closed ``close_grace_s`` ago (a late
    sample after that is merged into the stored bucket).
    ``retention_every_s`` (None: never) runs the retention in the writer's
    thread.
    """

    forced_s: float = 60.0
    deadbands: Mapping[Quantity, float] = DEFAULT_DEADBANDS
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    queue_capacity: int = 2_000_000
    batch_samples: int = 20_000
    batch_interval_s: float = 1.0
    busy_timeout_s: float = 1.0
    retry_initial_s: float = 0.1
    retry_max_s: float = 5.0
    close_grace_s: float = 5.0
    retention_every_s: float | None = 3600.0
    stop_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.queue_capacity < self.batch_samples:
            raise ValueError(
                f"queue_capacity ({self.queue_capacity}) must hold at least one batch "
                f"({self.batch_samples} samples)"
            )
        if self.batch_samples < 1:
            raise ValueError("batch_samples must be at least 1")
        for name in ("batch_interval_s", "busy_timeout_s", "retry_initial_s", "retry_max_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be more than 0")

    def default_policy(self) -> PointPolicy:
        """The policy of a point the site does not name."""
        return PointPolicy(deadband=0.0, forced_s=self.forced_s)


def historian_settings(site: Site) -> HistorianSettings:
    """The settings the site's ``[historian]`` table asks for (the rest at their defaults):
    the retention of each tier (``"forever"`` is None) and the forced interval."""
    policy = site.historian
    return HistorianSettings(
        forced_s=policy.forced_s,
        retention=RetentionPolicy(
            raw_days=policy.raw_days,
            minute_days=policy.minute_days,
            quarter_hour_days=policy.quarter_hour_days,
        ),
    )


def policies_for_site(
    site: Site, settings: HistorianSettings | None = None, *, time_lapse: float = 1.0
) -> dict[str, PointPolicy]:
    """The recording policy of every polled point of ``site``.

    ``settings`` default to the site's own (:func:`historian_settings`).

    The deadband is the point's ``hist_deadband`` or the quantity's default.
    A critical differential is forced at least every ``[alarms] gap_s / 2``
    seconds, so a record gap can be told from a flat line within half the gap.
    ``scan_s`` is the point's PLC scan period on the facility's clock: times
    ``time_lapse`` (its seconds a real second, ADR 0006), as a time-lapse site's
    scan periods are real seconds.
    """
    settings = settings or historian_settings(site)
    policies: dict[str, PointPolicy] = {}
    scans = {plc.id: plc.scan_period_s * time_lapse for plc in site.plcs}
    for pc in site.points:
        if pc.hal.access is not Access.READ:
            continue
        deadband = pc.hist_deadband
        if deadband is None:
            deadband = settings.deadbands.get(pc.hal.quantity, 0.0)
        forced = settings.forced_s
        critical = pc.alarm.critical
        if critical:
            forced = min(forced, site.alarms.gap_s / 2)
        policies[pc.id] = PointPolicy(
            deadband=deadband, forced_s=forced, critical=critical, scan_s=scans.get(pc.plc, 0.0)
        )
    return policies


# ---------------------------------------------------------------- query results


@dataclass(frozen=True, slots=True)
class RawSample:
    """One recorded sample as read back."""

    t: float  # UTC epoch seconds (microsecond resolution)
    value: float | None
    quality: Quality
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch with no GOOD value: ``quality`` is what was recorded instead,
    None when nothing was (the app was not running, or the samples were lost)."""

    start: float
    end: float
    quality: Quality | None

    @property
    def duration_s(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Series:
    """A point over a period, ready to plot: one entry per sample or bucket.

    ``times`` are epoch seconds (a bucket's start); ``minimum``/``maximum``
    give the envelope (a spike is always inside it, whatever the zoom),
    ``mean`` the line; all three are NaN where there was no GOOD value.
    ``worst`` holds quality codes (:data:`QUALITY_CODE`, :data:`NO_DATA`),
    ``count`` the samples behind each entry (0: a gap marker). Each gap also
    appears in the arrays as an entry at its start with NaN values, so a
    line drawn with ``connect="finite"`` breaks there; ``gaps`` lists them
    with their quality. From the raw tier, values hold until the next
    sample (draw steps); ``bucket_s`` is 0 when each entry is one sample.
    """

    point_id: str
    start: float
    end: float
    tier: Tier
    bucket_s: float
    times: array[float]
    minimum: array[float]
    maximum: array[float]
    mean: array[float]
    worst: array[int]
    count: array[int]
    gaps: tuple[Gap, ...] = ()

    def __len__(self) -> int:
        return len(self.times)


# ---------------------------------------------------------------- writer status


@dataclass(frozen=True, slots=True)
class OverflowEpisode:
    """Samples dropped because the queue was full (the oldest go first).

    ``first_drop_at``/``last_drop_at`` are wall-clock times of the drops;
    ``oldest_sample_t``/``newest_sample_t`` the span of the dropped samples'
    own timestamps. ``ended`` is False when the episode starts (one call) and
    True once the queue is back below half its capacity (a second call).
    """

    dropped: int
    first_drop_at: float
    last_drop_at: float
    oldest_sample_t: float
    newest_sample_t: float
    capacity: int
    ended: bool = False

    def describe(self) -> str:
        when = to_datetime(to_us(self.first_drop_at)).isoformat(timespec="seconds")
        until = to_datetime(to_us(self.last_drop_at)).isoformat(timespec="seconds")
        span = (
            f"{to_datetime(to_us(self.oldest_sample_t)).isoformat(timespec='seconds')} to "
            f"{to_datetime(to_us(self.newest_sample_t)).isoformat(timespec='seconds')}"
        )
        verb = "dropped" if self.ended else "is dropping"
        return (
            f"historian queue full ({self.capacity:,} samples waiting for the database): "
            f"{verb} the oldest samples — {self.dropped:,} so far, from {when} until {until}, "
            f"sampled {span}"
        )


@dataclass(frozen=True, slots=True)
class WriterStatus:
    """What the UI shows about the historian (a snapshot; thread-safe to take).

    ``ready`` is False until the writer has registered the points and
    repaired the roll-ups after a crash (samples queue meanwhile).
    ``queue_depth`` counts samples not yet committed (waiting, and in the
    transaction being tried); ``oldest_wait_s`` is how long the oldest of them
    has waited. ``retrying`` is True while the database refuses the batch
    (locked, full, unreachable): ``last_error`` says why.
    """

    running: bool
    ready: bool
    queue_depth: int
    capacity: int
    oldest_wait_s: float
    received: int
    processed: int
    raw_rows: int
    rollup_rows: int
    last_commit_at: float | None
    retrying: bool
    last_error: str | None
    dropped: int
    first_drop_at: float | None
    last_drop_at: float | None
    duplicates: int

    @property
    def behind(self) -> bool:
        """Whether samples are waiting longer than a couple of batches would take."""
        return self.retrying or self.oldest_wait_s > 5.0
