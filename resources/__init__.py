"""Data shipped with the app: the default site, scenarios, theme, icons.

A package so an installed (non-editable) app finds its files through
``importlib.resources``; see :func:`path`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def path(*parts: str) -> Path:
    """The file ``resources/<parts>`` of the installed app."""
    return Path(str(files(__name__).joinpath(*parts)))
