"""NECSTGEN Desk: the application core (no Qt outside the composition root)."""

__version__ = "0.1.0"
