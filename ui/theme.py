"""The application's look: the ISA-101 grey stylesheet and the app icon, from ``resources``."""

from __future__ import annotations

import logging
from pathlib import Path

import resources

log = logging.getLogger(__name__)

THEME_PATH = resources.path("theme", "desk.qss")
ICON_PATH = resources.path("icons", "necstgen-desk.svg")


def load_stylesheet(path: Path = THEME_PATH) -> str:
    """The QSS text, or '' (Qt's defaults, still usable) when the file cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        log.warning("theme %s not loaded: %s; using Qt's default look", path, error)
        return ""
