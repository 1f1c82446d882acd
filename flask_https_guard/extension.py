"""The ``HTTPSGuard`` extension: the redirect, its global mode, and HSTS.

``init_app`` resolves the options into a :class:`~flask_https_guard.state.GuardState`
and wraps ``app.wsgi_app`` (Flask's documented place for middleware) in
:class:`GuardMiddleware`, which works where Django's SecurityMiddleware and
Rails' ActionDispatch::SSL do, before the app:

- a plain-HTTP request that the policy guards is answered there, with the
  redirect (or a 400/403), before any of the app's handlers runs, so a login
  prompt is never shown over plain HTTP; the view's endpoint comes from the
  app's own URL map (``app.create_url_adapter``);
- a secure response gets HSTS (and ``Secure`` on cookies) added to its WSGI
  headers as it starts, so every secure response has them, error pages
  included.

That needs the scheme the app will see. When ``app.wsgi_app`` is already
wrapped at ``init_app`` (a ``ProxyFix`` the user added first), middleware
inside the guard may still change it, so the guard cannot answer early:
the redirect then runs from the app's first ``before_request`` function, and
the headers are added from the scheme as the response starts, by which time
that middleware has set it. Both ways judge the request as the app does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Callable, Optional

from flask import Flask, request
from werkzeug.wrappers import Response

from .headers import SecureHeaderRules
from .options import GuardOptions, check_option_names, resolve_options
from .policy import Decision
from .proxies import WSGIApp, install_proxy_trust
from .state import (
    EXTENSION_KEY,
    JUDGED_ENVIRON_KEY,
    GuardState,
)


class HTTPSGuard:
    """Keep a Flask app on HTTPS.

    In global mode (the default) every plain-HTTP request is redirected to
    the same URL on https: GET and HEAD with 302 (301 when ``permanent``),
    every other method with 307 (308) so the method and body survive. Secure
    responses get ``Strict-Transport-Security`` and ``Secure`` cookies.

    >>> from flask import Flask
    >>> app = Flask(__name__)
    >>> guard = HTTPSGuard(app)
    >>> app.test_client().get("/anything").headers["Location"]
    'https://localhost/anything'

    In an app factory, create the guard once and call ``init_app`` per app::

        guard = HTTPSGuard(trusted_proxies=1)

        def create_app():
            app = Flask(__name__)
            guard.init_app(app)
            return app

    Each keyword is also a config key ``HTTPS_GUARD_<NAME>``; an argument
    wins over the config. Options are checked here and at ``init_app``: a
    wrong name, type or value raises TypeError or ValueError naming it.
    """

    def __init__(self, app: Optional[Flask] = None, **options: Any) -> None:
        check_option_names(options)
        self._explicit_options: dict[str, Any] = dict(options)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Install the guard on ``app``, reading ``app.config``.

        Raises TypeError or ValueError for an invalid option, naming it, and
        RuntimeError if the app already has a guard.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(f"an HTTPSGuard is already installed on app {app.name!r}")
        options = resolve_options(self._explicit_options, app.config)
        if options.enabled is False:
            app.extensions[EXTENSION_KEY] = GuardState(app, options, guard=self)
        else:
            # Nothing wraps the app yet: the guard sees every request as the
            # app will (its own proxy layers go outside it).
            answers_early = _is_unwrapped(app)
            state = GuardState(app, options, guard=self)
            state.answers_before_app = answers_early
            guarded = GuardMiddleware(app.wsgi_app, app, state, answers_early)
            wrapped, state.proxy_fix = install_proxy_trust(guarded, options)
            app.wsgi_app = wrapped  # type: ignore[assignment,method-assign]
            app.extensions[EXTENSION_KEY] = state
            if not answers_early:
                _install_redirect_hook(app, state)
            _adjust_flask_settings(app, state)
        # Imported here: the CLI imports this module. Registered on app.cli so
        # that app.test_cli_runner() finds the commands too.
        from .cli import https_guard

        app.cli.add_command(https_guard)

    def options_for(self, app: Flask) -> GuardOptions:
        """The options in force on ``app``, as resolved by ``init_app``."""
        return self.state_for(app).options

    def decision_for(self, app: Flask, endpoint: Optional[str], path: str) -> Decision:
        """What an insecure request to ``endpoint`` at ``path`` gets on ``app``."""
        return self.state_for(app).policy.decide(endpoint, path)

    def status_for(self, app: Flask, method: str) -> int:
        """The status an insecure, guarded request with ``method`` gets on ``app``."""
        return self.state_for(app).status_for(method)

    def is_active(self, app: Flask) -> bool:
        """Whether the guard acts on ``app`` now (``enabled``, or not in debug)."""
        return self.state_for(app).is_active()

    def state_for(self, app: Flask) -> GuardState:
        """The :class:`~flask_https_guard.state.GuardState` this guard built for ``app``."""
        state = app.extensions.get(EXTENSION_KEY)
        if not isinstance(state, GuardState) or state.guard is not self:
            raise RuntimeError(
                f"this HTTPSGuard is not installed on app {app.name!r}; call init_app(app) first"
            )
        return state


def _is_unwrapped(app: Flask) -> bool:
    """Whether ``app.wsgi_app`` is still the app's own method."""
    return getattr(app.wsgi_app, "__func__", None) is type(app).wsgi_app


def _install_redirect_hook(app: Flask, state: GuardState) -> None:
    """Register the redirect as the app's first before_request function.

    Used when middleware inside the guard may change the scheme. Flask runs
    the app's before_request functions in list order, then the blueprints';
    index 0 is first whatever is registered before or after.
    """
    config = app.config
    follows_debug = state.options.enabled is None
    answer_insecure = state.answer_insecure

    def redirect_insecure_request() -> Optional[Response]:
        environ = request.environ
        if environ["wsgi.url_scheme"] == "https" or (follows_debug and config["DEBUG"]):
            return None
        environ[JUDGED_ENVIRON_KEY] = True
        return answer_insecure(app, request, environ)

    app.before_request_funcs.setdefault(None, []).insert(0, redirect_insecure_request)


def _adjust_flask_settings(app: Flask, state: GuardState) -> None:
    """Flask settings that follow from an active guard, set at init_app.

    Only when the guard acts now and enforces: a session over plain HTTP on
    a LAN or ``*.test`` name keeps working with ``enabled=False``, in debug
    mode, or in report-only mode.
    """
    if not state.is_active() or state.options.report_only:
        return
    if state.options.secure_cookies:
        # The session cookie of an exempt page served over http must not be
        # stored by the browser: with Secure, it is not.
        app.config["SESSION_COOKIE_SECURE"] = True
    # PREFERRED_URL_SCHEME is left alone: Flask's test client takes its
    # default scheme from it, so setting it would turn every plain-HTTP test
    # request into an https one. `flask https-guard check` recommends it.


class GuardMiddleware:
    """WSGI middleware: the redirect of plain HTTP and the headers of secure responses.

    Installed by ``init_app`` around ``app.wsgi_app``; see the module's
    docstring for what it does and when it answers before the app.
    """

    def __init__(
        self, wsgi_app: WSGIApp, app: Flask, state: GuardState, answers_early: bool
    ) -> None:
        self.wsgi_app = wsgi_app
        self.app = app
        self.state = state
        #: True when nothing sits between this middleware and Flask, so the
        #: scheme seen here is the app's and plain HTTP is answered here.
        self.answers_early = answers_early
        options = state.options
        rules = SecureHeaderRules(
            None if options.report_only else options.hsts_policy(),
            options.secure_cookies and not options.report_only,
            options.upgrade_insecure_requests and not options.report_only,
        )
        self._rules = rules if rules else None
        self._follows_debug = options.enabled is None
        self._config = app.config

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if not self.answers_early:
            return self._serve_from_inside(environ, start_response)
        if environ["wsgi.url_scheme"] != "https":
            return self._serve_plain_http(environ, start_response)
        # The secure path, the one most requests take: kept to one closure.
        rules = self._rules
        if rules is None or (self._follows_debug and self._config["DEBUG"]):
            return self.wsgi_app(environ, start_response)

        def start_secure_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            rules.apply(headers)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_secure_response)

    def _serve_plain_http(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        answer = self.state.answer_before_app(self.app, environ)
        if answer is not None:
            return answer(environ, start_response)
        return self.wsgi_app(environ, start_response)

    def _secure_start_response(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Callable[..., Any]:
        rules = self._rules
        if rules is None:
            return start_response
        config = self._config
        follows_debug = self._follows_debug

        def start_secure_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            # Read now: middleware inside this one has set the scheme.
            if environ["wsgi.url_scheme"] == "https" and not (follows_debug and config["DEBUG"]):
                rules.apply(headers)
            return start_response(status, headers, exc_info)

        return start_secure_response

    def _serve_from_inside(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Serve when middleware sits between this one and the app.

        The app's first before_request function redirects what reaches the
        app. What the middleware inside answers by itself (a mounted app,
        static files) never reaches that function, so its response is judged
        as it starts, once that middleware has set the scheme: a plain-HTTP
        response the guard did not judge is replaced with the redirect (or
        400/403) the policy gives its path.
        """
        replacement: list[WSGIApp] = []
        started: list[bool] = []
        start_secure_response = self._secure_start_response(environ, start_response)

        def start_judged_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started.append(True)
            if environ["wsgi.url_scheme"] != "https" and JUDGED_ENVIRON_KEY not in environ:
                answer = self.state.answer_before_app(self.app, environ, routed=False)
                if answer is not None:
                    replacement.append(answer)
                    return _discard
            return start_secure_response(status, headers, exc_info)

        body = self.wsgi_app(environ, start_judged_response)
        if replacement:
            _close(body)
            return replacement[0](environ, start_response)
        if started:
            return body  # as it is, so a server's file wrapper still works
        return _ReplaceableBody(body, replacement, environ, start_response)


def _discard(data: bytes) -> None:
    """The write() callable of a response that is being replaced."""


def _close(body: Iterable[bytes]) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        close()


class _ReplaceableBody:
    """The body of a response whose start may still be replaced.

    A WSGI app may call start_response only when its body is first iterated;
    if that call was replaced, the replacement's body is sent instead.
    """

    def __init__(
        self,
        body: Iterable[bytes],
        replacement: list[WSGIApp],
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> None:
        self._body = body
        self._replacement = replacement
        self._environ = environ
        self._start_response = start_response

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._body)
        first = next(chunks, None)
        if self._replacement:
            _close(self._body)
            yield from self._replacement[0](self._environ, self._start_response)
            return
        if first is not None:
            yield first
        yield from chunks

    def close(self) -> None:
        _close(self._body)
