"""What leaves the historian: retention per tier, and the audited archive step.

- :func:`apply_retention` deletes rows older than each tier's horizon
  (:class:`~necstgen_desk.historian.model.RetentionPolicy`), in short
  transactions (a group of points at a time, so the writer is never held up
  for long), and logs each tier's purge in ``hist_archive_log`` as the system.
  Raw samples of critical differentials (``hist_points.critical``) are never
  touched: GMP asks that their record is kept.
- :func:`archive_raw` is the only way raw samples of a critical point leave:
  an account holding ``Permission.ARCHIVE_HISTORIAN`` (QA, administrators;
  ADR 0003) exports them to a CSV file with its sha256, then — in one
  transaction — the rows are deleted, the archive is logged and an audit
  entry names the file and its hash. If the rows changed between the export
  and the delete, nothing is deleted. A refusal is audited
  (``permission_denied``), as in the services.

The archive is not an electronic signature: it is data management, not a
GMP record someone vouches for (administrators hold it, and they sign no GMP
record), and it is traced by its audit entry, its ``hist_archive_log`` row
and the CSV's sha256 instead (ADR 0003).
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, and_, delete, func, select
from sqlalchemy.orm import Session

from necstgen_desk.historian.model import (
    US_PER_S,
    PointPolicy,
    RetentionPolicy,
    Tier,
    quality_of,
    to_datetime,
    to_us,
)
from necstgen_desk.historian.store import POINTS, RAW, ROLLUP_TABLES
from necstgen_desk.records.errors import PermissionDenied, RuleViolation
from necstgen_desk.records.roles import Permission, Role, require
from necstgen_desk.storage.audit import SYSTEM_USER, append_audit
from necstgen_desk.storage.engine import for_reading
from necstgen_desk.storage.models import NAME_LENGTH, HistArchiveLog

__all__ = [
    "ARCHIVE_ACTION",
    "Actor",
    "ArchiveReport",
    "RetentionReport",
    "apply_retention",
    "archive_raw",
]

log = logging.getLogger(__name__)

#: Points per delete transaction.
POINTS_PER_TRANSACTION = 200
#: Rows read per query while exporting.
EXPORT_CHUNK = 50_000
ARCHIVE_ACTION = "archive_purge"
ARCHIVE_RECORD_TYPE = HistArchiveLog.RECORD_TYPE
_DAY_S = 86_400.0


class Actor(Protocol):
    """The signed-in person (``services.UserInfo`` fits)."""

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> Role: ...


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """Rows deleted per tier by one retention run."""

    deleted: Mapping[Tier, int] = field(default_factory=dict)
    kept_critical_points: int = 0

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


@dataclass(frozen=True, slots=True)
class ArchiveReport:
    point_id: str
    rows: int
    path: Path
    sha256: str
    first_t: float | None
    last_t: float | None
    log_id: int
    audit_id: int


# ---------------------------------------------------------------- retention


def apply_retention(
    engine: Engine,
    now: float | datetime,
    *,
    retention: RetentionPolicy | None = None,
    policies: Mapping[str, PointPolicy] | None = None,
) -> RetentionReport:
    """Delete what each tier keeps no longer; never critical raw samples.

    A point is critical when ``hist_points.critical`` says so or ``policies``
    does (either is enough).
    """
    retention = retention or RetentionPolicy()
    now_us = to_us(now)
    with for_reading(engine).connect() as connection:
        points = [
            (ident, point_id, bool(critical))
            for ident, point_id, critical in connection.execute(
                select(POINTS.c.id, POINTS.c.point_id, POINTS.c.critical).order_by(POINTS.c.id)
            )
        ]
    critical_policy = {p for p, policy in (policies or {}).items() if policy.critical}
    keep_raw = {ident for ident, point_id, crit in points if crit or point_id in critical_policy}
    deleted: dict[Tier, int] = {}
    for tier, table, time_column in (
        (Tier.RAW, RAW, RAW.c.t),
        (Tier.MINUTE, ROLLUP_TABLES[0], ROLLUP_TABLES[0].c.bucket),
        (Tier.QUARTER_HOUR, ROLLUP_TABLES[1], ROLLUP_TABLES[1].c.bucket),
    ):
        days = retention.days(tier)
        if days is None:
            continue
        cutoff = now_us - round(days * _DAY_S * US_PER_S)
        if tier is Tier.RAW:
            ids = [ident for ident, _, _ in points if ident not in keep_raw]
        else:
            ids = [ident for ident, _, _ in points]
        total = 0
        for i in range(0, len(ids), POINTS_PER_TRANSACTION):
            chunk = ids[i : i + POINTS_PER_TRANSACTION]
            with engine.begin() as connection:
                result = connection.execute(
                    delete(table).where(and_(table.c.point.in_(chunk), time_column < cutoff))
                )
                total += max(result.rowcount, 0)
        deleted[tier] = total
        if total:
            with Session(engine) as session, session.begin():
                session.add(
                    HistArchiveLog(
                        at=datetime.now(UTC),
                        username=SYSTEM_USER,
                        action="retention",
                        tier=tier.value,
                        point_id=None,
                        until=to_datetime(cutoff),
                        rows=total,
                        reason=f"retention: {tier.value} kept {days:g} days",
                    )
                )
            log.info(
                "historian retention: %d %s rows older than %g days deleted", total, tier, days
            )
    return RetentionReport(deleted=deleted, kept_critical_points=len(keep_raw))


# ---------------------------------------------------------------- archive


def _require_permission(engine: Engine, actor: Actor, point_id: str) -> None:
    """:func:`records.roles.require`; a refusal is audited as ``permission_denied``
    (committed on its own, like the services' refusals) and raised."""
    try:
        require(actor.role, Permission.ARCHIVE_HISTORIAN, username=actor.username)
    except PermissionDenied as error:
        with Session(engine) as session, session.begin():
            append_audit(
                session,
                username=actor.username,
                action="permission_denied",
                record_type=ARCHIVE_RECORD_TYPE,
                record_id=point_id[:NAME_LENGTH] or "(none)",
                reason=f"attempted to archive and purge the raw samples of {point_id}: {error}",
            )
        raise


def _rows(
    engine: Engine, hist_id: int, until_us: int
) -> Iterator[tuple[int, float | None, int, str | None]]:
    after: int | None = None
    reader = for_reading(engine)
    while True:
        query = select(RAW.c.t, RAW.c.value, RAW.c.quality, RAW.c.reason).where(
            and_(RAW.c.point == hist_id, RAW.c.t < until_us)
        )
        if after is not None:
            query = query.where(RAW.c.t > after)
        with reader.connect() as connection:
            chunk = connection.execute(query.order_by(RAW.c.t).limit(EXPORT_CHUNK)).all()
        if not chunk:
            return
        yield from ((t, value, quality, reason) for t, value, quality, reason in chunk)
        after = chunk[-1][0]


def _export(
    engine: Engine, point_id: str, hist_id: int, until_us: int, path: Path
) -> tuple[int, int | None, int | None]:
    partial = path.with_name(path.name + ".partial")
    count = 0
    first: int | None = None
    last: int | None = None
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["point_id", "time_utc", "t_us", "value", "quality", "reason"])
        for t, value, code, reason in _rows(engine, hist_id, until_us):
            quality = quality_of(code)
            writer.writerow(
                [
                    point_id,
                    to_datetime(t).isoformat(timespec="microseconds"),
                    t,
                    "" if value is None else repr(value),
                    quality.value if quality is not None else code,
                    reason or "",
                ]
            )
            count += 1
            if first is None:
                first = t
            last = t
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    return count, first, last


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_raw(
    engine: Engine,
    actor: Actor,
    point_id: str,
    until: float | datetime,
    path: str | Path,
    *,
    reason: str,
) -> ArchiveReport:
    """Export the raw samples of ``point_id`` before ``until`` to a CSV file, then
    purge them, log the archive and audit it (file name and sha256), all in one
    transaction after the file is safely written.

    Refused (:class:`PermissionDenied`, audited) unless the actor's role holds
    :attr:`Permission.ARCHIVE_HISTORIAN` (QA, administrators); refused
    (:class:`RuleViolation`) without a reason, for an existing file, or when
    the rows changed between export and purge. A file ``<path>.sha256``
    (``sha256sum`` format) is written next to the CSV. Not signed: see the
    module docstring.
    """
    target = Path(path)
    _require_permission(engine, actor, point_id)
    if not reason or not reason.strip():
        raise RuleViolation("Archive refused", "a reason is required for every purge")
    if target.exists():
        raise RuleViolation("Archive refused", f"{target} already exists; choose a new file")
    until_us = to_us(until)
    with for_reading(engine).connect() as connection:
        hist_id = connection.execute(
            select(POINTS.c.id).where(POINTS.c.point_id == point_id)
        ).scalar()
    if hist_id is None:
        raise RuleViolation("Archive refused", f"the historian has no point {point_id!r}")

    count, first, last = _export(engine, point_id, hist_id, until_us, target)
    digest = _sha256(target)
    sidecar = target.with_name(target.name + ".sha256")
    sidecar.write_text(f"{digest}  {target.name}\n", encoding="utf-8")

    with Session(engine) as session, session.begin():
        connection = session.connection()
        condition = and_(RAW.c.point == hist_id, RAW.c.t < until_us)
        present = connection.execute(
            select(func.count()).select_from(RAW).where(condition)
        ).scalar()
        if present != count:
            raise RuleViolation(
                "Archive refused",
                f"{present} samples are stored before the limit but {count} were exported "
                "(samples arrived meanwhile); nothing was purged, run the archive again",
            )
        connection.execute(delete(RAW).where(condition))
        entry = HistArchiveLog(
            at=datetime.now(UTC),
            username=actor.username,
            action="archive",
            tier=Tier.RAW.value,
            point_id=point_id,
            until=to_datetime(until_us),
            rows=count,
            first_t=to_datetime(first) if first is not None else None,
            last_t=to_datetime(last) if last is not None else None,
            file_path=str(target.resolve()),
            sha256=digest,
            reason=reason.strip(),
        )
        session.add(entry)
        session.flush()
        audit = append_audit(
            session,
            username=actor.username,
            action=ARCHIVE_ACTION,
            record_type=ARCHIVE_RECORD_TYPE,
            record_id=entry.id,
            field="hist_raw",
            new_value={
                "point_id": point_id,
                "rows": count,
                "until": to_datetime(until_us),
                "file": target.name,
                "sha256": digest,
            },
            reason=reason,
        )
        log_id, audit_id = entry.id, audit.id
    log.warning(
        "historian: %s archived %d raw samples of %s before %s to %s (sha256 %s) and purged them",
        actor.username,
        count,
        point_id,
        to_datetime(until_us).isoformat(),
        target,
        digest,
    )
    return ArchiveReport(
        point_id=point_id,
        rows=count,
        path=target,
        sha256=digest,
        first_t=first / US_PER_S if first is not None else None,
        last_t=last / US_PER_S if last is not None else None,
        log_id=log_id,
        audit_id=audit_id,
    )
