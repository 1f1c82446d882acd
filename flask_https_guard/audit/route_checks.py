"""Deploy-check findings about what routes get: HG008 (an exempt route
takes writes), HG017 (a ``skips`` entry that covers no route) and HG014
(Flask-Talisman also forces https or sends HSTS)."""

from __future__ import annotations

from flask import Flask

from ..state import GuardState
from .findings import Finding, first_few
from .route_policy import SERVED_OVER_HTTP, sorted_rules
from .routes import SkipIndex, guard_routes, route_policies
from .rule_paths import RulePaths, request_path
from .talisman import TalismanSettings

_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def check_exempt_writes(app: Flask) -> list[Finding]:
    """HG008 for each exempt or partly exempt route that accepts writes."""
    findings = []
    for route in route_policies(app):
        writes = sorted(_WRITE_METHODS.intersection(route.methods))
        if route.policy not in ("exempt", "partly exempt") or not writes:
            continue
        findings.append(
            Finding(
                "HG008",
                "warning",
                f"{route.rule} ({route.endpoint}) is {route.policy} ({route.reason}) and"
                f" accepts {', '.join(writes)}: form or API data is sent over"
                " plain HTTP.",
                "Exempt only read-only endpoints such as health checks.",
            )
        )
    return findings


def check_unused_skips(app: Flask, state: GuardState) -> list[Finding]:
    """HG017 for skips under which no route has a path that the policy
    serves over HTTP."""
    if not state.options.skips:
        return []
    used, ignored = _skip_usage(app, state)
    findings = []
    for skip in state.options.skips:
        if skip in used:
            continue
        if skip in ignored:
            message = (
                f"The skip {skip!r} never takes effect: {ignored[skip]} lies below it,"
                " yet a plain-HTTP request to it is redirected."
            )
        else:
            message = f"The skip {skip!r} matches no route."
        findings.append(
            Finding(
                "HG017",
                "warning",
                message,
                "Skips are whole path segments of the request path (skips=['health']"
                " covers /health and /health/live, not /healthz); fix the entry or"
                " remove it.",
            )
        )
    return findings


def _skip_usage(app: Flask, state: GuardState) -> tuple[set[str], dict[str, str]]:
    """The skips that exempt a path of some route, and for the others a
    path of some route below them that the guard redirects anyway."""
    skips = SkipIndex(state.options.skips)
    used: set[str] = set()
    ignored: dict[str, str] = {}
    for rule in sorted_rules(app):
        paths = RulePaths(app, rule)
        for skip, form in skips.candidates(paths.first_segment):
            if skip in used:
                continue
            example = paths.under(form)
            if example is None:
                continue
            # No endpoint: the skips alone decide, whatever the view's marks.
            if state.policy.decide(None, request_path(example)).exempt:
                used.add(skip)
            else:
                ignored.setdefault(skip, example)
    return used, ignored


def check_talisman(app: Flask, state: GuardState) -> list[Finding]:
    """HG014 when a Flask-Talisman on the app also forces https or sends HSTS."""
    talisman = TalismanSettings.of(app)
    if talisman is None or not (talisman.force_https or talisman.hsts):
        return []
    options = state.options
    problems = []
    level = "warning"
    if talisman.force_https:
        overruled = [
            route.rule
            for route in guard_routes(app)
            if route.policy in SERVED_OVER_HTTP and talisman.redirects(app, route.endpoint)
        ]
        listed = first_few(overruled)
        problems.append(
            f"its force_https redirects plain-HTTP requests with {talisman.status},"
            " for POST too (clients may turn it into GET)"
            + (f", including routes the guard serves over plain HTTP ({listed})" if listed else "")
        )
    if talisman.hsts:
        if not options.hsts:
            problems.append(
                f"it sends Strict-Transport-Security ({talisman.hsts}) although the"
                " guard's hsts=False"
            )
        else:
            problems.append(
                f"it sends its own Strict-Transport-Security ({talisman.hsts}), which the"
                " guard keeps instead of its own"
            )
        rolling_back = options.hsts and options.hsts_max_age == 0
        if rolling_back and not talisman.hsts.startswith("max-age=0"):
            level = "error"
            problems.append("so the guard's hsts_max_age=0 roll-back never reaches browsers")
    return [
        Finding(
            "HG014",
            level,
            "Flask-Talisman is also installed on the app: " + "; ".join(problems) + ".",
            "Let one of them own https: Talisman(app, force_https=False,"
            " strict_transport_security=False) keeps Talisman for CSP and the other"
            " headers while the guard redirects and sends HSTS.",
        )
    ]
