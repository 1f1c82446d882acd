"""The guard as installed on one app: everything a request needs, resolved once.

``HTTPSGuard.init_app`` builds one :class:`GuardState` per app and stores it
in ``app.extensions["https_guard"]``. Its options never change afterwards;
the only things it fills in later are memos (a view's decision, the hosts it
has accepted) and once-only warnings. Two apps in one process, or one
``HTTPSGuard`` used by an app factory, each get their own.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Optional

from flask import Flask, Request
from werkzeug.exceptions import Forbidden, HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from .location import RedirectTarget, named_hosts
from .loop_hints import loop_hint
from .options import GuardOptions
from .policy import Decision, Policy
from .proxies import WSGIApp
from .signals import insecure_request

if TYPE_CHECKING:
    from .extension import HTTPSGuard

logger = logging.getLogger("flask_https_guard")

EXTENSION_KEY = "https_guard"

#: Set by the in-app redirect hook on the plain-HTTP requests it judged.
JUDGED_ENVIRON_KEY = "flask_https_guard.judged"

#: Methods that are redirected with 302/301; every other method gets 307/308
#: so that the method and the body survive (RFC 9110 15.4).
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: Methods that ``reject_insecure_writes`` still redirects.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class InsecureWriteRejected(Forbidden):
    """An insecure write refused under ``reject_insecure_writes=True``."""

    description = (
        "HTTPS is required. This request was sent over plain HTTP and was not"
        " processed: its contents may already have been seen on the network."
        " Send it again over HTTPS."
    )


class GuardState:
    """One app's guard: options, per-endpoint decisions and the redirect."""

    def __init__(
        self,
        app: Flask,
        options: GuardOptions,
        guard: Optional[HTTPSGuard] = None,
        proxy_fix: Optional[ProxyFix] = None,
    ) -> None:
        #: The HTTPSGuard that installed this state (None for the defaults
        #: that @require_https applies on an app without one).
        self.guard = guard
        self.app = app
        self.app_name = app.name
        self.options = options
        self.policy = Policy(app, options.global_mode, options.skips)
        #: The ProxyFix the guard installed for ``trusted_proxies``, if any
        #: (set by ``init_app`` once it has wrapped the app).
        self.proxy_fix = proxy_fix
        #: True when plain HTTP is answered before the app runs, False when
        #: from its first before_request function (set by ``init_app``).
        self.answers_before_app = False
        self.redirect_target = RedirectTarget(options.redirect_host, options.redirect_port)
        self.hsts = options.hsts_policy()
        self._config = app.config
        self._lock = threading.Lock()
        self._loop_warned = False
        self._reported_endpoints: set[Optional[str]] = set()
        self._named_hosts: tuple[Any, tuple[str, ...]] = (None, ())

    def is_active(self) -> bool:
        """Whether the guard acts now: ``enabled``, or not in debug mode."""
        enabled = self.options.enabled
        return not self._config["DEBUG"] if enabled is None else enabled

    def status_for(self, method: str) -> int:
        """The status an insecure, guarded request with ``method`` gets:
        302/301 for GET and HEAD, 307/308 otherwise, 403 for a write refused
        by ``reject_insecure_writes``."""
        options = self.options
        if method in SAFE_METHODS:
            return 301 if options.permanent else 302
        if options.reject_insecure_writes and method not in READ_METHODS:
            return InsecureWriteRejected.code
        return 308 if options.permanent else 307

    def answer_before_app(
        self, app: Flask, environ: dict[str, Any], routed: bool = True
    ) -> Optional[WSGIApp]:
        """The answer to a plain-HTTP request, given outside the app.

        A redirect, a 400 or a 403 as a WSGI application, or None to let the
        request be served. With ``routed``, the endpoint comes from the app's
        URL map, the way Flask itself will match it; without, the request is
        one that middleware answered without the app, and has no endpoint.
        """
        if not self.is_active():
            return None
        request = app.request_class(environ)
        request.url_rule = _matching_rule(app, request) if routed else None
        try:
            return self.answer_insecure(app, request, environ)
        except HTTPException as refusal:
            return refusal

    def answer_insecure(
        self, app: Flask, request: Request, environ: dict[str, Any]
    ) -> Optional[Response]:
        """The answer to a plain-HTTP request: a redirect, a 403, or None to serve it.

        ``request`` is the request (``flask.request`` inside the app);
        ``environ`` its WSGI environ. Raises an HTTPException for a 400 or 403.
        """
        rule = request.url_rule
        endpoint = rule.endpoint if rule is not None else None
        decision = self.policy.decide(endpoint, environ.get("PATH_INFO", ""))
        if not decision.guarded:
            return None
        if insecure_request.receivers:
            insecure_request.send(app, request=request, decision=decision)
        if self.options.report_only:
            self._report_once(endpoint, environ, decision)
            return None
        return self.redirect(app, environ)

    def redirect(self, app: Flask, environ: dict[str, Any]) -> Response:
        """The redirect (or 403) for a guarded plain-HTTP request."""
        status = self.status_for(environ["REQUEST_METHOD"])
        if status == InsecureWriteRejected.code:
            raise InsecureWriteRejected()
        trusted_hosts = self._config.get("TRUSTED_HOSTS") or self._hosts_the_app_names()
        location = self.redirect_target.url(environ, trusted_hosts)
        if not self._loop_warned:
            self._warn_if_loop(environ)
        return app.response_class(
            status=status, headers=[("Location", location), ("Content-Length", "0")]
        )

    def _hosts_the_app_names(self) -> tuple[str, ...]:
        """The hosts the app's own config names, for apps without TRUSTED_HOSTS.

        ``SERVER_NAME`` (and its subdomains with ``subdomain_matching``), or
        the hosts of the rules of a ``host_matching`` app: Flask builds its
        own external URLs on them, so a redirect to any other Host is refused
        rather than reflected.
        """
        app = self.app
        server_name = app.config.get("SERVER_NAME")
        if app.url_map.host_matching:
            key: Any = ("rules", len(app.view_functions))
        elif server_name:
            key = (server_name, app.subdomain_matching)
        else:
            return ()
        cached_key, hosts = self._named_hosts
        if cached_key != key:
            hosts = named_hosts(app)
            self._named_hosts = (key, hosts)  # one assignment: threads see a pair
        return hosts

    def _warn_if_loop(self, environ: dict[str, Any]) -> None:
        hint = loop_hint(environ, self.options)
        if hint is None:
            return
        with self._lock:
            if self._loop_warned:
                return
            self._loop_warned = True
        logger.warning(
            "App %r is redirecting a plain-HTTP request to https although the"
            " request's headers say it arrived over https; if so, clients loop."
            " %s (logged once)",
            self.app_name,
            hint,
        )

    def _report_once(
        self, endpoint: Optional[str], environ: dict[str, Any], decision: Decision
    ) -> None:
        with self._lock:
            if endpoint in self._reported_endpoints:
                return
            self._reported_endpoints.add(endpoint)
        logger.warning(
            "report_only: %s %r (endpoint %s) arrived over plain HTTP and would be"
            " redirected to https (%s). Logged once per endpoint.",
            environ["REQUEST_METHOD"],
            environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
            endpoint or "unrouted",
            decision.reason,
        )


def _matching_rule(app: Flask, request: Request) -> Optional[Rule]:
    try:
        rule, _ = app.create_url_adapter(request).match(return_rule=True)  # type: ignore[union-attr]
    except HTTPException:
        # Not found, wrong method, an untrusted Host: no endpoint, as in
        # Flask, where request.url_rule is None for them.
        return None
    return rule


def guard_state(app: Flask) -> Optional[GuardState]:
    """The state ``HTTPSGuard.init_app`` stored on ``app``, or None."""
    state = app.extensions.get(EXTENSION_KEY)
    return state if isinstance(state, GuardState) else None
