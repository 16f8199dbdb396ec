"""Retention per tier never purges the raw record of critical differentials; the
explicit archive step is permitted to the roles holding
``Permission.ARCHIVE_HISTORIAN`` (QA and administrators) only, writes a CSV with
its sha256, purges, and is logged and audited."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from hal.points import Quality, Sample
from necstgen_desk.historian import (
    HistorianQuery,
    PointPolicy,
    RetentionPolicy,
    Tier,
    apply_retention,
    archive_raw,
    historian_settings,
    policies_for_site,
)
from necstgen_desk.records.errors import PermissionDenied, RuleViolation
from necstgen_desk.records.roles import Permission, Role, roles_allowed
from necstgen_desk.site import parse_site
from necstgen_desk.storage.audit import verify_chain
from necstgen_desk.storage.errors import AppendOnlyViolation
from necstgen_desk.storage.models import AuditEntry, HistArchiveLog
from tests.integration.historian.conftest import FAST, Clock, WriterFactory
from tests.unit.historian.strategies import T0
from tests.unit.test_site_loader import with_dp

DAY = 86_400.0
DAYS = 100
STEP = 1800.0  # one sample every 30 minutes
NOW = T0 + DAYS * DAY
POLICIES = {
    "B-01.dp": PointPolicy(forced_s=0, critical=True),
    "B-01.t": PointPolicy(forced_s=0),
    "QC.rh": PointPolicy(forced_s=0),
}
SHORT = RetentionPolicy(raw_days=90, minute_days=30, quarter_hour_days=60)


@dataclass(frozen=True)
class Person:
    username: str
    role: Role


@pytest.fixture
def history(make_writer: WriterFactory) -> None:
    """100 days of three points, every sample recorded."""
    clock = Clock(T0)
    writer = make_writer(policies=POLICIES, clock=clock)
    t = T0
    while t < NOW:
        clock.now = t
        writer.submit([Sample(p, 1.0 + (t - T0) / DAY, Quality.GOOD, t) for p in POLICIES])
        t += STEP
    writer.stop()


def _times(engine: Engine, point_id: str) -> list[float]:
    return [r.t for r in HistorianQuery(engine).raw(point_id, T0 - DAY, NOW + DAY)]


def _buckets(engine: Engine, point_id: str, tier: Tier) -> list[int]:
    return [r[0] for r in HistorianQuery(engine).rollups(point_id, tier, T0 - DAY, NOW + DAY)]


@pytest.mark.usefixtures("history")
def test_retention_keeps_each_tier_as_configured_and_critical_raw_forever(engine: Engine) -> None:
    before = {p: len(_times(engine, p)) for p in POLICIES}
    report = apply_retention(engine, NOW, retention=SHORT)

    assert _times(engine, "B-01.dp")[0] == T0  # critical: all kept
    assert len(_times(engine, "B-01.dp")) == before["B-01.dp"]
    for point in ("B-01.t", "QC.rh"):
        times = _times(engine, point)
        assert times[0] >= NOW - 90 * DAY and times[0] - STEP < NOW - 90 * DAY
    for point in POLICIES:  # roll-ups are derived data: purged for every point
        assert _buckets(engine, point, Tier.MINUTE)[0] >= (NOW - 30 * DAY) * 1e6
        assert _buckets(engine, point, Tier.QUARTER_HOUR)[0] >= (NOW - 60 * DAY) * 1e6
    assert report.deleted[Tier.RAW] == sum(before[p] - len(_times(engine, p)) for p in POLICIES)
    assert report.deleted[Tier.MINUTE] > 0 and report.deleted[Tier.QUARTER_HOUR] > 0
    assert report.kept_critical_points == 1

    with Session(engine) as session:
        logged = session.scalars(select(HistArchiveLog).order_by(HistArchiveLog.id)).all()
    assert [(e.action, e.tier, e.username, e.rows) for e in logged] == [
        ("retention", "raw", "system", report.deleted[Tier.RAW]),
        ("retention", "1m", "system", report.deleted[Tier.MINUTE]),
        ("retention", "15m", "system", report.deleted[Tier.QUARTER_HOUR]),
    ]
    assert apply_retention(engine, NOW, retention=SHORT).total == 0  # nothing left to do


@pytest.mark.usefixtures("history")
def test_a_site_policy_marks_a_point_critical_too(engine: Engine) -> None:
    first = _times(engine, "QC.rh")[0]
    critical = {"QC.rh": PointPolicy(critical=True)}
    apply_retention(engine, NOW, retention=SHORT, policies=critical)
    assert _times(engine, "QC.rh")[0] == first
    assert _times(engine, "B-01.t")[0] > first


def test_the_site_file_sets_the_retention_the_app_writer_applies(
    make_writer: WriterFactory, engine: Engine
) -> None:
    """``[historian] raw_days = 1``: the writer the app starts with the site's settings
    purges a non-critical point's raw samples older than a day; the critical
    differential's stay, and so do the roll-ups (kept 730 days by default)."""
    site = parse_site(with_dp("critical = true") + "\n[historian]\nraw_days = 1\n")
    policies = policies_for_site(site)
    assert policies["R1.dp"].critical and not policies["R1.t"].critical
    end = T0 + 3 * DAY
    clock = Clock(T0)
    writer = make_writer(policies=policies, clock=clock)  # FAST: no retention while recording
    t = T0
    while t < end:
        clock.now = t
        writer.submit(
            [Sample(p, 20.0 + (t - T0) / DAY, Quality.GOOD, t) for p in ("R1.dp", "R1.t")]
        )
        t += STEP
    writer.stop()
    before = {p: _times(engine, p) for p in ("R1.dp", "R1.t")}
    assert before["R1.t"][0] == T0 and len(before["R1.t"]) == 3 * DAY / STEP

    # As ui.app starts it: the site's settings (retention every hour, first after a batch).
    settings = historian_settings(site)
    assert settings.retention_every_s is not None
    clock.now = end
    writer = make_writer(
        policies=policies,
        settings=replace(settings, batch_interval_s=FAST.batch_interval_s),
        clock=clock,
    )
    writer.submit([Sample("R1.t", 23.0, Quality.GOOD, end)])
    writer.stop()

    assert _times(engine, "R1.dp") == before["R1.dp"]  # critical: every raw sample kept
    kept = _times(engine, "R1.t")
    assert kept[0] >= end - DAY and kept[0] - STEP < end - DAY
    assert kept[-1] == end
    purged = len(before["R1.t"]) - (len(kept) - 1)
    assert purged == 2 * DAY / STEP
    assert _buckets(engine, "R1.t", Tier.MINUTE)[0] == round(T0 * 1e6)
    with Session(engine) as session:
        logged = session.scalars(select(HistArchiveLog).order_by(HistArchiveLog.id)).all()
    assert [(e.action, e.tier, e.username, e.rows, e.reason) for e in logged] == [
        ("retention", "raw", "system", purged, "retention: raw kept 1 days"),
    ]


ARCHIVERS = roles_allowed(Permission.ARCHIVE_HISTORIAN)


def test_qa_and_administrators_archive() -> None:
    assert ARCHIVERS == (Role.QA, Role.ADMIN)


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize("role", [r for r in Role if r not in ARCHIVERS], ids=str)
def test_archive_is_for_qa_and_administrators_and_refusals_are_audited(
    engine: Engine, tmp_path: Path, role: Role
) -> None:
    person = Person("olga", role)
    with pytest.raises(PermissionDenied, match=r"only QA or Administrator may\.$") as caught:
        archive_raw(
            engine, person, "B-01.dp", T0 + 50 * DAY, tmp_path / "a.csv", reason="full disk"
        )
    assert caught.value.role == role.display_name
    assert not (tmp_path / "a.csv").exists()
    assert _times(engine, "B-01.dp")[0] == T0
    with Session(engine) as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None
    assert (entry.username, entry.action, entry.record_type, entry.record_id) == (
        "olga",
        "permission_denied",
        "hist_archive",
        "B-01.dp",
    )
    assert entry.reason == (
        f"attempted to archive and purge the raw samples of B-01.dp: {caught.value}"
    )
    assert verify_chain(engine).ok


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize(
    "actor", [Person("quinn", Role.QA), Person("ada", Role.ADMIN)], ids=lambda p: p.role.value
)
def test_archive_exports_hashes_purges_logs_and_audits(
    engine: Engine, tmp_path: Path, actor: Person
) -> None:
    until = T0 + 50 * DAY
    expected = [t for t in _times(engine, "B-01.dp") if t < until]
    path = tmp_path / "B-01.dp-archive.csv"
    report = archive_raw(engine, actor, "B-01.dp", until, path, reason="annual archive to the LIMS")

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.sha256 == digest and report.rows == len(expected)
    assert (tmp_path / "B-01.dp-archive.csv.sha256").read_text() == f"{digest}  {path.name}\n"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["t_us"]) / 1e6 for r in rows] == expected
    assert rows[0]["quality"] == "good" and rows[0]["time_utc"].endswith("+00:00")
    assert float(rows[0]["value"]) == 1.0

    remaining = _times(engine, "B-01.dp")
    assert remaining[0] >= until and remaining[0] - STEP < until  # purged up to the limit only
    assert len(_times(engine, "B-01.t")) > len(remaining)  # other points untouched

    with Session(engine) as session:
        log_entry = session.get(HistArchiveLog, report.log_id)
        audit = session.get(AuditEntry, report.audit_id)
    assert log_entry is not None and audit is not None
    assert (log_entry.action, log_entry.username, log_entry.sha256, log_entry.rows) == (
        "archive",
        actor.username,
        digest,
        len(expected),
    )
    assert log_entry.file_path == str(path.resolve())
    assert (audit.action, audit.record_type, audit.record_id) == (
        "archive_purge",
        "hist_archive",
        str(report.log_id),
    )
    assert audit.new_value is not None and digest in audit.new_value
    assert audit.reason == "annual archive to the LIMS"
    assert verify_chain(engine).ok

    with pytest.raises(RuleViolation, match="already exists"):
        archive_raw(engine, actor, "B-01.dp", NOW, path, reason="again")
    with pytest.raises(RuleViolation, match="reason is required"):
        archive_raw(engine, actor, "B-01.dp", NOW, tmp_path / "b.csv", reason=" ")
    with pytest.raises(RuleViolation, match="no point"):
        archive_raw(engine, actor, "nobody", NOW, tmp_path / "c.csv", reason="x")

    # The archive log is append-only, like every GMP record.
    with pytest.raises(AppendOnlyViolation), engine.begin() as connection:
        connection.execute(text("UPDATE hist_archive_log SET rows = 0"))
    with pytest.raises(AppendOnlyViolation), engine.begin() as connection:
        connection.execute(text("DELETE FROM hist_archive_log"))
