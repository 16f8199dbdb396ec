"""What the command line asks the GUI to do; built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class AppOptions:
    site_path: Path | None = None  # None: the built-in demo (default site + simulator child)
    screenshot: Path | None = None  # render the main window to this PNG and exit
    after: float = 30.0  # screenshot: wait at most this long for live values
    speed: float = 1.0  # demo simulator time factor
    scenario: Path | None = None  # demo simulator scenario file
    # GMP records database URL (sqlite:///path or postgresql+psycopg://…); None: the
    # default (``$NECSTGEN_DB_URL`` or the SQLite file in the user data folder).
    # Not opened in screenshot mode.
    db_url: str | None = None
