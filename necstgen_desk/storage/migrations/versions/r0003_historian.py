"""The historian: points, raw samples, 1-minute and 15-minute roll-ups, archive log.

Revision ID: r0003_historian
Revises: r0002_alarms
Create Date: 2026-11-27

Sample times are BIGINT microseconds since the epoch (UTC); points are small
integers from ``hist_points``. The sample tables are WITHOUT ROWID on SQLite
(clustered by point and time). ``hist_archive_log`` — what left the historian,
by whom — is append-only: the database refuses UPDATE and DELETE (and
TRUNCATE on PostgreSQL) with the triggers of the first migration. This script
is frozen: later changes go in new revisions.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from necstgen_desk.storage.types import UTCDateTime

revision: str = "r0003_historian"
down_revision: str | Sequence[str] | None = "r0002_alarms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ARCHIVE_LOG = "hist_archive_log"


def _rollup(name: str) -> None:
    op.create_table(
        name,
        sa.Column("point", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("sample_count", sa.Integer(), nullable=False),
        sa.Column("good_count", sa.Integer(), nullable=False),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("mean_value", sa.Float(), nullable=True),
        sa.Column("worst_quality", sa.SmallInteger(), nullable=False),
        sa.Column("last_quality", sa.SmallInteger(), nullable=False),
        sa.Column("first_t", sa.BigInteger(), nullable=False),
        sa.Column("last_t", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("point", "bucket", name=op.f(f"pk_{name}")),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    op.create_table(
        "hist_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.String(length=128), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hist_points")),
        sa.UniqueConstraint("point_id", name=op.f("uq_hist_points_point_id")),
    )
    op.create_table(
        "hist_raw",
        sa.Column("point", sa.Integer(), nullable=False),
        sa.Column("t", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("quality", sa.SmallInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("point", "t", name=op.f("pk_hist_raw")),
        sqlite_with_rowid=False,
    )
    _rollup("hist_1m")
    _rollup("hist_15m")
    op.create_table(
        ARCHIVE_LOG,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("point_id", sa.String(length=128), nullable=True),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("first_t", UTCDateTime(), nullable=True),
        sa.Column("last_t", UTCDateTime(), nullable=True),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hist_archive_log")),
    )
    op.create_index(op.f("ix_hist_archive_log_at"), ARCHIVE_LOG, ["at"])
    op.create_index("ix_hist_archive_log_point_id_at", ARCHIVE_LOG, ["point_id", "at"])

    if op.get_context().dialect.name == "postgresql":
        # The refusing function comes with the first migration.
        op.execute(
            f"CREATE TRIGGER {ARCHIVE_LOG}_no_change BEFORE UPDATE OR DELETE ON {ARCHIVE_LOG} "
            "FOR EACH ROW EXECUTE FUNCTION necstgen_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {ARCHIVE_LOG}_no_truncate BEFORE TRUNCATE ON {ARCHIVE_LOG} "
            "FOR EACH STATEMENT EXECUTE FUNCTION necstgen_refuse_change()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {ARCHIVE_LOG}_no_{operation.lower()} BEFORE {operation} "
                f"ON {ARCHIVE_LOG} BEGIN SELECT RAISE(ABORT, "
                f"'{ARCHIVE_LOG} is append-only: {operation} refused'); END"
            )


def downgrade() -> None:
    raise RuntimeError(
        "The historian holds GMP records (the raw record of critical differentials and the "
        "archive log), which are never dropped: restore the backup made before the upgrade."
    )
