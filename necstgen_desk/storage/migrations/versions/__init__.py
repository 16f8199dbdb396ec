"""Migration scripts, oldest first; alembic loads them by path."""
