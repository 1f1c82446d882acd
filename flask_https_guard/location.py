"""The https URL an insecure request is sent to.

Two promises, both checked by the tests:

- the path and query reach the https side exactly as the client sent them
  (``%2F`` stays ``%2F``, ``+`` stays ``+``), so the app sees the same request
  twice; they come from the raw request target when the server provides one
  (``RAW_URI`` / ``REQUEST_URI``), not from the decoded ``PATH_INFO``;
- the host is one the app owns: ``redirect_host`` when set, otherwise the
  request's Host, which must be well-formed and, when the app sets
  ``TRUSTED_HOSTS``, trusted. A Host that fails either check is answered
  with 400, never redirected to.

Werkzeug runs every Location header through ``iri_to_uri`` on its way out,
re-parsing it (and dropping an empty query, ``/path?``). The URL built here
is already in the form that function returns: only printable ASCII, the
same safe characters. So the redirect's response class skips the re-parse
for it, which keeps even an empty query as sent.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from functools import lru_cache
from typing import Any, Optional
from urllib.parse import quote, unquote_to_bytes

from werkzeug.datastructures import Headers
from werkzeug.exceptions import BadRequest
from werkzeug.sansio.utils import host_is_trusted
from werkzeug.wrappers import Response

from .scheme import WSGIEnvironment

# Host header: a DNS name (each label 1-63 characters, IDN in its xn-- form),
# an IPv4 address or a bracketed IPv6 literal, then an optional port.
_HOST_PATTERN = re.compile(
    r"(?P<name>(?:[a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}\.?|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?",
    re.ASCII | re.IGNORECASE,
)
_MAX_HOST_LENGTH = 253

# What a path or query may hold unencoded: RFC 3986 unreserved and
# sub-delims, ':', '@', '/', '?' and '%' (already encoded bytes stay as they
# are). Everything else, raw non-ASCII bytes and control characters
# included, is percent-encoded. This is also exactly the set Werkzeug's
# iri_to_uri leaves alone, so the header goes out as built here.
_NOT_URL_SAFE = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]")
_PATH_SAFE = "/!$&'()*+,;=:@-._~"

# An absolute-form request target ("GET http://host/path HTTP/1.1"): the
# scheme and authority are the client's words, only the path is used.
_ABSOLUTE_FORM = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#]*", re.IGNORECASE)


def uri_safe_redirect_class(response_class: type[Response]) -> type[Response]:
    """A subclass of the app's response class for redirects built here.

    Werkzeug re-parses every Location with ``iri_to_uri`` on output, which
    costs more than building the URL did. A URL from :func:`https_url` is
    already in the form that function returns, so the re-parse is skipped,
    as long as the header is still the one this module built (an
    after_request handler may have changed it).
    """

    class URISafeRedirect(response_class):  # type: ignore[valid-type,misc]
        built_location: Optional[str] = None

        def get_wsgi_headers(self, environ: dict[str, Any]) -> Headers:
            if (
                self.built_location is None
                or self.response  # an after_request handler gave it a body
                or self.headers.get("Location") != self.built_location
            ):
                headers: Headers = super().get_wsgi_headers(environ)
                return headers
            # Built with an empty body and Content-Length: 0, and untouched:
            # the parent would return this same copy after re-parsing the URL.
            return Headers(self.headers)

    return URISafeRedirect


class InvalidHost(BadRequest):
    """The request's Host header is malformed or not trusted by the app."""

    description = (
        "The Host header of this request is invalid or not one this site"
        " answers to, so it cannot be redirected to HTTPS."
    )


def https_url(
    environ: WSGIEnvironment,
    redirect_host: Optional[str],
    redirect_port: Optional[int],
    trusted_hosts: Optional[Collection[str]],
) -> str:
    """Build the https URL for an insecure request.

    Raises :class:`InvalidHost` (a 400) for a Host the app does not own.
    """
    authority = _https_authority(environ, redirect_host, redirect_port, trusted_hosts)
    return f"https://{authority}{request_target(environ)}"


def _https_authority(
    environ: WSGIEnvironment,
    redirect_host: Optional[str],
    redirect_port: Optional[int],
    trusted_hosts: Optional[Collection[str]],
) -> str:
    if redirect_host is not None:
        return _with_port(redirect_host, redirect_port)
    raw_host = environ.get("HTTP_HOST")
    if raw_host is None:
        if environ.get("SERVER_PROTOCOL") != "HTTP/1.0":
            # HTTP/1.1 requires Host (RFC 9112 3.2): answer 400.
            raise InvalidHost()
        # HTTP/1.0 has no Host: the server's own address, as Werkzeug does.
        raw_host = f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}".rstrip(":")
    trusted = tuple(trusted_hosts) if trusted_hosts else ()
    authority = _authority_for_host(raw_host, trusted, redirect_port)
    if authority is None:
        raise InvalidHost()
    return authority


@lru_cache(maxsize=1024)
def _authority_for_host(
    raw_host: str, trusted_hosts: tuple[str, ...], redirect_port: Optional[int]
) -> Optional[str]:
    """The https authority for a Host header, or None if the Host is refused.

    A pure function of its arguments, cached: most requests name one of a
    few hosts. The cache is bounded, so many forged hosts only evict.
    """
    match = _HOST_PATTERN.fullmatch(raw_host)
    if match is None:
        return None
    name = match["name"].lower()
    port = int(match["port"]) if match["port"] else None
    if len(name) > _MAX_HOST_LENGTH or (port is not None and not 1 <= port <= 65535):
        return None
    if name.startswith("[") and not _is_ipv6(name[1:-1]):
        return None
    if trusted_hosts and not host_is_trusted(name, trusted_hosts):
        return None
    if redirect_port is not None:
        port = redirect_port
    elif port == 80:
        # http's default port means https's default port.
        port = None
    return _with_port(name, port)


def _with_port(host: str, port: Optional[int]) -> str:
    if port is None or port == 443:
        return host
    return f"{host}:{port}"


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def request_target(environ: WSGIEnvironment) -> str:
    """The path and query as the client sent them, made safe for a header.

    Prefers the raw target the server recorded, as long as it decodes to the
    path the app routed (a proxy or middleware may have rewritten it); falls
    back to re-encoding ``SCRIPT_NAME`` + ``PATH_INFO``.
    """
    script_name = environ.get("SCRIPT_NAME", "")
    path_info = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    raw_target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw_target:
        target = _target_from_raw(raw_target, script_name, path_info, query)
        if target is not None:
            return _encode_unsafe(target)
    path = quote(_wsgi_bytes(script_name + path_info), safe=_PATH_SAFE)
    if not path.startswith("/"):
        # CONNECT's authority-form or OPTIONS' "*": the URL still needs a
        # path, or the target would run into the host ("https://host*").
        path = "/" + path
    return _encode_unsafe(f"{path}?{query}" if query else path)


def _target_from_raw(
    raw_target: str, script_name: str, path_info: str, query: str
) -> Optional[str]:
    if not raw_target.startswith("/"):
        raw_target = _ABSOLUTE_FORM.sub("", raw_target, count=1)
    raw_path, question_mark, raw_query = raw_target.partition("?")
    decoded = _percent_decoded(raw_path) if "%" in raw_path else raw_path
    if decoded == script_name + path_info and raw_path.startswith("/"):
        path = raw_path
    elif decoded == path_info and raw_path.startswith("/"):
        # Werkzeug's test client records the target without SCRIPT_NAME.
        path = quote(_wsgi_bytes(script_name), safe=_PATH_SAFE) + raw_path
    else:
        return None
    if not question_mark and query:
        # ...and without the query string.
        return f"{path}?{query}"
    return f"{path}{question_mark}{raw_query}"


def _percent_decoded(raw_path: str) -> Optional[str]:
    try:
        return unquote_to_bytes(raw_path.encode("latin-1")).decode("latin-1")
    except UnicodeEncodeError:
        return None


def _wsgi_bytes(text: str) -> bytes:
    # WSGI strings carry the request's bytes decoded as latin-1.
    return text.encode("latin-1", "replace")


def _encode_unsafe(target: str) -> str:
    if _NOT_URL_SAFE.search(target) is None:
        return target
    return _NOT_URL_SAFE.sub(_percent_encode, target)


def _percent_encode(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in _wsgi_bytes(match[0]))
