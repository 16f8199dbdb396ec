"""Storage against a real SQLite file and a real PostgreSQL."""
