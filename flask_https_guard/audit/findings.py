"""Findings of the deploy check, and how messages list examples.

>>> first_few(["/a", "/b", "/c", "/d"])
'/a, /b, /c, ...'
"""

from __future__ import annotations

from collections.abc import Sequence

from ..findings import LEVELS, Finding, reaches

__all__ = ["EXAMPLES_SHOWN", "LEVELS", "Finding", "first_few", "reaches"]

#: How many items a message lists before it shortens the rest to "...".
EXAMPLES_SHOWN = 3


def first_few(items: Sequence[str]) -> str:
    """The first items, comma-separated, with "..." when some are left out."""
    shown = ", ".join(items[:EXAMPLES_SHOWN])
    return shown + (", ..." if len(items) > EXAMPLES_SHOWN else "")
