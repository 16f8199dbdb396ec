"""Initial schema: every table, its indexes, and the append-only triggers.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

The database itself refuses UPDATE and DELETE on the GMP tables (and DELETE on
``users``), whoever connects: SQLite triggers raising ABORT, PostgreSQL
triggers calling a plpgsql function that raises (TRUNCATE included). This
script is frozen: later changes go in new revisions.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

from necstgen_desk.storage.types import UTCDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = (
    "audit_entries",
    "signatures",
    "room_status_entries",
    "cleaning_records",
    "cleaning_verifications",
    "gowning_records",
    "gowning_qualifications",
)
NO_DELETE = ("users",)

CORRECTION_HAS_REASON = "supersedes_id IS NULL OR (reason IS NOT NULL AND length(trim(reason)) > 0)"


def _name(length: int = 64) -> sa.String:
    return sa.String(length=length)


def _enum() -> sa.String:
    # Enumerations are stored as their values (see models._enum): no CHECK, so a
    # new value needs no migration.
    return sa.String(length=32)


def _versioned(table: str) -> list[SchemaItem]:
    return [
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint(CORRECTION_HAS_REASON, name=op.f(f"ck_{table}_correction_has_reason")),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            [f"{table}.id"],
            name=op.f(f"fk_{table}_supersedes_id_{table}"),
        ),
        sa.UniqueConstraint("supersedes_id", name=op.f(f"uq_{table}_supersedes_id")),
    ]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", _name(), nullable=False),
        sa.Column("full_name", _name(200), nullable=False),
        sa.Column("role", _enum(), nullable=False),
        sa.Column("password_hash", _name(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "settings",
        sa.Column("key", _name(100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("username", _name(), nullable=False),
        sa.Column("action", _name(), nullable=False),
        sa.Column("record_type", _name(), nullable=False),
        sa.Column("record_id", _name(), nullable=False),
        sa.Column("field", _name(), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("prev_hash", _name(), nullable=False),
        sa.Column("hash", _name(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_entries_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_entries_prev_hash")),
    )
    op.create_index(op.f("ix_audit_entries_at"), "audit_entries", ["at"])
    op.create_index("ix_audit_entries_record", "audit_entries", ["record_type", "record_id", "id"])
    op.create_index("ix_audit_entries_user_at", "audit_entries", ["username", "at"])

    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", _name(), nullable=False),
        sa.Column("record_id", _name(), nullable=False),
        sa.Column("record_hash", _name(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", _name(), nullable=False),
        sa.Column("printed_name", _name(200), nullable=False),
        sa.Column("meaning", _enum(), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_signatures_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
    )
    op.create_index("ix_signatures_record", "signatures", ["record_type", "record_id"])
    op.create_index(op.f("ix_signatures_signed_at"), "signatures", ["signed_at"])
    op.create_index(op.f("ix_signatures_user_id"), "signatures", ["user_id"])

    op.create_table(
        "room_status_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", _name(), nullable=False),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("username", _name(), nullable=False),
        sa.Column("product", _name(200), nullable=True),
        sa.Column("batch", _name(100), nullable=True),
        *_versioned("room_status_entries"),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["signatures.id"],
            name=op.f("fk_room_status_entries_signature_id_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_status_entries")),
    )
    op.create_index(op.f("ix_room_status_entries_at"), "room_status_entries", ["at"])
    op.create_index("ix_room_status_entries_room_at", "room_status_entries", ["room_id", "at"])
    op.create_index(op.f("ix_room_status_entries_username"), "room_status_entries", ["username"])

    op.create_table(
        "cleaning_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", _name(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("cleaning_type", _enum(), nullable=False),
        sa.Column("agent", _name(200), nullable=False),
        sa.Column("agent_lot", _name(100), nullable=False),
        sa.Column("agent_prepared_on", sa.Date(), nullable=False),
        sa.Column("agent_expires_on", sa.Date(), nullable=False),
        sa.Column("required_contact_min", sa.Float(), nullable=False),
        sa.Column("achieved_contact_min", sa.Float(), nullable=False),
        sa.Column("performed_by", _name(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        *_versioned("cleaning_records"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleaning_records")),
    )
    op.create_index(op.f("ix_cleaning_records_created_at"), "cleaning_records", ["created_at"])
    op.create_index(op.f("ix_cleaning_records_performed_by"), "cleaning_records", ["performed_by"])
    op.create_index(
        "ix_cleaning_records_room_started", "cleaning_records", ["room_id", "started_at"]
    )
    op.create_index(op.f("ix_cleaning_records_started_at"), "cleaning_records", ["started_at"])

    op.create_table(
        "cleaning_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cleaning_id", sa.Integer(), nullable=False),
        sa.Column("verified_by", _name(), nullable=False),
        sa.Column("verified_at", UTCDateTime(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cleaning_id"],
            ["cleaning_records.id"],
            name=op.f("fk_cleaning_verifications_cleaning_id_cleaning_records"),
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["signatures.id"],
            name=op.f("fk_cleaning_verifications_signature_id_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleaning_verifications")),
        sa.UniqueConstraint("cleaning_id", name=op.f("uq_cleaning_verifications_cleaning_id")),
    )
    op.create_index(
        op.f("ix_cleaning_verifications_verified_at"), "cleaning_verifications", ["verified_at"]
    )
    op.create_index(
        op.f("ix_cleaning_verifications_verified_by"), "cleaning_verifications", ["verified_by"]
    )

    op.create_table(
        "gowning_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", _name(200), nullable=False),
        sa.Column("room_id", _name(), nullable=False),
        sa.Column("grade", _name(8), nullable=False),
        sa.Column("time_in", UTCDateTime(), nullable=False),
        sa.Column("time_out", UTCDateTime(), nullable=True),
        sa.Column("garment_lot", _name(100), nullable=False),
        sa.Column("qualification_status", _enum(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("username", _name(), nullable=False),
        *_versioned("gowning_records"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gowning_records")),
    )
    op.create_index("ix_gowning_records_person_time_in", "gowning_records", ["person", "time_in"])
    op.create_index("ix_gowning_records_room_time_in", "gowning_records", ["room_id", "time_in"])
    op.create_index(op.f("ix_gowning_records_time_in"), "gowning_records", ["time_in"])
    op.create_index(op.f("ix_gowning_records_username"), "gowning_records", ["username"])

    op.create_table(
        "gowning_qualifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", _name(200), nullable=False),
        sa.Column("qualified_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", _name(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("valid_months", sa.Integer(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        *_versioned("gowning_qualifications"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gowning_qualifications")),
    )
    op.create_index(
        "ix_gowning_qualifications_person_qualified_on",
        "gowning_qualifications",
        ["person", "qualified_on"],
    )
    op.create_index(
        op.f("ix_gowning_qualifications_recorded_at"), "gowning_qualifications", ["recorded_at"]
    )

    if op.get_context().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
            )
    for table in NO_DELETE:
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN "
            f"SELECT RAISE(ABORT, '{table} rows are never deleted (append-only): "
            "DELETE refused'); END"
        )


def _postgres_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION necstgen_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'restrict_violation';
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION necstgen_refuse_delete() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% rows are never deleted (append-only): % refused',
                TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'restrict_violation';
        END
        $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION necstgen_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION necstgen_refuse_change()"
        )
    for table in NO_DELETE:
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION necstgen_refuse_delete()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION necstgen_refuse_delete()"
        )


def downgrade() -> None:
    raise RuntimeError(
        "The initial schema holds GMP records, which are never dropped: "
        "restore the backup made before the upgrade instead."
    )
