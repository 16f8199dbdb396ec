"""The database itself refuses to change or delete GMP records, whoever asks, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from necstgen_desk.storage.errors import AppendOnlyViolation
from necstgen_desk.storage.models import APPEND_ONLY_TABLES, CleaningRecord
from tests.integration.storage import factories

# A harmless-looking edit per table: any UPDATE is refused, whatever it changes.
_EDIT = {
    "audit_entries": "reason = 'edited'",
    "signatures": "printed_name = 'Someone Else'",
    "room_status_entries": "status = 'in_operation'",
    "cleaning_records": "achieved_contact_min = 99",
    "cleaning_verifications": "verified_by = 'nobody'",
    "gowning_records": "garment_lot = 'X'",
    "gowning_qualifications": "revoked = true",
}


@pytest.fixture
def ids(session: Session) -> dict[str, int]:
    return factories.one_of_each(session)


def test_every_gmp_table_is_covered() -> None:
    assert set(_EDIT) == set(APPEND_ONLY_TABLES)


@pytest.mark.parametrize("operation", ["UPDATE", "DELETE"])
def test_raw_sql_cannot_change_or_delete_gmp_rows(
    engine: Engine, ids: dict[str, int], operation: str
) -> None:
    for table in APPEND_ONLY_TABLES:
        if operation == "UPDATE":
            sql = f"UPDATE {table} SET {_EDIT[table]} WHERE id = :id"
        else:
            sql = f"DELETE FROM {table} WHERE id = :id"
        refused = pytest.raises(AppendOnlyViolation, match=rf"{table} is append-only: {operation}")
        with refused, engine.begin() as connection:
            connection.execute(text(sql), {"id": ids[table]})
        with engine.connect() as connection:
            count = connection.execute(
                text(f"SELECT count(*) FROM {table} WHERE id = :id"), {"id": ids[table]}
            ).scalar()
        assert count == 1, f"{table}: the row is gone"


def test_deleting_every_row_at_once_is_refused(engine: Engine, ids: dict[str, int]) -> None:
    for table in APPEND_ONLY_TABLES:
        with pytest.raises(AppendOnlyViolation), engine.begin() as connection:
            connection.execute(text(f"DELETE FROM {table}"))


def test_users_are_updated_but_never_deleted(engine: Engine, ids: dict[str, int]) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE users SET active = false WHERE id = :id"), {"id": ids["users"]}
        )
    with pytest.raises(AppendOnlyViolation, match="never deleted"), engine.begin() as connection:
        connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": ids["users"]})


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgres_refuses_truncate(engine: Engine, ids: dict[str, int]) -> None:
    assert engine.dialect.name == "postgresql"
    for table in (*APPEND_ONLY_TABLES, "users"):
        with pytest.raises(AppendOnlyViolation), engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {table} CASCADE"))


def test_the_orm_cannot_edit_a_saved_record(session: Session, ids: dict[str, int]) -> None:
    record = session.get(CleaningRecord, ids["cleaning_records"])
    assert record is not None
    record.agent_lot = "CHANGED"
    with pytest.raises(AppendOnlyViolation):
        session.commit()
    session.rollback()
    session.expire_all()
    again = session.get(CleaningRecord, ids["cleaning_records"])
    assert again is not None and again.agent_lot == "LOT-0000"
