"""Storage parts that need no database."""
