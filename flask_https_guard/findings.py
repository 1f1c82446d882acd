"""Findings, the results of ``flask https-guard check`` and ``probe`` alike.

Each has an ID that stays the same across releases, so scripts and docs can
refer to it, and a level; ``--fail-level`` picks the lowest level that fails.

>>> finding = Finding("HG011", "info", "Redirects are temporary.", "Use permanent=True.")
>>> reaches(finding.level, "warning")
False
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: Finding levels, least severe first.
LEVELS = ("info", "warning", "error")


@dataclass(frozen=True)
class Finding:
    """One result of a check: a stable ID, a level, what is wrong, what to do."""

    id: str
    level: str
    message: str
    hint: str

    def as_dict(self) -> dict[str, str]:
        """The finding as JSON-ready data."""
        return asdict(self)


def reaches(level: str, fail_level: str) -> bool:
    """Whether a finding of ``level`` is at or above ``fail_level``."""
    return LEVELS.index(level) >= LEVELS.index(fail_level)
