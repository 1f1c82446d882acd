"""The decision point: one app's :class:`Guard`, and :class:`GuardMiddleware` that applies it.

The middleware decides each request once, as it arrives, outside everything
``init_app`` found; ``@require_https`` wrappers call the same :meth:`Guard.answer`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Optional, Union

from flask import request
from werkzeug.exceptions import Forbidden, HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from .headers import SecureHeaders
from .location import InvalidHost, RedirectTarget, is_local_host, is_trusted, split_host
from .options import GuardOptions
from .policy import Decision, Policy, status_for
from .proxies import Environ, WSGIApp, loop_hint
from .signals import insecure_request

logger = logging.getLogger("flask_https_guard")

EXTENSION_KEY = "https_guard"
#: environ key: the guard and endpoint the middleware decided a plain-HTTP request on.
DECIDED = "flask_https_guard.decided"
#: ``wss`` is what ProxyFix sets for ``X-Forwarded-Proto: wss`` (a TLS websocket).
SECURE_SCHEMES = ("https", "wss")


class InsecureRequestRefused(Forbidden):
    """403 for a plain-HTTP request the guard refuses instead of redirecting."""

    description = (
        "HTTPS is required. This request was sent over plain HTTP and was not"
        " processed; its contents (and credentials) may already have been seen"
        " on the network. Send it again over HTTPS."
    )


class InsecureWebSocketRefused(Forbidden):
    """403 for a plain ``ws://`` handshake: clients do not follow redirects there."""

    description = "WebSocket over plain HTTP is refused; connect with wss:// instead."


class Redirect:
    """A redirect as a bare WSGI app: the Location is already safe for a header (see
    :mod:`.location`), so none of a framework response's work is needed."""

    __slots__ = ("location", "status")

    def __init__(self, status: int, location: str) -> None:
        self.status = status
        self.location = location

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        status = f"{self.status} {HTTP_STATUS_CODES[self.status].upper()}"  # as Werkzeug writes it
        start_response(status, [("Location", self.location), ("Content-Length", "0")])
        return []


class Guard:
    """One app's guard: its options resolved once, its decisions and its answers."""

    def __init__(self, app: Any, options: GuardOptions, extension: Any = None) -> None:
        self.app = app
        self.options = options
        #: The HTTPSGuard that installed it; None for the defaults of marks without one.
        self.extension = extension
        self.policy = Policy(app, options.global_mode, options.skips)
        self.target = RedirectTarget(app, options.redirect_host, options.redirect_port)
        enforcing = not options.report_only
        self.headers = SecureHeaders(
            options.hsts_policy() if enforcing else None,
            options.secure_cookies and enforcing,
            options.upgrade_insecure_requests and enforcing,
        )
        #: Middleware found inside the guard at init_app, outermost first, and
        #: whether the guard saw through all of it to the app.
        self.inner_layers: list[Any] = []
        self.sees_app = True
        #: What init_app set as ``app.wsgi_app``: anything around it came later.
        self.outermost: Any = None
        self._lock = threading.Lock()
        self._logged: set[Any] = set()

    # --- when and what ---------------------------------------------------

    def is_active(self) -> bool:
        """Whether the guard acts now: ``enabled``, or (``None``) outside debug mode."""
        enabled = self.options.enabled
        if enabled is not None:
            return enabled  # type: ignore[no-any-return]
        if self.app.config["DEBUG"]:
            self.log_once(
                "debug",
                "App %r is in debug mode, so the guard steps aside: plain HTTP is"
                " served and no HSTS is sent. Pass enabled=True (or set"
                " HTTPS_GUARD_ENABLED=True) to keep it on.",
                self.app.name,
            )
            return False
        return True

    def route(self, environ: Environ) -> tuple[Any, Optional[str]]:
        """The request as a Flask request object, and its endpoint in the app's URL map."""
        request = self.app.request_class(environ)
        try:
            request.url_rule, request.view_args = self.app.create_url_adapter(request).match(
                return_rule=True
            )
        except HTTPException:
            return request, None  # not found, wrong method, untrusted Host: no endpoint
        return request, request.url_rule.endpoint

    def answer(
        self,
        environ: Environ,
        endpoint: Optional[str],
        request: Any = None,
        decision: Optional[Decision] = None,
    ) -> Union[Redirect, HTTPException, None]:
        """The one decision for a plain-HTTP request: None to serve it, else the answer.

        The answer is a redirect, or an HTTP error (400 for a Host the app does
        not own, 403 for a refusal or a ``ws://`` handshake).
        """
        if decision is None:
            decision = self.policy.decide(endpoint, environ.get("PATH_INFO", ""))
        if not decision.guarded:
            return None
        options = self.options
        if request is None and (options.exempt_when or insecure_request.receivers):
            request = self.app.request_class(environ)
        if options.exempt_when is not None and self._exempt(request):
            return None
        if insecure_request.receivers:
            insecure_request.send(self.app, request=request, decision=decision)
        if options.report_only:
            self._report(environ, endpoint, decision)
            return None
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            return InsecureWebSocketRefused()
        status = status_for(
            environ["REQUEST_METHOD"], options.permanent, options.refuse_insecure_writes
        )
        if (
            decision.refuse
            or status == 403
            or (options.refuse_credentials and "HTTP_AUTHORIZATION" in environ)
        ):
            return InsecureRequestRefused()
        try:
            location = self.target.url(environ)
        except InvalidHost as error:
            return error
        hint = loop_hint(environ, options)
        if hint is not None:
            self._warn_loop(hint)
        return Redirect(status, location)

    def answer_in_app(
        self,
        environ: Environ,
        endpoint: Optional[str],
        request: Any,
        decision: Optional[Decision] = None,
        routed_here: bool = True,
    ) -> Any:
        """:meth:`answer` for a plain-HTTP request that reached a marked view inside the app.

        Only a mark decides here (``decision``, else the endpoint's). Where this
        request was already decided for this endpoint (by the middleware, or an
        earlier check in the app), it was served on purpose (report-only,
        ``exempt_when``). Elsewhere the mark still holds: no guard, an app
        mounted under a prefix in its own ``wsgi_app``, or (not ``routed_here``)
        a marked view called from another view.

        None to serve it, else the app's own redirect response; errors are
        raised, so the app's error handlers render them.
        """
        if decision is None:
            decision = self.policy.marked(endpoint)
        if decision is None or not decision.guarded or not self.is_active():
            return None
        if routed_here and environ.get(DECIDED) == (self, endpoint):
            return None
        answer = self.answer(environ, endpoint, request, decision)
        if answer is None:
            if routed_here:
                environ[DECIDED] = (self, endpoint)
            return None
        if isinstance(answer, HTTPException):
            raise answer
        response = self.app.response_class(status=answer.status)  # from a Redirect
        response.headers["Location"] = answer.location
        return response

    def enforce_marks(self) -> Any:
        """Hold the request's marks from inside the app (a ``before_request`` function).

        For marked blueprints, and on apps whose routing the middleware cannot
        see as Flask will (a prefix mount or unknown middleware inside the
        guard), where marks without a wrapper of their own must still hold.
        """
        environ = request.environ
        if environ["wsgi.url_scheme"] in SECURE_SCHEMES:
            return None
        return self.answer_in_app(environ, request.endpoint, environ.get("werkzeug.request"))

    def canonical_answer(self, environ: Environ) -> Optional[WSGIApp]:
        """The permanent redirect of a secure request to ``canonical_host``, or None."""
        canonical = self.options.canonical_host
        split = split_host(environ.get("HTTP_HOST", ""))
        if split is None or split[0] == canonical or is_local_host(split[0]):
            return None
        name = split[0].strip("[]")
        if name.replace(".", "").isdigit() or ":" in name:  # IP literals: health checks
            return None
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            return None
        owned = self.target.owned_hosts()
        if owned and not is_trusted(split[0], owned):
            return None  # not a host the app accepts: Flask answers it
        if not owned and "." not in name:
            return None  # a single-label name: a proxy's upstream ("backend"), not a site
        forwarded = environ.get("HTTP_X_FORWARDED_HOST", "").rpartition(",")[2].strip().lower()
        if forwarded.partition(":")[0] == canonical:
            # The proxy says the client asked for the canonical host: redirecting
            # would send it back here, forever.
            self._warn_loop(
                f"Host is {environ.get('HTTP_HOST')!r} but X-Forwarded-Host says"
                f" {forwarded!r}, the canonical host: the proxy rewrites Host. Trust"
                " it with trusted_proxy_headers=['x_host'] (and trusted_proxies)."
            )
            return None
        _, endpoint = self.route(environ)
        if not self.policy.decide(endpoint, environ.get("PATH_INFO", "")).guarded:
            return None
        target = RedirectTarget(self.app, canonical, self.options.redirect_port)
        return Redirect(status_for(environ["REQUEST_METHOD"], True), target.url(environ))

    # --- logged once -------------------------------------------------------

    def log_once(self, key: Any, message: str, *args: Any) -> None:
        with self._lock:
            if key in self._logged:
                return
            self._logged.add(key)
        logger.warning(message, *args)

    def _exempt(self, request: Any) -> bool:
        predicate = self.options.exempt_when
        try:
            return bool(predicate(request))
        except Exception as error:  # a broken predicate must not turn into a 500
            self.log_once(
                "exempt_when",
                "exempt_when predicate %s raised %r; the request is treated as not"
                " exempt. It runs before the app, without an app context: use the"
                " request it is given, not flask.request or current_app. (logged once)",
                getattr(predicate, "__qualname__", repr(predicate)),
                error,
            )
            return False

    def _report(self, environ: Environ, endpoint: Optional[str], decision: Decision) -> None:
        self.log_once(
            ("report", endpoint),
            "report_only: %s %r (endpoint %s) arrived over plain HTTP and would be"
            " redirected to https (%s). Logged once per endpoint.",
            environ["REQUEST_METHOD"],
            environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
            endpoint or "unrouted",
            decision.reason,
        )

    def _warn_loop(self, hint: str) -> None:
        if not self.sees_app:
            hint += (
                " The guard cannot see inside this middleware, which wrapped the app"
                f" before init_app: {', '.join(describe_layer(x) for x in self.inner_layers)};"
                " if it sets the scheme, install it after HTTPSGuard or use trusted_proxies."
            )
        self.log_once(
            "loop",
            "App %r is redirecting a plain-HTTP request to https although the"
            " request's headers say it arrived over https; if so, clients loop. %s"
            " (logged once)",
            self.app.name,
            hint,
        )


def describe_layer(layer: Any) -> str:
    """A middleware's class name, for messages."""
    cls = layer if isinstance(layer, type) else type(layer)
    if cls.__name__ == "function":
        return getattr(layer, "__qualname__", "a function")
    return f"{cls.__module__}.{cls.__qualname__}"


class GuardMiddleware:
    """WSGI middleware: the guard's decision, in front of everything ``init_app`` found."""

    def __init__(
        self, wsgi_app: WSGIApp, guard: Guard, view: Optional[Callable[[Environ], Environ]]
    ) -> None:
        self.wsgi_app = wsgi_app
        self.guard = guard
        #: The request as an adopted ProxyFix inside will present it; None: as it comes.
        self.view = view
        self.headers = guard.headers if guard.headers else None
        self.follows_debug = guard.options.enabled is None
        self.config = guard.app.config
        # Report-only mode redirects nothing, to the canonical host neither.
        self.canonical = None if guard.options.report_only else guard.options.canonical_host

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Any:
        seen = environ if self.view is None else self.view(environ)
        if seen["wsgi.url_scheme"] not in SECURE_SCHEMES:
            return self.serve_plain_http(environ, seen, start_response)
        # The secure path, the one most requests take: kept to a few lines.
        if self.follows_debug and self.config["DEBUG"] and not self.guard.is_active():
            return self.wsgi_app(environ, start_response)
        serve = self.wsgi_app
        if self.canonical is not None and seen.get("HTTP_HOST") != self.canonical:
            serve = self.guard.canonical_answer(seen) or serve
        headers = self.headers
        if headers is None:
            return serve(environ, start_response)
        host = seen.get("HTTP_HOST", "")

        def start_secure_response(status: str, header_list: Any, exc_info: Any = None) -> Any:
            headers.apply(header_list, host)
            return start_response(status, header_list, exc_info)

        return serve(environ, start_secure_response)

    def serve_plain_http(
        self, environ: Environ, seen: Environ, start_response: Callable[..., Any]
    ) -> Any:
        guard = self.guard
        if guard.is_active():
            request, endpoint = guard.route(seen)
            answer = guard.answer(seen, endpoint, request)
            if answer is not None:
                return answer(environ, start_response)
            environ[DECIDED] = (guard, endpoint)
        return self.wsgi_app(environ, start_response)
