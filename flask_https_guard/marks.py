"""Marks: plain data on a view function, a ``View`` class or a ``Blueprint``.

``@require_https`` and ``@exempt_https`` leave a mark; the policy reads it
when it first sees a request for the endpoint. This module is the bottom of
the package: it imports nothing from it.
"""

from __future__ import annotations

from typing import Any, Optional

from flask import Blueprint
from flask.views import View

REQUIRE = "require"
EXEMPT = "exempt"
DECORATOR_NAMES = {REQUIRE: "@require_https", EXEMPT: "@exempt_https"}

_MARK_ATTRIBUTE = "https_guard_mark"
# Set on the wrapper that @require_https puts around a view function, the
# one that enforces HTTPS by itself on an app without a guard.
_ENFORCES_ATTRIBUTE = "https_guard_enforces_itself"


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
            f"{describe(target)} is already marked {DECORATOR_NAMES[existing]};"
            " a view or blueprint can be marked @require_https or @exempt_https, not both"
        )
    try:
        setattr(target, _MARK_ATTRIBUTE, mark)
    except AttributeError:
        raise TypeError(
            f"{name} cannot mark {target!r}: it takes no attributes; decorate the function itself"
        ) from None


def own_mark(target: Any) -> Optional[str]:
    """The mark set on ``target`` itself, not one inherited from a base class."""
    mark = getattr(target, "__dict__", {}).get(_MARK_ATTRIBUTE)
    return mark if isinstance(mark, str) else None


def view_mark(view: Any) -> Optional[str]:
    """The mark on a registered view function or on its ``View`` class."""
    mark = own_mark(view)
    if mark is None:
        mark = getattr(getattr(view, "view_class", None), _MARK_ATTRIBUTE, None)
    return mark


def blueprint_mark(blueprint: Any) -> Optional[str]:
    """The mark on a blueprint, if any."""
    return own_mark(blueprint) if blueprint is not None else None


def mark_enforcing(wrapper: Any) -> None:
    """Record that ``wrapper`` enforces @require_https by itself."""
    setattr(wrapper, _ENFORCES_ATTRIBUTE, True)


def enforces_itself(view: Any) -> bool:
    """True when a registered view enforces HTTPS without a guard.

    That is the case when ``@require_https`` sat below ``@app.route`` (so the
    route registered its wrapper), or marked a ``View`` class before
    ``as_view``. A view marked
    above ``@app.route`` carries the mark but not the wrapper: only a guard
    on the app enforces it.
    """
    return bool(getattr(view, _ENFORCES_ATTRIBUTE, False))


def describe(target: Any) -> str:
    """A short name for a marked target, for messages."""
    if isinstance(target, Blueprint):
        return f"blueprint {target.name!r}"
    return repr(getattr(target, "__qualname__", target))
