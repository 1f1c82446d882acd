"""``@require_https`` and ``@exempt_https``: marks on views and blueprints.

A mark is read by the app's guard the first time it sees a request for the
endpoint, so on a guarded app the decorators work in any order with
``@app.route``, below any decorator that uses ``functools.wraps`` (which
copies the mark), on a ``View`` class and in its ``decorators`` list.

``@require_https`` also holds on an app without :class:`HTTPSGuard`: the
view function it returns, a ``View`` class's views and a blueprint's
requests redirect plain HTTP by themselves, with the default options. Only
the marked views pay for that. For this the decorator must sit below
``@app.route`` (as ``@login_required`` does), and a blueprint must be marked
before it is registered; ``flask https-guard check`` reports a mark that
nothing enforces.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from typing import Any, Callable, Optional, TypeVar, cast

from flask import Blueprint, Flask, current_app, request
from werkzeug.wrappers import Response

from .marks import EXEMPT, REQUIRE, mark_enforcing, set_mark
from .options import resolve_options
from .state import EXTENSION_KEY, GuardState

logger = logging.getLogger("flask_https_guard")

Markable = TypeVar("Markable")


def require_https(target: Markable) -> Markable:
    """Serve this view, View class or blueprint over HTTPS only.

    Plain-HTTP requests are redirected even when the guard runs with
    ``global_mode=False`` or the path is in ``skips``::

        @app.get("/account")
        @require_https
        def account(): ...

        admin = require_https(Blueprint("admin", __name__))

    On an app without :class:`~flask_https_guard.HTTPSGuard`, the marked
    view redirects by itself with the default options and gets HSTS on
    https, and a warning is logged once so the missing guard gets noticed.
    Returns the view's enforcing wrapper, or the class or blueprint itself.
    """
    set_mark(target, REQUIRE)
    if isinstance(target, Blueprint):
        # First among the blueprint's own handlers; a no-op on guarded apps,
        # whose guard runs before every handler.
        target.before_request_funcs.setdefault(None, []).insert(0, _blueprint_enforcer(target))
        return target
    if isinstance(target, type):
        # View.as_view applies the class's decorators, last one outermost.
        view_class: Any = target
        view_class.decorators = [*view_class.decorators, _enforcing_view]
        return target
    return cast(Markable, _enforcing_view(cast(Callable[..., Any], target)))


def exempt_https(target: Markable) -> Markable:
    """Serve this view, View class or blueprint over plain HTTP too.

    For health checks and other endpoints that load balancers or monitors
    call over HTTP. Returns ``target`` itself::

        @app.get("/health")
        @exempt_https
        def health(): return "ok"
    """
    set_mark(target, EXEMPT)
    return target


def _enforcing_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a marked view so it enforces HTTPS on an app without a guard.

    On a guarded app the wrapper only looks the request's app up and calls
    the view: the guard has already redirected plain HTTP.
    """
    find_defaults = _DefaultsFinder()
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def enforce_https_async(*args: Any, **kwargs: Any) -> Any:
            environ = request.environ
            state = find_defaults(environ)
            if state is None:
                return await view(*args, **kwargs)
            if environ["wsgi.url_scheme"] != "https":
                return state.redirect(state.app, environ)
            return _with_hsts(state, await view(*args, **kwargs))

        wrapper: Callable[..., Any] = enforce_https_async
    else:

        @functools.wraps(view)
        def enforce_https(*args: Any, **kwargs: Any) -> Any:
            environ = request.environ
            state = find_defaults(environ)
            if state is None:
                return view(*args, **kwargs)
            if environ["wsgi.url_scheme"] != "https":
                return state.redirect(state.app, environ)
            return _with_hsts(state, view(*args, **kwargs))

        wrapper = enforce_https
    mark_enforcing(wrapper)
    return wrapper


class _DefaultsFinder:
    """The default state to enforce a mark with, on the app serving the request.

    None when that app has a guard (which enforces the mark itself, or was
    told not to) or the defaults are inactive (debug mode). Looking the app
    up through ``current_app`` costs as much as a third of a small request,
    so the answer is kept for the app whose URL map routed the last request:
    Werkzeug keeps the request in ``environ["werkzeug.request"]``, and its
    ``url_rule`` knows its map. This follows the request, not the thread or
    context: an app mounted inside another, or called from another's view,
    gets its own answer. A view registered on several apps looks each up
    again when the app changes.
    """

    def __init__(self) -> None:
        self._last: tuple[Any, Optional[GuardState]] = (None, None)

    def __call__(self, environ: dict[str, Any]) -> Optional[GuardState]:
        rule = getattr(environ.get("werkzeug.request"), "url_rule", None)
        url_map = getattr(rule, "map", None)
        last_map, state = self._last
        if url_map is None or url_map is not last_map:
            state = _defaults_if_unguarded()
            if url_map is not None:
                self._last = (url_map, state)  # one assignment: threads see a pair
        if state is None or not state.is_active():
            return None
        return state


def _blueprint_enforcer(blueprint: Blueprint) -> Callable[[], Optional[Response]]:
    """A marked blueprint's own before_request function."""
    find_defaults = _DefaultsFinder()

    def redirect_if_unguarded() -> Optional[Response]:
        environ = request.environ
        if environ["wsgi.url_scheme"] == "https":
            return None
        state = find_defaults(environ)
        if state is None:
            return None
        return state.redirect(state.app, environ)

    mark_enforcing(redirect_if_unguarded)
    return redirect_if_unguarded


def _with_hsts(state: GuardState, returned: Any) -> Response:
    response = state.app.make_response(returned)
    if state.hsts is not None:
        state.hsts.apply(response.headers)
    return response


# --- The defaults that apply on an app without a guard ----------------------

_DEFAULTS_KEY = "https_guard.defaults"
_defaults_lock = threading.Lock()


def _defaults_if_unguarded() -> Optional[GuardState]:
    """The default state to enforce with on the current app; None if it is guarded.

    The defaults ignore the app's ``HTTPS_GUARD_*`` config: it belongs to a
    guard the app does not have, and a bad value there must not break the
    app's requests.
    """
    extensions = current_app.extensions
    if EXTENSION_KEY in extensions:
        return None  # the app's guard enforces the mark (or was told not to)
    state = extensions.get(_DEFAULTS_KEY)
    if state is None:
        # app_context().app is the app object itself, not the proxy.
        state = _build_defaults(current_app.app_context().app)
    return cast(Optional[GuardState], state)


def _build_defaults(app: Flask) -> GuardState:
    with _defaults_lock:
        state = app.extensions.get(_DEFAULTS_KEY)
        if state is None:
            state = GuardState(app, resolve_options({"global_mode": False}, {}))
            app.extensions[_DEFAULTS_KEY] = state
            logger.warning(
                "App %r has views marked @require_https but no HTTPSGuard; they"
                " enforce HTTPS themselves with default options (the app's"
                " HTTPS_GUARD_* config is not read). Add HTTPSGuard(app,"
                " global_mode=False) to configure it.",
                app.name,
            )
    return cast(GuardState, state)
