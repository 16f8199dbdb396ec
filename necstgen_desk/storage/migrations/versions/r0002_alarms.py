"""The alarm journal: ``alarm_events``, append-only like the GMP records.

Revision ID: r0002_alarms
Revises: 0001
Create Date: 2026-11-26

Every change of every alarm (condition, acknowledgement, shelving,
suppression, service) is one row; the database refuses UPDATE and DELETE
(and TRUNCATE on PostgreSQL) with the same triggers as the first migration.
This script is frozen: later changes go in new revisions.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from necstgen_desk.storage.types import UTCDateTime

revision: str = "r0002_alarms"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "alarm_events"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("alarm_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("room_id", sa.String(length=64), nullable=True),
        sa.Column("priority", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=False),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("shelved_until", UTCDateTime(), nullable=True),
        sa.Column("raised_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_events")),
    )
    op.create_index("ix_alarm_events_alarm_seq", TABLE, ["alarm_id", "seq"])
    op.create_index("ix_alarm_events_source_at", TABLE, ["source", "at"])
    op.create_index(op.f("ix_alarm_events_at"), TABLE, ["at"])
    op.create_index(op.f("ix_alarm_events_seq"), TABLE, ["seq"])

    if op.get_context().dialect.name == "postgresql":
        # The refusing function comes with the first migration.
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION necstgen_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION necstgen_refuse_change()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{operation.lower()} BEFORE {operation} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {operation} refused'); END"
            )


def downgrade() -> None:
    raise RuntimeError(
        "The alarm journal is a GMP record, which is never dropped: "
        "restore the backup made before the upgrade instead."
    )
