"""What the ``flask https-guard`` commands report, as plain data.

``route_policies`` asks the installed guard for each URL rule's decision,
the same call the request hooks make, so the audit cannot drift from what
requests get. ``check_app`` audits the effective configuration for
production, in the spirit of Django's ``check --deploy``; each finding has a
stable ID that scripts and docs can refer to.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Rule

from .extension import HTTPSGuard
from .headers import PRELOAD_MIN_MAX_AGE

LEVELS = ("info", "warning", "error")
_HIDDEN_METHODS = {"HEAD", "OPTIONS"}
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class RoutePolicy:
    """What a plain-HTTP request to one URL rule gets."""

    rule: str
    endpoint: str
    methods: list[str]
    #: "redirect", "reject", "redirect+reject", "exempt" or "not guarded".
    policy: str
    #: The status each method gets over plain HTTP, when guarded.
    statuses: dict[str, int]
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Finding:
    """One result of the deploy check."""

    id: str
    level: str
    message: str
    hint: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def installed_guard(app: Flask) -> Optional[HTTPSGuard]:
    """The HTTPSGuard installed on ``app``, if any."""
    guard = app.extensions.get("https_guard")
    return guard if isinstance(guard, HTTPSGuard) else None


def route_policies(app: Flask, guard: HTTPSGuard) -> list[RoutePolicy]:
    """One entry per URL rule, sorted by rule."""
    active = guard.is_active(app)
    policies = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)):
        methods = sorted(set(rule.methods or ()) - _HIDDEN_METHODS)
        decision = guard.decision_for(app, rule.endpoint, _literal_prefix(rule))
        if not active:
            statuses: dict[str, int] = {}
            policy, reason = "not guarded", "guard inactive (disabled or debug)"
        elif not decision.guarded:
            policy = "exempt" if decision.exempt else "not guarded"
            statuses, reason = {}, decision.reason
        else:
            statuses = {method: guard.status_for(app, method) for method in methods}
            policy = _policy_name(statuses)
            reason = decision.reason
        policies.append(RoutePolicy(rule.rule, rule.endpoint, methods, policy, statuses, reason))
    return policies


def _literal_prefix(rule: Rule) -> str:
    # Skips match on the path; a rule's path is known up to its first variable.
    return rule.rule.split("<", 1)[0] or "/"


def _policy_name(statuses: dict[str, int]) -> str:
    kinds = {"reject" if status == 403 else "redirect" for status in statuses.values()}
    return "+".join(sorted(kinds)) or "redirect"


def check_app(app: Flask) -> list[Finding]:
    """Audit ``app``'s effective configuration for production."""
    guard = installed_guard(app)
    if guard is None:
        return [_no_guard_finding(app)]
    options = guard.options_for(app)
    findings: list[Finding] = []
    findings += _check_active(app, guard)
    findings += _check_hsts(app, guard)
    findings += _check_cookies(app)
    findings += _check_hosts(app, options.redirect_host)
    findings += _check_exempt_writes(app, guard)
    findings += _check_scheme_source(app, options.trusted_proxies)
    if not options.permanent:
        findings.append(
            Finding(
                "HG011",
                "info",
                "Redirects are temporary (302/307).",
                "Browsers cache 301/308; switch to permanent=True only when the"
                " site will stay on HTTPS for good.",
            )
        )
    return findings


def _no_guard_finding(app: Flask) -> Finding:
    return Finding(
        "HG000",
        "error",
        f"No HTTPSGuard is installed on app {app.name!r}: plain-HTTP requests"
        " are served as they come (views marked @require_https are still"
        " redirected, without HSTS).",
        "Add HTTPSGuard(app), or guard.init_app(app) in the app factory.",
    )


def _check_active(app: Flask, guard: HTTPSGuard) -> list[Finding]:
    options = guard.options_for(app)
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


def _check_hsts(app: Flask, guard: HTTPSGuard) -> list[Finding]:
    options = guard.options_for(app)
    findings = []
    if not options.hsts:
        findings.append(
            Finding(
                "HG003",
                "warning",
                "HSTS is off: browsers will try plain HTTP first on every visit,"
                " where an attacker can intercept the redirect.",
                "Remove hsts=False / HTTPS_GUARD_HSTS.",
            )
        )
    elif options.hsts_max_age < PRELOAD_MIN_MAX_AGE:
        findings.append(
            Finding(
                "HG004",
                "warning",
                f"HSTS max-age is {options.hsts_max_age} seconds, below one year.",
                f"Set hsts_max_age to {PRELOAD_MIN_MAX_AGE} or more once HTTPS is"
                " known to work everywhere on the site.",
            )
        )
    if options.hsts and options.hsts_preload:
        problems = []
        if options.redirect_host is not None:
            problems.append(f"plain HTTP redirects to another host ({options.redirect_host})")
        if not guard.decision_for(app, _endpoint_of(app, "/"), "/").guarded:
            problems.append("the home page / is served over plain HTTP")
        if problems:
            findings.append(
                Finding(
                    "HG005",
                    "error",
                    "HSTS preload is asked for, but the preload list requires every"
                    " http:// URL to redirect to https on the same host first: "
                    + "; ".join(problems)
                    + ".",
                    "Redirect / to https on the same host, or drop hsts_preload.",
                )
            )
    return findings


def _endpoint_of(app: Flask, path: str) -> Optional[str]:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except Exception:
        return None
    return endpoint if isinstance(endpoint, str) else None


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
    if redirect_host is not None or app.config.get("TRUSTED_HOSTS"):
        return []
    server_name = app.config.get("SERVER_NAME")
    hint = "Set TRUSTED_HOSTS to the app's host names, or redirect_host."
    if server_name:
        hint = (
            f"SERVER_NAME ({server_name}) does not limit the Host the redirect"
            f" uses; set TRUSTED_HOSTS = [{server_name!r}] or redirect_host."
        )
    return [
        Finding(
            "HG007",
            "warning",
            "No TRUSTED_HOSTS and no redirect_host: redirects go to whatever host"
            " the client's Host header names.",
            hint,
        )
    ]


def _check_exempt_writes(app: Flask, guard: HTTPSGuard) -> list[Finding]:
    findings = []
    for route in route_policies(app, guard):
        writes = sorted(_WRITE_METHODS.intersection(route.methods))
        if route.policy == "exempt" and writes:
            findings.append(
                Finding(
                    "HG008",
                    "warning",
                    f"{route.rule} ({route.endpoint}) is exempt ({route.reason}) and"
                    f" accepts {', '.join(writes)}: form or API data is sent over"
                    " plain HTTP.",
                    "Exempt only read-only endpoints such as health checks.",
                )
            )
    return findings


def _check_scheme_source(app: Flask, trusted_proxies: int) -> list[Finding]:
    proxy_fix_count = _proxy_fix_x_proto(app)
    findings = []
    if proxy_fix_count and trusted_proxies and proxy_fix_count != trusted_proxies:
        findings.append(
            Finding(
                "HG010",
                "warning",
                f"ProxyFix trusts {proxy_fix_count} proxies (x_proto) but"
                f" trusted_proxies is {trusted_proxies}: the two disagree about"
                " which X-Forwarded-Proto entry is the proxy's.",
                "Use one of them: ProxyFix(x_proto=N) with trusted_proxies=0, or"
                " trusted_proxies=N without ProxyFix's x_proto.",
            )
        )
    if trusted_proxies:
        source = (
            f"trusted_proxies={trusted_proxies}: the {_ordinal(trusted_proxies)}"
            " X-Forwarded-Proto / Forwarded entry from the right"
        )
    elif proxy_fix_count:
        source = f"Werkzeug's ProxyFix(x_proto={proxy_fix_count}), through the WSGI scheme"
    else:
        source = "the WSGI scheme alone (no proxy header is trusted)"
    findings.append(
        Finding(
            "HG009",
            "info",
            f"The scheme of a request is decided by {source}.",
            "Behind N TLS-terminating proxies, set trusted_proxies=N; otherwise"
            " every request looks insecure and redirects loop.",
        )
    )
    return findings


def _proxy_fix_x_proto(app: Flask) -> int:
    # Walk the middleware chain: each layer keeps the next in .app (ProxyFix,
    # most WSGI middleware) or .wsgi_app.
    layer: Any = app.wsgi_app
    for _ in range(20):
        if isinstance(layer, ProxyFix):
            return int(layer.x_proto)
        layer = getattr(layer, "app", None) or getattr(layer, "wsgi_app", None)
        if layer is None:
            break
    return 0


def _ordinal(number: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number if number < 20 else number % 10, "th")
    return f"{number}{suffix}"


def reaches(level: str, fail_level: str) -> bool:
    """Whether a finding of ``level`` is at or above ``fail_level``."""
    return LEVELS.index(level) >= LEVELS.index(fail_level)
