"""``check_app``: the app's effective configuration, audited for production.

Each check returns a list of findings, empty when all is well; the
findings about HSTS, about the scheme's source and about individual routes
live in modules of their own, those of an app without a guard in
:mod:`.unguarded`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from flask import Flask

from ..state import GuardState, guard_state
from .findings import Finding, first_few
from .hsts_checks import check_hsts
from .proxy_checks import check_scheme_source
from .route_checks import check_exempt_writes, check_talisman, check_unused_skips
from .unguarded import check_unguarded


def check_app(app: Flask) -> list[Finding]:
    """Audit ``app``'s effective configuration for production."""
    state = guard_state(app)
    if state is None:
        return check_unguarded(app)
    findings: list[Finding] = []
    findings += _check_active(app, state)
    findings += _check_report_only(state)
    findings += check_hsts(app, state)
    findings += _check_cookies(app)
    findings += _check_hosts(app, state.options.redirect_host)
    findings += check_exempt_writes(app)
    findings += check_unused_skips(app, state)
    findings += check_scheme_source(app, state)
    findings += _check_permanent(state)
    findings += check_talisman(app, state)
    findings += _check_templates(app, state)
    findings += _check_url_scheme(app, state)
    findings += _check_placement(state)
    return findings


def _check_active(app: Flask, state: GuardState) -> list[Finding]:
    options = state.options
    if options.enabled is False:
        return [
            Finding(
                "HG001",
                "error",
                "The guard is disabled (enabled=False): nothing is redirected and no HSTS is sent.",
                "Remove enabled=False / HTTPS_GUARD_ENABLED for production.",
            )
        ]
    if app.debug:
        level = "warning" if options.enabled else "error"
        return [
            Finding(
                "HG002",
                level,
                "The app runs in debug mode"
                + ("." if options.enabled else ", so the guard is inactive."),
                "Never run production with debug on (FLASK_DEBUG / app.debug).",
            )
        ]
    return []


def _check_report_only(state: GuardState) -> list[Finding]:
    if not state.options.report_only:
        return []
    return [
        Finding(
            "HG016",
            "warning",
            "report_only is on: plain-HTTP requests are logged and signalled, but"
            " none is redirected and no HSTS is sent.",
            "Once the insecure traffic you counted is gone, remove report_only"
            " (HTTPS_GUARD_REPORT_ONLY) to enforce.",
        )
    ]


def _check_cookies(app: Flask) -> list[Finding]:
    if app.config.get("SESSION_COOKIE_SECURE"):
        return []
    return [
        Finding(
            "HG006",
            "warning",
            "SESSION_COOKIE_SECURE is off: the session cookie is also sent over plain HTTP.",
            "Keep secure_cookies=True (the default) or set SESSION_COOKIE_SECURE = True.",
        )
    ]


def _check_hosts(app: Flask, redirect_host: Optional[str]) -> list[Finding]:
    # Each of these limits the host the redirect goes to (state.py).
    if (
        redirect_host is not None
        or app.config.get("TRUSTED_HOSTS")
        or app.config.get("SERVER_NAME")
        or app.url_map.host_matching
    ):
        return []
    return [
        Finding(
            "HG007",
            "warning",
            "No TRUSTED_HOSTS, SERVER_NAME or redirect_host: redirects go to"
            " whatever host the client's Host header names.",
            "Set TRUSTED_HOSTS to the app's host names, or redirect_host.",
        )
    ]


def _check_permanent(state: GuardState) -> list[Finding]:
    if state.options.permanent:
        return []
    return [
        Finding(
            "HG011",
            "info",
            "Redirects are temporary (302/307).",
            "Browsers cache 301/308; switch to permanent=True only when the"
            " site will stay on HTTPS for good.",
        )
    ]


def _check_templates(app: Flask, state: GuardState) -> list[Finding]:
    if state.options.upgrade_insecure_requests or state.options.report_only:
        return []
    templates = _template_names(app)
    if not templates:
        return []
    return [
        Finding(
            "HG015",
            "info",
            f"The app serves templates over https ({first_few(templates)}): an http://"
            " image, script or stylesheet in them is blocked or flagged by browsers as"
            " mixed content.",
            "upgrade_insecure_requests=True sends Content-Security-Policy:"
            " upgrade-insecure-requests, so browsers fetch them over https; it merges"
            " with a CSP header the app already sends.",
        )
    ]


def _template_names(app: Flask) -> Sequence[str]:
    try:
        return sorted(app.jinja_env.list_templates())
    except TypeError:
        # A loader that cannot list its templates.
        return []


def _check_url_scheme(app: Flask, state: GuardState) -> list[Finding]:
    if app.config.get("PREFERRED_URL_SCHEME") != "http" or state.options.report_only:
        return []
    return [
        Finding(
            "HG018",
            "info",
            "PREFERRED_URL_SCHEME is 'http': URLs built outside a request"
            " (url_for(..., _external=True) in CLI commands, e-mails, task queues)"
            " start with http:// and cost every reader a redirect.",
            "Set PREFERRED_URL_SCHEME = 'https'. The guard does not set it for you:"
            " Flask's test client takes its default scheme from it, so every"
            " plain-HTTP test request would silently become an https one.",
        )
    ]


def _check_placement(state: GuardState) -> list[Finding]:
    if state.answers_before_app or state.options.enabled is False:
        return []
    return [
        Finding(
            "HG019",
            "info",
            "app.wsgi_app was already wrapped when the guard was installed, so"
            " middleware inside the guard may still change the scheme: plain HTTP"
            " that reaches the app is redirected from its first before_request"
            " function (request_started receivers run first, and it costs more per"
            " request), and what that middleware answers itself is judged as its"
            " response starts.",
            "For the app's own requests, call init_app before wrapping"
            " app.wsgi_app, or use trusted_proxies instead of your own ProxyFix;"
            " keep inside the guard only middleware that serves content of its"
            " own (static files, mounted apps), since what is wrapped after"
            " init_app is outside the guard.",
        )
    ]
