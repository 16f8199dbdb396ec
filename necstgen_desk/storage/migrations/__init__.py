"""Alembic migrations of the database, run by :mod:`necstgen_desk.storage.migrate`."""
