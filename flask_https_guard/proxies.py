"""Which proxy reports the guard believes, and the middleware around the app.

The guard believes a proxy's word only from the proxies the user counted
(``trusted_proxies=N``): ``X-Forwarded-For``/``-Proto`` through Werkzeug's
``ProxyFix`` (``-Host``, ``-Port``, ``-Prefix`` when named in
``trusted_proxy_headers``); RFC 7239 ``Forwarded`` only when it names
``"forwarded"``; a platform's own header through ``https_header``. These
layers wrap the guard, so it and the app see the same scheme.

A ``ProxyFix`` the user wrapped around the app before ``init_app`` sits
inside the guard; :func:`adopted_proxy_fix` lets the guard apply its
settings to its own view of the request, so it sees what the app will see.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable, Optional

from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from .options import GuardOptions

Environ = dict[str, Any]
WSGIApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]

X_FORWARDED_PROTO = "HTTP_X_FORWARDED_PROTO"
FORWARDED = "HTTP_FORWARDED"

#: Middleware that keeps the app it wraps in a public attribute, by class.
_KEEPS_APP_IN = {
    "werkzeug.middleware.proxy_fix.ProxyFix": "app",
    "werkzeug.middleware.dispatcher.DispatcherMiddleware": "app",
    "werkzeug.middleware.shared_data.SharedDataMiddleware": "app",
    "engineio.middleware.WSGIApp": "wsgi_app",  # Flask-SocketIO's middleware too
    "whitenoise.base.WhiteNoise": "application",
    "flask_https_guard.proxies.TrustedEntriesOnly": "app",
    "flask_https_guard.proxies.PlatformHTTPSHeader": "app",
    "flask_https_guard.proxies.ForwardedProto": "app",
    "flask_https_guard.guard.GuardMiddleware": "wsgi_app",
}


def wrapped_app(layer: Any) -> Any:
    """The app a known middleware wraps, through its public attribute; None otherwise."""
    for cls in type(layer).__mro__:
        attribute = _KEEPS_APP_IN.get(f"{cls.__module__}.{cls.__qualname__}")
        if attribute is not None:
            return getattr(layer, attribute, None)
    return None


def layers(wsgi_app: Any, stop: Any = None, app: Any = None) -> tuple[list[Any], bool]:
    """The middleware around a Flask app's own ``wsgi_app``, outermost first.

    Walks through known middleware until ``app``'s own ``wsgi_app`` (any app's
    without ``app``) or ``stop``; the flag says whether the walk got there
    (False: an unknown wrapper, or a mount's fallback app, hides the rest).
    """
    found: list[Any] = []
    while wsgi_app is not None and wsgi_app is not stop:
        if getattr(getattr(wsgi_app, "__func__", None), "__name__", None) == "wsgi_app":
            # A bound method: the app's own, or a fallback app's behind a mount.
            return found, app is None or getattr(wsgi_app, "__self__", None) is app
        found.append(wsgi_app)
        wsgi_app = wrapped_app(wsgi_app)
    return found, stop is not None and wsgi_app is stop


def adopted_proxy_fix(inner: list[Any]) -> Optional[Callable[[Environ], Environ]]:
    """The request as the ``ProxyFix`` layers inside the guard will present it to the app.

    Werkzeug's own ``ProxyFix`` with the same settings, run on a copy of the
    environ; None when there are none (the guard then reads the environ itself).
    """
    fixes = [layer for layer in inner if isinstance(layer, ProxyFix)]
    if not fixes:
        return None

    def captured(environ: Environ, start_response: Any) -> Environ:
        return environ

    view: Any = captured
    for fix in reversed(fixes):
        view = ProxyFix(view, fix.x_for, fix.x_proto, fix.x_host, fix.x_port, fix.x_prefix)
    return lambda environ: view(dict(environ), None)


def install_proxy_trust(wsgi_app: WSGIApp, options: GuardOptions) -> WSGIApp:
    """Wrap ``wsgi_app`` in the layers ``options`` trust (none for ``trusted_proxies=0``).

    The platform header runs innermost, so it has the last word: behind
    Cloudflare Flexible, nginx reports "http" for its own hop while
    ``CF-Visitor`` carries the client's "https".
    """
    count = options.trusted_proxies
    if not count:
        return wsgi_app
    opted_in = options.trusted_proxy_headers
    if options.https_header is not None:
        wsgi_app = PlatformHTTPSHeader(wsgi_app, *options.https_header)
    if "forwarded" in opted_in:
        wsgi_app = ForwardedProto(wsgi_app, count)
    proxy_fix = ProxyFix(
        wsgi_app,
        x_for=count,
        x_proto=0 if "forwarded" in opted_in else count,  # one source of the scheme
        x_host=count if "x_host" in opted_in else 0,
        x_port=count if "x_port" in opted_in else 0,
        x_prefix=count if "x_prefix" in opted_in else 0,
    )
    return TrustedEntriesOnly(proxy_fix, count)


def trusted_entry(value: str, count: int) -> Optional[str]:
    """The ``count``-th comma-separated entry from the right: the one the
    farthest trusted proxy wrote. None when there are fewer entries.

    Proxies write entries without commas, so whatever a client put left of
    them (unbalanced quotes included) is never parsed.
    """
    entries = value.rsplit(",", count)
    return entries[-count] if len(entries) >= count else None


class TrustedEntriesOnly:
    """WSGI middleware: cut each ``X-Forwarded-*`` header to its last N entries.

    ProxyFix reads these headers as quoted-string lists, so a client's
    unbalanced quote (``X-Forwarded-Proto: "``) would swallow the entry its
    proxy appends, and an https request would look like plain HTTP: a loop.
    """

    HEADERS = tuple(
        f"HTTP_X_FORWARDED_{name}" for name in ("FOR", "PROTO", "HOST", "PORT", "PREFIX")
    )

    def __init__(self, app: WSGIApp, trusted_proxies: int) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        count = self.trusted_proxies
        for key in self.HEADERS:
            value = environ.get(key)
            if value is not None and '"' in value:
                environ[key] = ",".join(value.rsplit(",", count)[-count:])
        return self.app(environ, start_response)


class PlatformHTTPSHeader:
    """WSGI middleware: a platform's own header that says https sets the scheme.

    Only the last entry counts, the one the nearest proxy wrote; ``value``
    None means presence alone says https (``X-ARR-SSL``).
    """

    def __init__(self, app: WSGIApp, name: str, value: Optional[str]) -> None:
        self.app = app
        self.name = name
        self.key = "HTTP_" + name.upper().replace("-", "_")
        self.expected = None if value is None else value.lower()

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        said = environ.get(self.key)
        if said is not None and (
            self.expected is None or said.rpartition(",")[2].strip().lower() == self.expected
        ):
            environ["wsgi.url_scheme"] = "https"
        return self.app(environ, start_response)


class ForwardedProto:
    """WSGI middleware: the scheme from the trusted element of RFC 7239 ``Forwarded``.

    Each proxy appends one element; with ``trusted_proxies=N`` the N-th from
    the right is the farthest trusted one's. No such element, or no
    ``proto=`` in it, changes nothing.
    """

    def __init__(self, app: WSGIApp, trusted_proxies: int) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        proto = forwarded_proto(environ.get(FORWARDED, ""), self.trusted_proxies)
        if proto in ("http", "https"):
            environ["wsgi.url_scheme"] = proto
        return self.app(environ, start_response)


def forwarded_proto(value: str, count: int) -> Optional[str]:
    """The lower-cased ``proto=`` of the ``count``-th ``Forwarded`` element from the right."""
    element = trusted_entry(value, count) if value else None
    for pair in (element or "").split(";"):
        name, _, parameter = pair.partition("=")
        if name.strip().lower() == "proto":
            parameter = parameter.strip()
            if parameter[:1] == '"':  # a quoted string must be closed
                parameter = parameter[1:-1] if len(parameter) > 1 and parameter[-1] == '"' else ""
            return parameter.lower() or None
    return None
