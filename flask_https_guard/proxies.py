"""Which proxy reports the guard believes, and the middleware around the app.

:class:`TrustedProxies` applies what the user counted (``trusted_proxies``)
before the guard decides; :func:`adopted_proxy_fix` lets the guard see a
``ProxyFix`` installed inside it; :func:`loop_hint` explains a redirect that
some untrusted header says is a loop.
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
X_FORWARDED = tuple(
    f"HTTP_X_FORWARDED_{name}" for name in ("FOR", "PROTO", "HOST", "PORT", "PREFIX")
)

#: Middleware that keeps the app it wraps in a public attribute, by class.
_KEEPS_APP_IN = {
    "werkzeug.middleware.proxy_fix.ProxyFix": "app",
    "werkzeug.middleware.dispatcher.DispatcherMiddleware": "app",
    "werkzeug.middleware.shared_data.SharedDataMiddleware": "app",
    "engineio.middleware.WSGIApp": "wsgi_app",  # Flask-SocketIO's middleware too
    "whitenoise.base.WhiteNoise": "application",
    "flask_https_guard.proxies.TrustedProxies": "app",
    "flask_https_guard.guard.GuardMiddleware": "wsgi_app",
}

#: Headers that platforms use to say "https", with the value that means it
#: (None: present means https). Used only to explain a loop, never trusted.
KNOWN_HTTPS_HEADERS = {
    "X-Forwarded-Ssl": "on",
    "Front-End-Https": "on",
    "X-ARR-SSL": None,
    "CF-Visitor": '{"scheme":"https"}',
    "X-Forwarded-Scheme": "https",
    "X-Scheme": "https",
    "X-AppEngine-Https": "on",
    "X-AppService-Proto": "https",
    "Fly-Forwarded-Proto": "https",
}


def environ_key(header: str) -> str:
    """The WSGI environ key of a request header."""
    return "HTTP_" + header.upper().replace("-", "_")


_HINT_KEYS = frozenset([X_FORWARDED_PROTO, FORWARDED, *map(environ_key, KNOWN_HTTPS_HEADERS)])


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


class TrustedProxies:
    """WSGI middleware: the proxy reports the options trust, applied in front of the guard.

    ``X-Forwarded-*`` through Werkzeug's ``ProxyFix`` (``-Host``, ``-Port``,
    ``-Prefix`` when named in ``trusted_proxy_headers``); RFC 7239 ``Forwarded``
    as the one source of the scheme when named there; a platform's own
    ``https_header`` last, so it has the last word: behind Cloudflare Flexible,
    nginx reports "http" for its own hop while ``CF-Visitor`` carries the
    client's "https".
    """

    def __init__(self, app: WSGIApp, options: GuardOptions) -> None:
        self.app = app
        self.count = count = options.trusted_proxies
        opted_in = options.trusted_proxy_headers
        self.forwarded = "forwarded" in opted_in
        self.https_key = self.https_value = None
        if options.https_header is not None:
            name, value = options.https_header
            self.https_key = environ_key(name)
            self.https_value = None if value is None else value.lower()
        self.proxy_fix = ProxyFix(
            self.after_proxy_fix,
            x_for=count,
            x_proto=0 if self.forwarded else count,
            x_host=count if "x_host" in opted_in else 0,
            x_port=count if "x_port" in opted_in else 0,
            x_prefix=count if "x_prefix" in opted_in else 0,
        )

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        # ProxyFix reads these headers as quoted-string lists, so a client's
        # unbalanced quote (X-Forwarded-Proto: ") would swallow the entry its
        # proxy appends: only the trusted entries reach it.
        count = self.count
        for key in X_FORWARDED:
            value = environ.get(key)
            if value is not None and '"' in value:
                environ[key] = ",".join(value.rsplit(",", count)[-count:])
        return self.proxy_fix(environ, start_response)

    def after_proxy_fix(self, environ: Environ, start_response: Callable[..., Any]) -> Any:
        """Apply ``Forwarded`` and the platform header, then call the app."""
        if self.forwarded:
            proto = forwarded_proto(environ.get(FORWARDED, ""), self.count)
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        if self.https_key is not None:
            said = environ.get(self.https_key)
            # Only the last entry counts, the one the nearest proxy wrote.
            if said is not None and (
                self.https_value is None
                or said.rpartition(",")[2].strip().lower() == self.https_value
            ):
                environ["wsgi.url_scheme"] = "https"
        return self.app(environ, start_response)


def install_proxy_trust(wsgi_app: WSGIApp, options: GuardOptions) -> WSGIApp:
    """``wsgi_app`` behind :class:`TrustedProxies`; as it is for ``trusted_proxies=0``."""
    return TrustedProxies(wsgi_app, options) if options.trusted_proxies else wsgi_app


def forwarded_proto(value: str, count: int) -> Optional[str]:
    """The lower-cased ``proto=`` of the ``count``-th ``Forwarded`` element from the right.

    Each proxy appends one element, without commas, so whatever a client put
    left of the trusted one (unbalanced quotes included) is never parsed.
    """
    elements = value.rsplit(",", count) if value else []
    element = elements[-count] if len(elements) >= count else ""
    for pair in element.split(";"):
        name, _, parameter = pair.partition("=")
        if name.strip().lower() == "proto":
            parameter = parameter.strip()
            if parameter[:1] == '"':  # a quoted string must be closed
                parameter = parameter[1:-1] if len(parameter) > 1 and parameter[-1] == '"' else ""
            return parameter.lower() or None
    return None


def loop_hint(environ: Environ, options: GuardOptions) -> Optional[str]:
    """Why a request about to be redirected may have arrived over https after all.

    The most common support question for HTTPS redirects is a loop behind a
    load balancer that said "https" in a header the guard was not told to
    believe. None when no header says https; otherwise a sentence naming the
    header and the setting that would make the guard believe it.
    """
    if _HINT_KEYS.isdisjoint(environ):
        return None
    return (
        _x_forwarded_proto_hint(environ.get(X_FORWARDED_PROTO), options)
        or _forwarded_hint(environ.get(FORWARDED), options)
        or _platform_header_hint(environ, options)
    )


def _x_forwarded_proto_hint(proto: Optional[str], options: GuardOptions) -> Optional[str]:
    if proto is None or "https" not in proto.lower():
        return None
    count = options.trusted_proxies
    entries = [entry.strip().lower() for entry in proto.split(",")]
    if count == 0:
        return (
            f"X-Forwarded-Proto says {proto!r} but trusted_proxies is 0, so no"
            " proxy header is believed. Set trusted_proxies"
            " (HTTPS_GUARD_TRUSTED_PROXIES) to the number of entries your"
            f" proxies add to X-Forwarded-Proto (here {len(entries)} arrived)."
        )
    if len(entries) < count:
        return (
            f"X-Forwarded-Proto has {len(entries)} entries ({proto!r}) but"
            f" trusted_proxies is {count}, so none is believed. Count the entries"
            " your proxies add, not the proxies: a proxy that replaces the header"
            f" (nginx's $scheme) leaves one. Try trusted_proxies={len(entries)}."
        )
    if "forwarded" not in options.trusted_proxy_headers and entries[-count] != "https":
        return (
            f"X-Forwarded-Proto is {proto!r}: the entry trusted_proxies={count}"
            f" points at says {entries[-count]!r}. If the https entries further"
            " left were added by proxies you run too, raise trusted_proxies;"
            " if a proxy of yours writes its own hop's scheme there, set the"
            " client's scheme instead."
        )
    return None


def _forwarded_hint(forwarded: Optional[str], options: GuardOptions) -> Optional[str]:
    if forwarded is None or "proto=https" not in forwarded.lower().replace('"', ""):
        return None
    if "forwarded" in options.trusted_proxy_headers and options.trusted_proxies:
        return None
    return (
        f"Forwarded says {forwarded!r}, which the guard reads only when"
        " trusted_proxy_headers includes 'forwarded' (and trusted_proxies"
        " is 1 or more)."
    )


def _platform_header_hint(environ: Environ, options: GuardOptions) -> Optional[str]:
    configured = options.https_header[0].lower() if options.https_header else None
    for name, value in KNOWN_HTTPS_HEADERS.items():
        said = environ.get(environ_key(name))
        if said is None or (value is not None and said.strip().lower() != value.lower()):
            continue
        if configured == name.lower():
            continue
        suggestion = name if value is None else f"{name}: {value}"
        return (
            f"{name} says {said!r}. If your platform's front end writes it (overwriting"
            " what a client sends; see the proxies page of the docs), set"
            f" https_header={suggestion!r} (HTTPS_GUARD_HTTPS_HEADER)"
            + (" and trusted_proxies=1" if options.trusted_proxies == 0 else "")
            + "."
        )
    return None
