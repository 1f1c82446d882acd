"""``@require_https`` and ``@exempt_https``: marks on views, ``View`` classes and blueprints.

A guard reads the marks; ``@require_https`` also wraps the view (or hooks the
blueprint) so that the mark holds where no guard routes the request to it.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Optional, TypeVar, Union, overload

from flask import Blueprint, current_app, request
from werkzeug.wrappers import Response

from .extension import default_guard
from .guard import EXTENSION_KEY, SECURE_SCHEMES, Guard
from .marks import DECORATOR_NAMES, EXEMPT, REFUSE, REQUIRE, mark_enforcing, set_mark
from .policy import decision_for_mark

Markable = TypeVar("Markable")
_DEFAULTS_KEY = "https_guard.defaults"


@overload
def require_https(target: Markable, *, refuse: bool = False) -> Markable: ...
@overload
def require_https(*, refuse: bool = False) -> Callable[[Markable], Markable]: ...


def require_https(
    target: Any = None, *, refuse: bool = False
) -> Union[Any, Callable[[Markable], Markable]]:
    """Serve this view, ``View`` class or blueprint over HTTPS only.

    Plain-HTTP requests are redirected even in per-view mode or under a skip;
    with ``refuse=True`` they get 403 instead, for APIs whose clients should
    fail loudly rather than resend credentials::

        @app.get("/account")
        @require_https
        def account(): ...

        api = require_https(Blueprint("api", __name__), refuse=True)

    Without an :class:`~flask_https_guard.HTTPSGuard` the mark enforces itself
    with the default options (place it below ``@app.route``, mark blueprints
    before registering them) and logs a warning once.
    """
    if target is None:
        return lambda marked: require_https(marked, refuse=refuse)
    mark = REFUSE if refuse else REQUIRE
    set_mark(target, mark)
    if isinstance(target, Blueprint):
        try:
            target.before_request(_blueprint_before)
            target.after_request(_blueprint_after)
        except AssertionError:
            pass  # already registered: only a guard enforces the mark (check: HG013)
        return target
    if isinstance(target, type):  # View.as_view applies the class's decorators
        target.decorators = [*target.decorators, functools.partial(_enforcing, mark=mark)]  # type: ignore[attr-defined]
        return target
    return _enforcing(target, mark)


def exempt_https(target: Markable) -> Markable:
    """Serve this view, ``View`` class or blueprint over plain HTTP too; returns it.

    For health checks that load balancers and monitors call over HTTP::

        @app.get("/health")
        @exempt_https
        def health(): return "ok"
    """
    set_mark(target, EXEMPT)
    return target


def _enforcing(view: Callable[..., Any], mark: str) -> Callable[..., Any]:
    """Wrap a marked view: its own mark's decision for plain HTTP, HSTS without a guard."""
    find_guard = _GuardFinder()
    decision = decision_for_mark(mark, DECORATOR_NAMES[mark])

    def answer_plain_http(guard: Guard, environ: dict[str, Any]) -> Optional[Any]:
        endpoint = request.endpoint
        # Called from another view (or an error handler), the request was decided for
        # that view's endpoint, not this one.
        routed_here = guard.app.view_functions.get(endpoint) is wrapper
        found = environ.get("werkzeug.request")
        return guard.answer_in_app(environ, endpoint, found, decision, routed_here)

    run = view
    if inspect.iscoroutinefunction(view):
        # The wrapper itself is plain, so Flask calls it directly: it hands an
        # async view to the app's ensure_sync, as Flask would have.
        def run(*args: Any, **kwargs: Any) -> Any:
            return current_app.ensure_sync(view)(*args, **kwargs)

    # The secure path on a guarded app is the common one: a lookup and two checks.
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        environ = request.environ
        guard = find_guard(environ)
        if environ["wsgi.url_scheme"] not in SECURE_SCHEMES:
            answer = answer_plain_http(guard, environ)
            if answer is not None:
                return answer
        elif guard.extension is None:
            return _with_headers(guard, environ, run(*args, **kwargs))
        return run(*args, **kwargs)

    mark_enforcing(wrapper)
    return wrapper


def _with_headers(guard: Guard, environ: dict[str, Any], returned: Any) -> Any:
    """HSTS for a secure response of a marked view on an app without a guard."""
    if not guard.is_active():
        return returned
    response = guard.app.make_response(returned)
    guard.headers.apply(response.headers, environ.get("HTTP_HOST", ""))
    return response


def _blueprint_before() -> Optional[Any]:
    return _guard_of_current_app().enforce_marks()


def _blueprint_after(response: Response) -> Response:
    environ = request.environ
    if environ["wsgi.url_scheme"] in SECURE_SCHEMES:
        guard = _guard_of_current_app()  # a guard's middleware adds the headers itself
        if guard.extension is None and guard.policy.decide(request.endpoint, "").guarded:
            return _with_headers(guard, environ, response)  # type: ignore[no-any-return]
    return response


mark_enforcing(_blueprint_before)


class _GuardFinder:
    """The guard of the app serving the request, kept for the app whose URL map routed it last.

    Found through the request itself (its ``url_rule`` knows its map), so an app
    mounted inside another, or called from another's view, gets its own answer.
    """

    def __init__(self) -> None:
        self._last: tuple[Any, Optional[Guard]] = (None, None)

    def __call__(self, environ: dict[str, Any]) -> Guard:
        url_map = getattr(getattr(environ.get("werkzeug.request"), "url_rule", None), "map", None)
        last_map, guard = self._last
        if guard is None or url_map is not last_map:
            guard = _guard_of_current_app()
            if url_map is not None:
                self._last = (url_map, guard)  # one assignment: threads see a pair
        return guard


def _guard_of_current_app() -> Guard:
    """The app's guard, or the defaults that marks enforce on an app without one."""
    extensions = current_app.extensions
    guard: Optional[Guard] = extensions.get(EXTENSION_KEY) or extensions.get(_DEFAULTS_KEY)
    if guard is None:
        # app_context().app is the app object itself, not the proxy. Racing
        # threads may build two; setdefault keeps one, and it logs once.
        app = current_app.app_context().app
        guard = extensions.setdefault(_DEFAULTS_KEY, default_guard(app))
        guard.log_once(
            "no guard",
            "App %r has views marked @require_https but no HTTPSGuard; they"
            " enforce HTTPS themselves with default options (the app's"
            " HTTPS_GUARD_* config is not read). Add HTTPSGuard(app,"
            " global_mode=False) to configure it.",
            app.name,
        )
    return guard
