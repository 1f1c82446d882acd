"""Which proxy reports the guard believes, and why a redirect may loop.

Behind a TLS-terminating proxy the server only ever speaks plain HTTP; the
proxy reports the client's scheme in a header. The guard believes such a
header only from the proxies the user counted (``trusted_proxies=N``):

- ``X-Forwarded-For`` and ``X-Forwarded-Proto`` through Werkzeug's
  :class:`~werkzeug.middleware.proxy_fix.ProxyFix` (``x_for=N, x_proto=N``),
  so ``request.remote_addr``, ``request.scheme`` and ``url_for(_external=True)``
  agree with the guard; ``X-Forwarded-Host``, ``-Port`` and ``-Prefix`` only
  when named in ``trusted_proxy_headers``;
- RFC 7239 ``Forwarded: proto=`` only when ``trusted_proxy_headers`` names
  ``"forwarded"``: most proxies pass a client's own ``Forwarded`` through
  untouched, so reading it uninvited would let any client say "http" and
  loop, or "https" and skip the redirect;
- a platform's own header (``https_header="X-ARR-SSL"``,
  ``"X-Forwarded-Ssl: on"``, ``'CF-Visitor: {"scheme":"https"}'``), which
  marks the request https when present with that value.

Each layer sets ``wsgi.url_scheme`` before Flask builds the request. When a
request is about to be redirected although one of its headers says https,
:mod:`~flask_https_guard.loop_hints` explains which setting would stop the loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable, Optional

from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from .options import GuardOptions, HTTPSHeader

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

X_FORWARDED_PROTO = "HTTP_X_FORWARDED_PROTO"
FORWARDED = "HTTP_FORWARDED"


def install_proxy_trust(
    wsgi_app: WSGIApp, options: GuardOptions
) -> tuple[WSGIApp, Optional[ProxyFix]]:
    """Wrap ``wsgi_app`` in the layers ``options`` trust; also return the ProxyFix.

    ``trusted_proxies=0`` installs nothing, like ``ProxyFix(x_proto=0)``.
    The platform header runs innermost, so it has the last word: behind
    Cloudflare Flexible, nginx reports "http" for its own hop while
    ``CF-Visitor`` carries the client's "https".
    """
    count = options.trusted_proxies
    if not count:
        return wsgi_app, None
    opted_in = options.trusted_proxy_headers
    if options.https_header is not None:
        wsgi_app = PlatformHTTPSHeader(wsgi_app, options.https_header)
    if "forwarded" in opted_in:
        wsgi_app = ForwardedProto(wsgi_app, count)
    proxy_fix = ProxyFix(
        wsgi_app,
        x_for=count,
        # With Forwarded trusted, X-Forwarded-Proto is not read: one source.
        x_proto=0 if "forwarded" in opted_in else count,
        x_host=count if "x_host" in opted_in else 0,
        x_port=count if "x_port" in opted_in else 0,
        x_prefix=count if "x_prefix" in opted_in else 0,
    )
    return TrustedEntriesOnly(proxy_fix, count), proxy_fix


class TrustedEntriesOnly:
    """WSGI middleware: cut each ``X-Forwarded-*`` header to its last N entries.

    ProxyFix reads these headers as quoted-string lists, so a client that
    sends an unbalanced quote (``X-Forwarded-Proto: "``) makes the entry its
    proxy appends part of one long string, and an https request looks like
    plain HTTP: a redirect loop, for everyone if a cache keeps a permanent
    one. The entries proxies write never hold commas or quotes, so dropping
    everything left of the last N commas keeps exactly what is trusted.
    """

    _HEADERS = (
        "HTTP_X_FORWARDED_FOR",
        X_FORWARDED_PROTO,
        "HTTP_X_FORWARDED_HOST",
        "HTTP_X_FORWARDED_PORT",
        "HTTP_X_FORWARDED_PREFIX",
    )

    def __init__(self, app: WSGIApp, trusted_proxies: int) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        for key in self._HEADERS:
            value = environ.get(key)
            if value is not None and '"' in value:
                environ[key] = ",".join(
                    value.rsplit(",", self.trusted_proxies)[-self.trusted_proxies :]
                )
        return self.app(environ, start_response)


class PlatformHTTPSHeader:
    """WSGI middleware: a platform header that says https sets the scheme.

    Only the last comma-separated entry counts: the one the nearest proxy
    wrote. ``value`` None means presence alone says https (``X-ARR-SSL``).
    """

    def __init__(self, app: WSGIApp, header: HTTPSHeader) -> None:
        self.app = app
        self.header = header
        self._key = header.environ_key
        self._expected = None if header.value is None else header.value.lower()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        said = environ.get(self._key)
        if said is not None and (
            self._expected is None or said.rpartition(",")[2].strip().lower() == self._expected
        ):
            environ["wsgi.url_scheme"] = "https"
        return self.app(environ, start_response)


class ForwardedProto:
    """WSGI middleware: the scheme from the trusted element of RFC 7239 ``Forwarded``.

    Each proxy appends one element, so with ``trusted_proxies=N`` the N-th
    element from the right is the nearest trusted proxy's. An element
    without ``proto=``, or fewer elements than N, changes nothing.
    """

    def __init__(self, app: WSGIApp, trusted_proxies: int) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        value = environ.get(FORWARDED)
        if value is not None:
            proto = forwarded_proto(value, self.trusted_proxies)
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        return self.app(environ, start_response)


# --- RFC 7239 Forwarded, read from the right --------------------------------


def forwarded_proto(value: str, position: int) -> Optional[str]:
    """The lower-cased ``proto=`` of the ``position``-th element from the right.

    None when there are fewer elements, the element has no ``proto``, or
    its quoting is broken. Elements left of it are never parsed, so a
    client's junk there cannot change the answer.
    """
    element = _nth_element_from_right(value, position)
    if element is None:
        return None
    pairs = _split_outside_quotes(element, ";")
    if pairs is None:
        return None
    for pair in pairs:
        name, equals, parameter = pair.partition("=")
        if equals and name.strip().lower() == "proto":
            return _unquote(parameter.strip()).lower()
    return None


def _nth_element_from_right(value: str, position: int) -> Optional[str]:
    if '"' not in value:
        elements = value.rsplit(",", position)
        return elements[-position] if len(elements) >= position else None
    found = 0
    in_quotes = False
    end = len(value)
    for index in range(len(value) - 1, -1, -1):
        char = value[index]
        if char == '"' and not _is_escaped(value, index):
            in_quotes = not in_quotes
        elif char == "," and not in_quotes:
            found += 1
            if found == position:
                return value[index + 1 : end]
            end = index
    if in_quotes or found + 1 < position:
        return None
    return value[:end]


def _is_escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _split_outside_quotes(text: str, separator: str) -> Optional[list[str]]:
    """Split on ``separator`` except inside quoted strings; None if unbalanced."""
    if '"' not in text:
        return text.split(separator)
    parts: list[str] = []
    current: list[str] = []
    in_quotes = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif in_quotes and char == "\\":
            escaped = True
        elif char == '"':
            in_quotes = not in_quotes
        elif char == separator and not in_quotes:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if in_quotes:
        return None
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value
