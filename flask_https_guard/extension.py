"""The ``HTTPSGuard`` extension: the redirect, its global mode, and HSTS.

Everything a request needs is resolved in ``init_app``: options are checked
and frozen, the HSTS value is built, the scheme test is chosen for the
configured proxy trust. Per request, the guard does a few dictionary
lookups; a view's policy is decided the first time the endpoint is seen.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any, Optional

from flask import Flask, Request, request
from flask import Response as FlaskResponse
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response

from .headers import apply_secure_headers
from .location import https_url, uri_safe_redirect_class
from .options import GuardOptions, check_option_names, resolve_options
from .policy import Decision, Policy
from .scheme import (
    TrustedProxyScheme,
    carries_proxy_header,
    make_secure_test,
    wsgi_scheme_is_https,
)

logger = logging.getLogger("flask_https_guard")

try:
    # The context variable behind `flask.request` (Flask 2.2+). Reading it
    # directly skips the proxy's lookup, on a path every request takes.
    from flask.globals import _cv_request

    def current_request() -> Request:
        """The request being handled."""
        return _cv_request.get().request

except ImportError:  # pragma: no cover - a Flask that moved it
    current_request = request._get_current_object  # type: ignore[attr-defined]

#: Methods that are redirected with 302/301; every other method gets 307/308
#: so that the method and the body survive (RFC 9110 15.4).
_SAFE_METHODS = frozenset({"GET", "HEAD"})
#: Methods that ``reject_insecure_writes`` still redirects.
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class InsecureWriteRejected(Forbidden):
    """An insecure write refused under ``reject_insecure_writes=True``."""

    description = (
        "HTTPS is required. This request was sent over plain HTTP and was not"
        " processed: its contents may already have been seen on the network."
        " Send it again over HTTPS."
    )


class HTTPSGuard:
    """Keep a Flask app on HTTPS.

    In global mode (the default) every plain-HTTP request is redirected to
    the same URL on https: GET and HEAD with 302 (301 when ``permanent``),
    every other method with 307 (308) so the method and body survive. Secure
    responses get ``Strict-Transport-Security`` and ``Secure`` cookies.

    ::

        app = Flask(__name__)
        HTTPSGuard(app)

        # or, in an app factory
        guard = HTTPSGuard(trusted_proxies=1)
        def create_app():
            app = Flask(__name__)
            guard.init_app(app)
            return app

    Each keyword is also a config key ``HTTPS_GUARD_<NAME>``; an argument
    wins over the config. See the README for the list of options.
    """

    def __init__(self, app: Optional[Flask] = None, **options: Any) -> None:
        check_option_names(options)
        self._explicit_options: dict[str, Any] = dict(options)
        self._app_guards: weakref.WeakKeyDictionary[Flask, _AppGuard] = weakref.WeakKeyDictionary()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Install the guard on ``app``, reading ``app.config``.

        Raises TypeError or ValueError for an invalid option, naming it.
        """
        if "https_guard" in app.extensions:
            raise RuntimeError(f"an HTTPSGuard is already installed on app {app.name!r}")
        options = resolve_options(self._explicit_options, app.config)
        app_guard = _AppGuard(app, options, scheme_set_by_middleware=True)
        if options.trusted_proxies and options.enabled is not False:
            # Fix the scheme before Flask builds the request, so the app's own
            # request.scheme and url_for(_external=True) say https too.
            app.wsgi_app = TrustedProxyScheme(app.wsgi_app, options.trusted_proxies)  # type: ignore[method-assign]
        if options.secure_cookies:
            # The session cookie is written after the after_request hooks,
            # so its Secure flag has to come from Flask's own setting.
            app.config["SESSION_COOKIE_SECURE"] = True
        if options.enabled is not False:
            app_guard.wrap_request_processing()
        self._app_guards[app] = app_guard
        app.extensions["https_guard"] = self

    def options_for(self, app: Flask) -> GuardOptions:
        """The options in force on ``app``, as resolved by ``init_app``."""
        return self._app_guard(app).options

    def decision_for(self, app: Flask, endpoint: Optional[str], path: str) -> Decision:
        """What an insecure request to ``endpoint`` at ``path`` gets on ``app``."""
        return self._app_guard(app).policy.decide(endpoint, path)

    def status_for(self, app: Flask, method: str) -> int:
        """The status an insecure, guarded request with ``method`` gets on ``app``:
        302/301 for GET and HEAD, 307/308 otherwise, 403 for a write refused
        by ``reject_insecure_writes``."""
        return self._app_guard(app).status_for(method)

    def is_active(self, app: Flask) -> bool:
        """Whether the guard acts on ``app`` now (``enabled``, or not in debug)."""
        return self._app_guard(app).is_active()

    def _app_guard(self, app: Flask) -> _AppGuard:
        try:
            return self._app_guards[app]
        except KeyError:
            raise RuntimeError(
                f"this HTTPSGuard is not installed on app {app.name!r}; call init_app(app) first"
            ) from None


class _AppGuard:
    """The guard as installed on one app: resolved options and the hooks."""

    def __init__(
        self,
        app: Flask,
        options: GuardOptions,
        scheme_set_by_middleware: bool,
        is_fallback: bool = False,
    ) -> None:
        self.app = app
        self.options = options
        self.policy = Policy(app, options.global_mode, options.skips)
        self._is_secure = (
            wsgi_scheme_is_https
            if scheme_set_by_middleware
            else make_secure_test(options.trusted_proxies)
        )
        self._hsts = options.hsts_policy()
        self._redirect_class = uri_safe_redirect_class(app.response_class)
        self._watch_untrusted_headers = options.trusted_proxies == 0
        self._warn_missing_guard = is_fallback
        self._warning_lock = threading.Lock()

    def is_active(self) -> bool:
        """Whether the guard acts now: ``enabled``, or not in debug mode."""
        enabled = self.options.enabled
        return not self.app.debug if enabled is None else enabled

    def wrap_request_processing(self) -> None:
        """Wrap the app's ``preprocess_request`` and ``process_response``.

        ``preprocess_request`` runs the URL value preprocessors and then every
        before_request handler of the app and its blueprints; wrapping it puts
        the redirect ahead of all of them, whatever their registration order.
        A basic-auth handler that ran first would ask for credentials in
        clear. ``process_response`` runs every after_request handler and
        saves the session; wrapping it lets the headers go on last, on the
        final response. Wrapping these two methods also costs a fraction of
        a before_request/after_request pair, which Flask calls through
        ``ensure_sync`` on every request (see BENCHMARKS.md).
        """
        app = self.app
        run_before_request_handlers = app.preprocess_request
        run_after_request_handlers = app.process_response
        # Everything the closures read is bound here, once. The scheme test
        # is inline: with trusted_proxies, TrustedProxyScheme has already
        # set wsgi.url_scheme from the proxy's report.
        config = app.config
        follows_debug = self.options.enabled is None
        answer_insecure = self._answer_insecure
        hsts = self._hsts
        secure_cookies = self.options.secure_cookies
        adds_headers = hsts is not None or secure_cookies

        def preprocess_request() -> Any:
            current = current_request()
            if current.environ.get("wsgi.url_scheme") != "https" and not (
                follows_debug and config["DEBUG"]
            ):
                answer = answer_insecure(current)
                if answer is not None:
                    return answer
            return run_before_request_handlers()

        def process_response(response: FlaskResponse) -> FlaskResponse:
            response = run_after_request_handlers(response)
            if (
                adds_headers
                and current_request().environ.get("wsgi.url_scheme") == "https"
                and not (follows_debug and config["DEBUG"])
            ):
                apply_secure_headers(response.headers, hsts, secure_cookies)
            return response

        app.preprocess_request = preprocess_request  # type: ignore[method-assign]
        app.process_response = process_response  # type: ignore[method-assign]

    def answer_insecure_request(self, current: Request) -> Optional[Response]:
        """The redirect (or refusal) for an insecure request; None otherwise."""
        if self._is_secure(current.environ) or not self.is_active():
            return None
        return self._answer_insecure(current)

    def _answer_insecure(self, current: Request) -> Optional[Response]:
        environ = current.environ
        if self._watch_untrusted_headers and carries_proxy_header(environ):
            self._warn_untrusted_proxy_header()
        rule = current.url_rule
        endpoint = rule.endpoint if rule is not None else None
        if not self.policy.decide(endpoint, environ.get("PATH_INFO", "")).guarded:
            return None
        if self._warn_missing_guard:
            self._warn_once_missing_guard()
        return self._redirect_or_refuse(environ, current.method)

    def status_for(self, method: str) -> int:
        """The status an insecure, guarded request with ``method`` gets."""
        options = self.options
        if method in _SAFE_METHODS:
            return 301 if options.permanent else 302
        if options.reject_insecure_writes and method not in _READ_METHODS:
            return InsecureWriteRejected.code
        return 308 if options.permanent else 307

    def _redirect_or_refuse(self, environ: dict[str, Any], method: str) -> Response:
        status = self.status_for(method)
        if status == InsecureWriteRejected.code:
            raise InsecureWriteRejected()
        options = self.options
        location = https_url(
            environ,
            options.redirect_host,
            options.redirect_port,
            self.app.config.get("TRUSTED_HOSTS"),
        )
        response = self._redirect_class(
            status=status, headers=[("Location", location), ("Content-Length", "0")]
        )
        response.built_location = location  # type: ignore[attr-defined]
        return response

    def _warn_once_missing_guard(self) -> None:
        if self._claim_warning("_warn_missing_guard"):
            logger.warning(
                "App %r has views marked @require_https but no HTTPSGuard; they"
                " are redirected with default options but get no HSTS header."
                " Add HTTPSGuard(app, global_mode=False).",
                self.app.name,
            )

    def _warn_untrusted_proxy_header(self) -> None:
        if self._claim_warning("_watch_untrusted_headers"):
            logger.warning(
                "A plain-HTTP request to app %r carries X-Forwarded-Proto or"
                " Forwarded, but trusted_proxies is 0, so the guard ignores them"
                " and redirects. If the app runs behind a proxy that terminates"
                " TLS, set trusted_proxies (HTTPS_GUARD_TRUSTED_PROXIES) to the"
                " number of proxies, or requests will loop between http and https.",
                self.app.name,
            )

    def _claim_warning(self, flag: str) -> bool:
        """True for exactly one caller: the flag is cleared under the lock."""
        with self._warning_lock:
            if not getattr(self, flag):
                return False
            setattr(self, flag, False)
            return True


# --- @require_https on an app without HTTPSGuard ----------------------------

_fallback_lock = threading.Lock()


def fallback_guard_for(app: Flask) -> _AppGuard:
    """The guard that enforces @require_https on an app that has none.

    Built on first use from the app's config with ``global_mode=False``. The
    first time it redirects, it logs a warning, so the missing HTTPSGuard
    gets noticed.
    """
    key = "https_guard_fallback"
    app_guard = app.extensions.get(key)
    if app_guard is None:
        with _fallback_lock:
            app_guard = app.extensions.get(key)
            if app_guard is None:
                options = resolve_options({"global_mode": False}, app.config)
                app_guard = app.extensions[key] = _AppGuard(
                    app, options, scheme_set_by_middleware=False, is_fallback=True
                )
    return app_guard
