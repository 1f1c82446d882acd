"""Deploy-check findings about HSTS: HG003 (off), HG004 (max-age) and
HG005 (preload asked for, but plain HTTP does not redirect to https on the
same host first, as the preload list requires)."""

from __future__ import annotations

from typing import Optional

from flask import Flask

from ..headers import PRELOAD_MIN_MAX_AGE
from ..state import GuardState
from .findings import Finding


def check_hsts(app: Flask, state: GuardState) -> list[Finding]:
    """HG003, HG004 and HG005 for the guard on ``app``."""
    options = state.options
    findings = _check_max_age(state)
    if options.hsts and options.hsts_preload:
        findings += _check_preload(app, state)
    return findings


def _check_max_age(state: GuardState) -> list[Finding]:
    options = state.options
    if not options.hsts:
        return [
            Finding(
                "HG003",
                "warning",
                "HSTS is off: browsers will try plain HTTP first on every visit,"
                " where an attacker can intercept the redirect.",
                "Remove hsts=False / HTTPS_GUARD_HSTS.",
            )
        ]
    if options.hsts_max_age == 0:
        return [
            Finding(
                "HG004",
                "warning",
                "HSTS max-age is 0: browsers that see it forget the site's HSTS"
                " policy (a roll-back).",
                "Keep max-age=0 until returning visitors have seen it; then set a max-age again.",
            )
        ]
    if options.hsts_max_age < PRELOAD_MIN_MAX_AGE:
        return [
            Finding(
                "HG004",
                "warning",
                f"HSTS max-age is {options.hsts_max_age} seconds, below one year.",
                f"Set hsts_max_age to {PRELOAD_MIN_MAX_AGE} or more once HTTPS is"
                " known to work everywhere on the site.",
            )
        ]
    return []


def _check_preload(app: Flask, state: GuardState) -> list[Finding]:
    options = state.options
    problems = []
    other_hosts = _hosts_redirected_away(app, options.redirect_host)
    if other_hosts:
        problems.append(
            f"plain HTTP to {', '.join(other_hosts)} redirects to another host"
            f" ({options.redirect_host})"
        )
    if not state.policy.decide(_endpoint_of(app, "/"), "/").guarded:
        problems.append("the home page / is served over plain HTTP")
    if not problems:
        return []
    return [
        Finding(
            "HG005",
            "error",
            "HSTS preload is asked for, but the preload list requires every"
            " http:// URL to redirect to https on the same host first: "
            + "; ".join(problems)
            + ".",
            "Redirect / to https on the same host, or drop hsts_preload.",
        )
    ]


def _hosts_redirected_away(app: Flask, redirect_host: Optional[str]) -> list[str]:
    """The hosts a request can arrive on and be redirected from to another host.

    With ``TRUSTED_HOSTS`` naming ``redirect_host`` alone, every request that
    is answered at all arrives on that host: the redirect stays on it.
    """
    if redirect_host is None:
        return []
    trusted = _trusted_hosts(app)
    if trusted is None:
        return ["any other Host"]
    return [host for host in trusted if _bare_host(host) != redirect_host]


def _trusted_hosts(app: Flask) -> Optional[list[str]]:
    configured = app.config.get("TRUSTED_HOSTS")
    if not configured:
        return None
    if isinstance(configured, str):
        return [configured]
    return [str(host) for host in configured]


def _bare_host(host: str) -> str:
    # A port does not make another host for HSTS; Werkzeug ignores it too.
    host = host.lower()
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.partition(":")[0]


def _endpoint_of(app: Flask, path: str) -> Optional[str]:
    adapter = app.url_map.bind(app.config.get("SERVER_NAME") or "localhost")
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except Exception:
        return None
    return endpoint if isinstance(endpoint, str) else None
