"""Marks: plain data on a view function, a ``View`` class or a ``Blueprint``.

The bottom of the package: it imports nothing from it.
"""

from __future__ import annotations

from typing import Any, Optional

from flask import Blueprint
from flask.views import View

REQUIRE = "require"
REFUSE = "refuse"  # @require_https(refuse=True): 403 instead of a redirect
EXEMPT = "exempt"
DECORATOR_NAMES = {
    REQUIRE: "@require_https",
    REFUSE: "@require_https(refuse=True)",
    EXEMPT: "@exempt_https",
}
_MARK = "https_guard_mark"
# On the wrapper @require_https puts around a view: it enforces HTTPS itself.
_ENFORCES = "https_guard_enforces_itself"


def set_mark(target: Any, mark: str) -> None:
    """Mark ``target``; TypeError or ValueError for something that cannot be marked."""
    name = DECORATOR_NAMES[mark]
    if not (isinstance(target, (Blueprint, type)) or callable(target)):
        raise TypeError(
            f"{name} applies to a view function, a View class or a Blueprint, not {target!r}"
        )
    if isinstance(target, type) and not issubclass(target, View):
        raise TypeError(f"{name} applies to flask.views.View classes, not {target.__name__}")
    existing = own_mark(target)
    if existing is not None and existing != mark:
        raise ValueError(
            f"{describe(target)} is already marked {DECORATOR_NAMES[existing]}; a view"
            " or blueprint can be marked @require_https or @exempt_https, not both"
        )
    try:
        setattr(target, _MARK, mark)
    except AttributeError:
        raise TypeError(f"{name} cannot mark {target!r}: it takes no attributes") from None


def own_mark(target: Any) -> Optional[str]:
    """The mark set on ``target`` itself, not one inherited from a base class."""
    mark = getattr(target, "__dict__", {}).get(_MARK)
    return mark if isinstance(mark, str) else None


def view_mark(view: Any) -> Optional[str]:
    """The mark on a registered view function or on its ``View`` class."""
    mark = own_mark(view)
    if mark is None:
        mark = getattr(getattr(view, "view_class", None), _MARK, None)
    return mark


def mark_enforcing(wrapper: Any) -> None:
    """Record that ``wrapper`` (a view wrapper or a blueprint hook) enforces a mark itself."""
    setattr(wrapper, _ENFORCES, True)


def enforces_itself(function: Any) -> bool:
    """Whether a registered view (or hook) enforces its mark without a guard.

    True for ``@require_https`` below ``@app.route`` or on a ``View`` class
    before ``as_view``; a mark above ``@app.route`` only a guard enforces.
    """
    return bool(getattr(function, _ENFORCES, False))


def describe(target: Any) -> str:
    """A short name for a marked target, for messages."""
    if isinstance(target, Blueprint):
        return f"blueprint {target.name!r}"
    return repr(getattr(target, "__qualname__", target))
