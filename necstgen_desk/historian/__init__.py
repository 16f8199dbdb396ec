"""The historian: every sample kept with its quality, any point over any period fast.

Qt-free. How the parts fit:

- :class:`HistorianWriter` (``writer``) owns a thread and an engine;
  ``submit`` is the :meth:`PointStore.on_samples` listener (O(1), never
  blocks). Change-based recording (``recording``): a sample is stored when it
  is a point's first, its quality or reason changed, its value left the
  deadband, or the forced interval passed. Roll-ups per minute and per 15
  minutes are computed from EVERY sample and merged into the stored rows as
  deltas (``store``), so partial buckets (shutdown, restart, late samples,
  crash repair) never count a sample twice. Locked database: the batch is
  kept and retried, samples wait in a bounded queue; overflow drops the
  oldest, counted, logged once, reported as a system alarm.
- :class:`HistorianQuery` (``query``, for a worker thread) returns a
  :class:`Series` of at most ~``max_points`` min/max/mean entries from raw
  samples, 1-minute or 15-minute roll-ups by the span, with gaps explicit;
  :meth:`HistorianQuery.gaps` is the record-gap check for critical
  differentials (``coverage``).
- ``retention``: each tier kept as long as :class:`RetentionPolicy` says
  (the site file's ``[historian]`` table, :func:`historian_settings`);
  raw samples of critical differentials only leave through
  :func:`archive_raw` (``Permission.ARCHIVE_HISTORIAN``: QA or administrator;
  CSV + sha256, logged and audited, not a signature).

Tables (migration r0003_historian): ``hist_points``, ``hist_raw``,
``hist_1m``, ``hist_15m``, ``hist_archive_log`` (append-only).
"""

from necstgen_desk.historian.downsample import downsample_minmax
from necstgen_desk.historian.model import (
    DEFAULT_DEADBANDS,
    NO_DATA,
    QUALITY_CODE,
    Gap,
    HistorianSettings,
    OverflowEpisode,
    PointPolicy,
    RawSample,
    RetentionPolicy,
    Series,
    Tier,
    WriterStatus,
    historian_settings,
    policies_for_site,
    quality_of,
)
from necstgen_desk.historian.query import HistorianQuery
from necstgen_desk.historian.retention import (
    ArchiveReport,
    RetentionReport,
    apply_retention,
    archive_raw,
)
from necstgen_desk.historian.writer import HistorianWriter, recover_rollups

__all__ = [
    "DEFAULT_DEADBANDS",
    "NO_DATA",
    "QUALITY_CODE",
    "ArchiveReport",
    "Gap",
    "HistorianQuery",
    "HistorianSettings",
    "HistorianWriter",
    "OverflowEpisode",
    "PointPolicy",
    "RawSample",
    "RetentionPolicy",
    "RetentionReport",
    "Series",
    "Tier",
    "WriterStatus",
    "apply_retention",
    "archive_raw",
    "downsample_minmax",
    "historian_settings",
    "policies_for_site",
    "quality_of",
    "recover_rollups",
]
