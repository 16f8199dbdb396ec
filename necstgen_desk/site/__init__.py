"""The site configuration: model, loader and the default site."""

from necstgen_desk.site.errors import SiteError, SiteProblem
from necstgen_desk.site.loader import DEFAULT_SITE_PATH, load_site, parse_site
from necstgen_desk.site.model import (
    Airlock,
    AlarmPolicy,
    RecordsPolicy,
    AlarmSettings,
    Door,
    Grade,
    InterlockKind,
    Limits,
    PointConfig,
    Priority,
    Site,
    Space,
)

__all__ = [
    "DEFAULT_SITE_PATH",
    "Airlock",
    "AlarmPolicy",
    "RecordsPolicy",
    "AlarmSettings",
    "Door",
    "Grade",
    "InterlockKind",
    "Limits",
    "PointConfig",
    "Priority",
    "Site",
    "SiteError",
    "SiteProblem",
    "Space",
    "load_site",
    "parse_site",
]
