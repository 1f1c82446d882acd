"""A result of the deploy check: a finding with a stable ID and a level.

>>> finding = Finding("HG011", "info", "Redirects are temporary.", "Use permanent=True.")
>>> reaches(finding.level, "warning")
False
>>> first_few(["/a", "/b", "/c", "/d"])
'/a, /b, /c, ...'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

#: Finding levels, least severe first.
LEVELS = ("info", "warning", "error")
#: How many items a message lists before it shortens the rest to "...".
EXAMPLES_SHOWN = 3


@dataclass(frozen=True)
class Finding:
    """One result of the deploy check."""

    id: str
    level: str
    message: str
    hint: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def reaches(level: str, fail_level: str) -> bool:
    """Whether a finding of ``level`` is at or above ``fail_level``."""
    return LEVELS.index(level) >= LEVELS.index(fail_level)


def first_few(items: Sequence[str]) -> str:
    """The first items, comma-separated, with "..." when some are left out."""
    shown = ", ".join(items[:EXAMPLES_SHOWN])
    return shown + (", ..." if len(items) > EXAMPLES_SHOWN else "")
