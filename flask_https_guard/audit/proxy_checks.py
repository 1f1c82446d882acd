"""Deploy-check findings about who decides a request's scheme: HG009 (the
layer that does) and HG010 (proxy trust configured twice, once by the app's
own ProxyFix and once by ``trusted_proxies``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Optional

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ..options import GuardOptions
from ..state import GuardState
from .findings import Finding


def check_scheme_source(app: Flask, state: GuardState) -> list[Finding]:
    """HG010 when proxy trust is counted twice, then HG009."""
    options = state.options
    proxy_fixes = [layer for layer in _middleware(app) if isinstance(layer, ProxyFix)]
    user_proxy_fixes = [
        layer for layer in proxy_fixes if layer is not state.proxy_fix and layer.x_proto
    ]
    findings = []
    if user_proxy_fixes and options.trusted_proxies:
        findings.append(_doubled_trust(options.trusted_proxies, proxy_fixes, state.proxy_fix))
    findings.append(
        Finding(
            "HG009",
            "info",
            f"The scheme of a request is decided by {_scheme_source(options, user_proxy_fixes)}.",
            "Behind TLS-terminating proxies, set trusted_proxies to the number of"
            " X-Forwarded-Proto entries they add (unless the server, such as"
            " gunicorn with forwarded_allow_ips, already trusts them); otherwise"
            " every request looks insecure and redirects loop.",
        )
    )
    return findings


def _scheme_source(options: GuardOptions, user_proxy_fixes: list[ProxyFix]) -> str:
    count = options.trusted_proxies
    if count:
        if "forwarded" in options.trusted_proxy_headers:
            entry = f"the {_ordinal(count)} Forwarded element from the right (proto=)"
        else:
            entry = f"the {_ordinal(count)} X-Forwarded-Proto entry from the right"
        source = f"trusted_proxies={count}: {entry}, through the ProxyFix the guard installed"
        extra = [name for name in options.trusted_proxy_headers if name != "forwarded"]
        if extra:
            source += f" (which also trusts {', '.join(extra)})"
        if options.https_header is not None:
            source += f", or the platform header {str(options.https_header)!r}"
        return source
    if user_proxy_fixes:
        return (
            f"Werkzeug's ProxyFix(x_proto={user_proxy_fixes[-1].x_proto}) that wraps"
            " app.wsgi_app, through the WSGI scheme"
        )
    return "the WSGI scheme alone (no proxy header is trusted)"


def _doubled_trust(
    trusted_proxies: int, proxy_fixes: list[ProxyFix], guards_own: Optional[ProxyFix]
) -> Finding:
    # Every ProxyFix reads the same, unchanged X-Forwarded-* headers and sets
    # the scheme again: the innermost layer, which runs last, has the last word.
    innermost = proxy_fixes[-1]
    yours = ", ".join(
        f"ProxyFix(x_for={layer.x_for}, x_proto={layer.x_proto})"
        for layer in proxy_fixes
        if layer is not guards_own and layer.x_proto
    )
    if innermost is guards_own:
        outcome = (
            f"trusted_proxies={trusted_proxies} decides the scheme (its ProxyFix is"
            " the innermost) and yours only changes what the outer layers see"
        )
    else:
        outcome = (
            f"your ProxyFix(x_proto={innermost.x_proto}) is the innermost, so it decides"
            f" the scheme and trusted_proxies={trusted_proxies} has no effect on it"
        )
    return Finding(
        "HG010",
        "warning",
        f"Proxy trust is configured twice: app.wsgi_app is wrapped in {yours}, and"
        f" trusted_proxies={trusted_proxies} installs another ProxyFix. Both read the"
        f" same X-Forwarded-* entries; {outcome}.",
        "Count the entries in one place: remove your ProxyFix and keep trusted_proxies"
        " (trusted_proxy_headers adds x_host, x_port, x_prefix), or set"
        " trusted_proxies=0 and keep your ProxyFix.",
    )


def _middleware(app: Flask) -> Iterator[Any]:
    """The layers of ``app.wsgi_app``, outermost first.

    Each layer keeps the next in ``.app`` (ProxyFix, most WSGI middleware) or
    ``.wsgi_app`` (the guard's own wrapper).
    """
    layer: Any = app.wsgi_app
    seen: set[int] = set()
    while layer is not None and id(layer) not in seen and len(seen) < 50:
        seen.add(id(layer))
        yield layer
        inner = getattr(layer, "app", None)
        if inner is None or isinstance(inner, Flask):
            inner = getattr(layer, "wsgi_app", None)
        layer = inner


def _ordinal(number: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number if number < 20 else number % 10, "th")
    return f"{number}{suffix}"
