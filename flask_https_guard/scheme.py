"""Whether a request reached the client over HTTPS.

Without proxies, the answer is the WSGI scheme (``wsgi.url_scheme``): the
server knows whether it spoke TLS. Behind a TLS-terminating proxy the server
only ever speaks plain HTTP, and the proxy reports the client's scheme in
``X-Forwarded-Proto`` or in the ``proto=`` parameter of ``Forwarded``
(RFC 7239). Each proxy appends its entry to the right, so with
``trusted_proxies=N`` only the N-th entry from the right was written by a
proxy we run; anything left of it came from the client and is ignored.

Counting from the right is what Werkzeug's ``ProxyFix(x_proto=N)`` does for
``X-Forwarded-Proto``; this module applies the same rule to ``Forwarded``
too, which ProxyFix does not read. When both headers are present they must
agree, and a header with fewer entries than ``N`` counts as insecure: the
request did not come through the proxies we were told about.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Callable, Optional

WSGIEnvironment = dict[str, Any]

X_FORWARDED_PROTO = "HTTP_X_FORWARDED_PROTO"
FORWARDED = "HTTP_FORWARDED"

#: What a header says about the scheme: "https", anything else, or None when
#: the header is absent or its trusted entry does not mention the scheme.
_INSECURE = "insecure"


class TrustedProxyScheme:
    """WSGI middleware: set ``wsgi.url_scheme`` from the trusted proxies' report.

    Installed by the guard when ``trusted_proxies`` is set, like Werkzeug's
    ``ProxyFix(x_proto=N)`` but reading ``Forwarded`` too. Because it runs
    before Flask builds the request, ``request.scheme``, ``request.is_secure``
    and ``url_for(..., _external=True)`` all agree with the guard::

        app.wsgi_app = TrustedProxyScheme(app.wsgi_app, trusted_proxies=1)
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], trusted_proxies: int) -> None:
        if trusted_proxies < 1:
            raise ValueError("TrustedProxyScheme needs trusted_proxies of 1 or more")
        self.app = app
        self.trusted_proxies = trusted_proxies

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        scheme = reported_scheme(environ, self.trusted_proxies)
        if scheme is not None:
            environ["wsgi.url_scheme"] = scheme
        return self.app(environ, start_response)


def make_secure_test(trusted_proxies: int) -> Callable[[WSGIEnvironment], bool]:
    """Return a function ``is_secure(environ) -> bool`` for this trust level.

    Built once per app. With no trusted proxy, or when TrustedProxyScheme
    has already set the scheme, the test is a single key lookup.
    """
    if trusted_proxies == 0:
        return wsgi_scheme_is_https

    def is_secure_behind_proxies(environ: WSGIEnvironment) -> bool:
        scheme = reported_scheme(environ, trusted_proxies)
        return wsgi_scheme_is_https(environ) if scheme is None else scheme == "https"

    return is_secure_behind_proxies


def carries_proxy_header(environ: WSGIEnvironment) -> bool:
    """True when the request reports a scheme the guard was not told to trust."""
    return X_FORWARDED_PROTO in environ or FORWARDED in environ


def wsgi_scheme_is_https(environ: WSGIEnvironment) -> bool:
    """Whether the server itself (or a middleware before us) says https."""
    return environ.get("wsgi.url_scheme") == "https"


def reported_scheme(environ: WSGIEnvironment, trusted_proxies: int) -> Optional[str]:
    """ "https" or "http" as the trusted proxies report it; None if they say nothing.

    None means the request did not come through a proxy (a direct
    connection), so the server's own scheme stands.
    """
    forwarded_proto = environ.get(X_FORWARDED_PROTO)
    forwarded = environ.get(FORWARDED)
    if forwarded_proto is None and forwarded is None:
        return None
    reports: list[Optional[str]] = []
    if forwarded_proto is not None:
        reports.append(_nth_from_right(forwarded_proto.split(","), trusted_proxies))
    if forwarded is not None:
        reports.append(_forwarded_proto(forwarded, trusted_proxies))
    said = [report for report in reports if report is not None]
    if not said:
        return None
    return "https" if all(report == "https" for report in said) else "http"


def _nth_from_right(entries: list[str], position: int) -> str:
    if len(entries) < position:
        return _INSECURE
    return entries[-position].strip().strip('"').lower()


def _forwarded_proto(value: str, trusted_proxies: int) -> Optional[str]:
    """The ``proto=`` of the trusted element of a ``Forwarded`` header."""
    element = _nth_element_from_right(value, trusted_proxies)
    if element is None:
        return _INSECURE
    pairs = _split_outside_quotes(element, ";")
    if pairs is None:
        return _INSECURE
    for pair in pairs:
        name, equals, parameter = pair.partition("=")
        if equals and name.strip().lower() == "proto":
            return _unquote(parameter.strip()).lower()
    return None


def _nth_element_from_right(value: str, position: int) -> Optional[str]:
    """The ``position``-th comma-separated element from the right, or None.

    Read from the right and no further than needed: whatever a client put
    to the left of the proxies' elements, even an unbalanced quote, is
    never parsed, so it cannot change the answer.
    """
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
