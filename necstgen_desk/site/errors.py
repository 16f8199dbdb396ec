"""Errors of the site loader: every problem with its key path and a plain sentence."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SiteProblem:
    path: str  # e.g. "point[12].address" or "space[B-01].polygon"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SiteError(Exception):
    """The site file cannot be used; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[SiteProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{source}: {count} {noun} in the site file:\n{lines}")
