"""``@require_https`` and ``@exempt_https``: marks on views and blueprints.

A mark is an attribute on the view function, the ``View`` class or the
``Blueprint``. It is read when the guard first sees a request for the
endpoint, so the decorators work above or below ``@app.route``, below any
decorator that uses ``functools.wraps`` (which copies the attribute), on a
``View`` class (``as_view`` sets ``view_class`` on the view function) and in
its ``decorators = [...]`` list. Nothing is wrapped: a marked view runs
exactly as before.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Optional, TypeVar, cast

from flask import Blueprint, Flask, request, request_started
from flask.views import View
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException
from werkzeug.wrappers import Response

logger = logging.getLogger("flask_https_guard")

REQUIRE = "require"
EXEMPT = "exempt"
_MARK_ATTRIBUTE = "_https_guard_mark"
_DECORATOR_NAMES = {REQUIRE: "@require_https", EXEMPT: "@exempt_https"}

Markable = TypeVar("Markable")


def require_https(target: Markable) -> Markable:
    """Serve this view, View class or blueprint over HTTPS only.

    Insecure requests are redirected even when the guard runs with
    ``global_mode=False`` or the path is in ``skips``. Returns ``target``
    itself, so it also works on a blueprint::

        @app.get("/account")
        @require_https
        def account(): ...

        admin = require_https(Blueprint("admin", __name__))

    On an app without :class:`~flask_https_guard.HTTPSGuard` the redirect
    still happens, with default options, and a warning is logged once.
    """
    _mark(target, REQUIRE)
    _enforce_marks_on_unguarded_apps()
    return target


def exempt_https(target: Markable) -> Markable:
    """Serve this view, View class or blueprint over plain HTTP too.

    For health checks and other endpoints that load balancers or monitors
    call over HTTP. Returns ``target`` itself::

        @app.get("/health")
        @exempt_https
        def health(): return "ok"
    """
    _mark(target, EXEMPT)
    return target


def _mark(target: Any, mark: str) -> None:
    if not (isinstance(target, (Blueprint, type)) or callable(target)):
        raise TypeError(
            f"{_DECORATOR_NAMES[mark]} applies to a view function, a View class"
            f" or a Blueprint, not {target!r}"
        )
    if isinstance(target, type) and not issubclass(target, View):
        raise TypeError(
            f"{_DECORATOR_NAMES[mark]} applies to flask.views.View classes, not {target.__name__}"
        )
    existing = _own_mark(target)
    if existing is not None and existing != mark:
        raise ValueError(
            f"{_describe_target(target)} is already marked"
            f" {_DECORATOR_NAMES[existing]}; a view or blueprint can be marked"
            " @require_https or @exempt_https, not both"
        )
    try:
        setattr(target, _MARK_ATTRIBUTE, mark)
    except AttributeError:
        raise TypeError(
            f"{_DECORATOR_NAMES[mark]} cannot mark {target!r}: it takes no"
            " attributes; decorate the function itself"
        ) from None


def _own_mark(target: Any) -> Optional[str]:
    # A class's own mark, not one inherited from a marked base class.
    namespace = getattr(target, "__dict__", {})
    mark = namespace.get(_MARK_ATTRIBUTE)
    return mark if isinstance(mark, str) else None


def _describe_target(target: Any) -> str:
    if isinstance(target, Blueprint):
        return f"blueprint {target.name!r}"
    return repr(getattr(target, "__qualname__", target))


def view_mark(view: Any) -> Optional[str]:
    """The mark on a registered view function or on its ``View`` class."""
    mark = _own_mark(view)
    if mark is None:
        view_class = getattr(view, "view_class", None)
        mark = getattr(view_class, _MARK_ATTRIBUTE, None)
    return mark


def blueprint_mark(blueprint: Any) -> Optional[str]:
    """The mark on a blueprint, if any."""
    return _own_mark(blueprint) if blueprint is not None else None


# --- @require_https on an app that has no guard -----------------------------
#
# Nothing in Flask tells a decorator which app a view ends up in, so a view
# marked @require_https on an app without HTTPSGuard would silently do
# nothing. Once any view is marked, a `request_started` receiver enforces
# @require_https marks on apps that have no guard. On guarded apps it returns
# at once: the guard's own hook does the work.

_fallback_lock = threading.Lock()
_fallback_connected = False


def _enforce_marks_on_unguarded_apps() -> None:
    global _fallback_connected
    with _fallback_lock:
        if not _fallback_connected:
            request_started.connect(_redirect_marked_views_without_guard)
            _fallback_connected = True


def _redirect_marked_views_without_guard(sender: Flask, **_: Any) -> None:
    if "https_guard" in sender.extensions:
        return
    # Imported here: the extension module imports this one.
    from .extension import fallback_guard_for

    response = fallback_guard_for(sender).answer_insecure_request(
        request._get_current_object()  # type: ignore[attr-defined]
    )
    if response is not None:
        raise _EarlyResponse(response)


class _EarlyResponse(HTTPException, RoutingException):
    """Carries the fallback's answer out of a signal receiver.

    Flask hands a RoutingException back as the response without calling the
    app's error handlers, the way it treats its own trailing-slash redirects.
    """

    def __init__(self, response: Response) -> None:
        super().__init__(response=response)

    def get_response(self, *args: Any, **kwargs: Any) -> Response:
        return cast(Response, self.response)
