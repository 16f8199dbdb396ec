"""The site configuration: model, loader and the default site."""

from necstgen_desk.site.errors import SiteError, SiteProblem
from necstgen_desk.site.loader import DEFAULT_SITE_PATH, load_site, parse_site
from necstgen_desk.site.model import (
    Airlock,
    AlarmPolicy,
    AlarmSettings,
    Door,
    Grade,
    HistorianPolicy,
    InterlockKind,
    Limits,
    PointConfig,
    Priority,
    RecordsPolicy,
    Site,
    Space,
)

__all__ = [
    "DEFAULT_SITE_PATH",
    "Airlock",
    "AlarmPolicy",
    "AlarmSettings",
    "Door",
    "Grade",
    "HistorianPolicy",
    "InterlockKind",
    "Limits",
    "PointConfig",
    "Priority",
    "RecordsPolicy",
    "Site",
    "SiteError",
    "SiteProblem",
    "Space",
    "load_site",
    "parse_site",
]
