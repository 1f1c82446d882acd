"""The ``HTTPSGuard`` extension: the redirect, its global mode, and HSTS.

``init_app`` resolves the options into a :class:`~flask_https_guard.state.GuardState`
and hooks it into the app through Flask's public extension points:

- a ``before_request`` function, first in the app's list, so it runs ahead
  of every other handler (a login prompt is never shown over plain HTTP):
  it redirects plain-HTTP requests that the policy guards;
- a wrapper around ``app.wsgi_app`` that adds HSTS (and ``Secure`` to
  cookies) to the WSGI headers as a secure response starts. It reads the
  scheme from the environ at that moment, after any middleware inside it
  (a ``ProxyFix`` wrapped before or after ``init_app``) has set it, so it
  judges the request as the app did, and it sees every response, error
  pages included;
- Werkzeug's ``ProxyFix`` when ``trusted_proxies`` is set.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Callable, Optional

from flask import Flask, request
from werkzeug.wrappers import Response

from .headers import SecureHeaderRules
from .options import GuardOptions, check_option_names, resolve_options
from .policy import Decision
from .proxies import WSGIApp, install_proxy_trust
from .state import EXTENSION_KEY, GuardState

#: Put in the WSGI environ by the guard, so that a view's own @require_https
#: wrapper knows the app's guard already enforces it.
GUARDED_ENVIRON_KEY = "flask_https_guard.state"


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
        proxy_fix = None
        if options.enabled is not False:
            app.wsgi_app, proxy_fix = install_proxy_trust(app.wsgi_app, options)  # type: ignore[method-assign]
        state = GuardState(app, options, guard=self, proxy_fix=proxy_fix)
        app.extensions[EXTENSION_KEY] = state
        if options.enabled is not False:
            _install_redirect(app, state)
            app.wsgi_app = SecureResponses(app.wsgi_app, app, state)  # type: ignore[method-assign]
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


def _install_redirect(app: Flask, state: GuardState) -> None:
    """Register the redirect as the app's first before_request function.

    Flask runs the app's before_request functions in list order, then the
    blueprints'; index 0 is first whatever is registered before or after.
    """
    config = app.config
    follows_debug = state.options.enabled is None
    answer_insecure = state.answer_insecure

    def redirect_insecure_request() -> Optional[Response]:
        if request.environ["wsgi.url_scheme"] == "https" or (follows_debug and config["DEBUG"]):
            return None
        return answer_insecure(app, request)

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


class SecureResponses:
    """WSGI middleware: HSTS and Secure cookies on every secure response.

    Installed by ``init_app`` around ``app.wsgi_app``. The scheme is read
    when the response starts, from the environ that middleware inside this
    one (ProxyFix) has updated, so it is the scheme the app saw.
    """

    def __init__(self, wsgi_app: WSGIApp, app: Flask, state: GuardState) -> None:
        self.wsgi_app = wsgi_app
        self.state = state
        self._config = app.config
        self._follows_debug = state.options.enabled is None
        options = state.options
        rules = SecureHeaderRules(
            None if options.report_only else options.hsts_policy(),
            options.secure_cookies and not options.report_only,
            options.upgrade_insecure_requests and not options.report_only,
        )
        self._rules = rules if rules else None

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        environ[GUARDED_ENVIRON_KEY] = self.state
        rules = self._rules
        if rules is None:
            return self.wsgi_app(environ, start_response)
        config = self._config
        follows_debug = self._follows_debug

        def start_secure_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if environ["wsgi.url_scheme"] == "https" and not (follows_debug and config["DEBUG"]):
                rules.apply(headers)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_secure_response)
