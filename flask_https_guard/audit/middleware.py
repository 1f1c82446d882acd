"""HG009, HG010 and HG020-HG022: the middleware around the app as the guard recorded
it at ``init_app``, and who decides a request's scheme."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

from ..findings import Finding
from ..guard import Guard, describe_layer
from ..proxies import layers


def check_middleware(app: Flask, guard: Guard) -> Iterator[Finding]:
    """What the middleware around the app does to the guard's view of requests."""
    outer = layers(app.wsgi_app, stop=guard.outermost)[0] if guard.outermost else []
    yield from _check_scheme_source(guard, outer)
    served = [layer for layer in outer if not isinstance(layer, ProxyFix)]
    if served:
        yield Finding.of(
            "HG020",
            "app.wsgi_app was wrapped after HTTPSGuard.init_app, around the guard:"
            f" {_names(served)}. What this middleware answers itself (static files, mounted"
            " apps, websockets) is outside the guard: served over plain HTTP, without HSTS.",
            "Wrap app.wsgi_app before HTTPSGuard(app) (or init_app), so that the guard is in"
            " front of it; only a ProxyFix belongs outside.",
        )
    mounts = [
        prefix
        for layer in guard.inner_layers
        if isinstance(layer, DispatcherMiddleware)
        for prefix, mounted in layer.mounts.items()
        if layers(mounted, app=app)[1]  # the app's own wsgi_app, maybe inside known middleware
    ]
    if mounts:
        there = (
            "every plain-HTTP request under it is redirected"
            if guard.options.global_mode
            else "only views marked @require_https are redirected"
        )
        yield Finding.of(
            "HG022",
            f"The app is mounted under {', '.join(map(repr, mounts))} inside its own"
            " wsgi_app (a DispatcherMiddleware wrapped before init_app): the guard sees those"
            f" requests with the prefix in the path and cannot route them to their views, so"
            f" {there}. @require_https views still hold through their own wrapper; exempt"
            " views and blueprints there are not exempt.",
            f"Mount the app from outside instead (DispatcherMiddleware(other, {{{mounts[0]!r}:"
            " app}) as the WSGI application), so the prefix reaches it as SCRIPT_NAME. Until"
            " then, an exempt view under the mount is served over plain HTTP only if skips"
            f" lists its full path, such as skips=['{mounts[0]}/health'].",
        )
    elif not guard.sees_app:
        yield Finding.of(
            "HG021",
            "app.wsgi_app was wrapped before init_app in middleware the guard cannot see"
            f" through: {_names(guard.inner_layers)}. The guard decides before it runs: if it"
            " sets the scheme, the guard sees https requests as plain HTTP and redirects loop.",
            "If it sets the scheme, use trusted_proxies instead, or wrap it after"
            " HTTPSGuard(app) so that the guard sees what it sets.",
        )


def _names(found: list[Any]) -> str:
    return ", ".join(describe_layer(layer) for layer in found)


def _check_scheme_source(guard: Guard, outer: list[Any]) -> Iterator[Finding]:
    """HG010 when proxy trust is counted twice, then HG009."""
    options = guard.options
    count = options.trusted_proxies
    inner_fixes = [x for x in guard.inner_layers if isinstance(x, ProxyFix) and x.x_proto]
    yours = [x for x in outer if isinstance(x, ProxyFix) and x.x_proto] + inner_fixes
    if yours and count:
        # Each ProxyFix reads the same, unchanged headers: the innermost has the last word.
        if inner_fixes:
            outcome = (
                f"your ProxyFix(x_proto={inner_fixes[-1].x_proto}) is inside the guard, so it"
                f" decides the scheme and trusted_proxies={count} has no effect on it"
            )
        else:
            outcome = (
                f"trusted_proxies={count} decides the scheme (its ProxyFix is the innermost)"
                " and yours only changes what the outer layers see"
            )
        wrapped = ", ".join(f"ProxyFix(x_for={x.x_for}, x_proto={x.x_proto})" for x in yours)
        yield Finding.of(
            "HG010",
            f"Proxy trust is configured twice: app.wsgi_app is wrapped in {wrapped}, and"
            f" trusted_proxies={count} installs another ProxyFix. Both read the same"
            f" X-Forwarded-* entries; {outcome}.",
            "Count the entries in one place: remove your ProxyFix and keep"
            " trusted_proxies (trusted_proxy_headers adds x_host, x_port, x_prefix), or"
            " set trusted_proxies=0 and keep your ProxyFix.",
        )
    if count:
        entry = (
            f"the {_ordinal(count)} Forwarded element from the right (proto=)"
            if "forwarded" in options.trusted_proxy_headers
            else f"the {_ordinal(count)} X-Forwarded-Proto entry from the right"
        )
        source = f"trusted_proxies={count}: {entry}, through the ProxyFix the guard installed"
        extra = [name for name in options.trusted_proxy_headers if name != "forwarded"]
        if extra:
            source += f" (which also trusts {', '.join(extra)})"
        if options.https_header is not None:
            name, value = options.https_header
            source += f", or the platform header {name + (': ' + value if value else '')!r}"
    elif yours:
        source = f"Werkzeug's ProxyFix(x_proto={yours[-1].x_proto}) that wraps app.wsgi_app"
    else:
        source = "the WSGI scheme alone (no proxy header is trusted)"
    yield Finding.of(
        "HG009",
        f"The scheme of a request is decided by {source}.",
        "Behind TLS-terminating proxies, set trusted_proxies to the number of"
        " X-Forwarded-Proto entries they add (unless the server, such as gunicorn with"
        " forwarded_allow_ips, already trusts them); otherwise every request looks"
        " insecure and redirects loop.",
    )


def _ordinal(number: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number if number < 20 else number % 10, "th")
    return f"{number}{suffix}"
