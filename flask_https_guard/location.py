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

Every URL built here starts with ``https://<authority>/``: a path that does
not start with ``/`` (an odd ``SCRIPT_NAME`` from ``X-Forwarded-Prefix``,
CONNECT's authority form) gets one, so it can never run into the host.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from typing import Any, Optional, Union
from urllib.parse import quote, unquote_to_bytes

from werkzeug.exceptions import BadRequest
from werkzeug.sansio.utils import host_is_trusted

WSGIEnvironment = dict[str, Any]

# Host header: a DNS name (each label 1-63 characters, IDN in its xn-- form),
# an IPv4 address or a bracketed IPv6 literal, then an optional port.
_HOST_PATTERN = re.compile(
    r"(?P<name>(?:[a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}\.?|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?",
    re.ASCII | re.IGNORECASE,
)
_MAX_HOST_LENGTH = 253
# A name, a colon and a five-digit port: anything longer is refused before
# it is parsed or remembered.
_MAX_HOST_HEADER_LENGTH = _MAX_HOST_LENGTH + 6
# Accepted hosts remembered per guard; a site answers to a handful.
_ACCEPTED_HOSTS_KEPT = 64

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


class InvalidHost(BadRequest):
    """The request's Host header is malformed or not trusted by the app."""

    description = (
        "The Host header of this request is invalid or not one this site"
        " answers to, so it cannot be redirected to HTTPS."
    )


TrustedHosts = Union[str, Collection[str], None]


class RedirectTarget:
    """Builds the https URL for insecure requests to one app.

    Raises :class:`InvalidHost` (a 400) for a Host the app does not own.
    Hosts that pass are remembered (a bounded few), hosts that fail never
    are, so forged Host headers cannot fill memory.
    """

    def __init__(
        self, redirect_host: Optional[str] = None, redirect_port: Optional[int] = None
    ) -> None:
        self.redirect_host = redirect_host
        self.redirect_port = redirect_port
        self._fixed_authority = (
            _with_port(redirect_host, redirect_port) if redirect_host is not None else None
        )
        self._accepted: dict[tuple[str, tuple[str, ...]], str] = {}

    def remembered_hosts(self) -> list[tuple[str, tuple[str, ...]]]:
        """The (Host header, TRUSTED_HOSTS) pairs accepted and remembered so far."""
        return list(self._accepted)

    def url(self, environ: WSGIEnvironment, trusted_hosts: TrustedHosts) -> str:
        """The https URL for the request in ``environ``."""
        return f"https://{self.authority(environ, trusted_hosts)}{request_target(environ)}"

    def authority(self, environ: WSGIEnvironment, trusted_hosts: TrustedHosts) -> str:
        """The host (and port) of the https URL."""
        if self._fixed_authority is not None:
            return self._fixed_authority
        raw_host = environ.get("HTTP_HOST")
        if raw_host is None:
            if environ.get("SERVER_PROTOCOL") != "HTTP/1.0":
                # HTTP/1.1 requires Host (RFC 9112 3.2): answer 400.
                raise InvalidHost()
            # HTTP/1.0 has no Host: the server's own address, as Werkzeug does.
            raw_host = f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}".rstrip(
                ":"
            )
        trusted = trusted_host_list(trusted_hosts)
        key = (raw_host, trusted)
        authority = self._accepted.get(key)
        if authority is not None:
            return authority
        authority = _authority_for_host(raw_host, trusted, self.redirect_port)
        if authority is None:
            raise InvalidHost()
        if len(self._accepted) >= _ACCEPTED_HOSTS_KEPT:
            self._accepted.clear()
        self._accepted[key] = authority
        return authority


def https_url(
    environ: WSGIEnvironment,
    redirect_host: Optional[str],
    redirect_port: Optional[int],
    trusted_hosts: TrustedHosts,
) -> str:
    """Build the https URL for an insecure request (nothing remembered).

    Raises :class:`InvalidHost` (a 400) for a Host the app does not own.
    """
    return RedirectTarget(redirect_host, redirect_port).url(environ, trusted_hosts)


def named_hosts(app: Any) -> tuple[str, ...]:
    """The hosts a Flask app's own config names, as TRUSTED_HOSTS entries.

    ``SERVER_NAME`` without its port (a leading-dot entry adds its
    subdomains when the app uses ``subdomain_matching``); for a
    ``host_matching`` app, the host of every rule, where a variable part
    (``<tenant>.example.com``) trusts the subdomains of what follows it.
    """
    if app.url_map.host_matching:
        hosts = {_rule_host(rule.host) for rule in app.url_map.iter_rules() if rule.host}
        return tuple(sorted(host for host in hosts if host))
    server_name = _without_port(app.config["SERVER_NAME"])
    if app.subdomain_matching:
        return (server_name, "." + server_name)
    return (server_name,)


def _rule_host(host: str) -> str:
    if "<" in host:
        rest = host[host.rindex(">") + 1 :]
        return _without_port(rest) if rest.startswith(".") else ""
    return _without_port(host)


def _without_port(host: str) -> str:
    if host.startswith("["):
        return host[: host.index("]") + 1] if "]" in host else host
    return host.partition(":")[0]


def trusted_host_list(trusted_hosts: TrustedHosts) -> tuple[str, ...]:
    """``TRUSTED_HOSTS`` as a tuple of entries.

    A string (``FLASK_TRUSTED_HOSTS=.example.com`` through
    ``from_prefixed_env``) is one entry, or several separated by commas;
    iterating it would trust single characters.
    """
    if not trusted_hosts:
        return ()
    if isinstance(trusted_hosts, str):
        return tuple(entry.strip() for entry in trusted_hosts.split(",") if entry.strip())
    return tuple(trusted_hosts)


def _authority_for_host(
    raw_host: str, trusted_hosts: tuple[str, ...], redirect_port: Optional[int]
) -> Optional[str]:
    """The https authority for a Host header, or None if the Host is refused."""
    if len(raw_host) > _MAX_HOST_HEADER_LENGTH:
        return None
    match = _HOST_PATTERN.fullmatch(raw_host)
    if match is None:
        return None
    name = match["name"].lower()
    port = int(match["port"]) if match["port"] else None
    if len(name) > _MAX_HOST_LENGTH or (port is not None and not 1 <= port <= 65535):
        return None
    if name.startswith("[") and not _is_ipv6(name[1:-1]):
        return None
    if trusted_hosts and not _is_trusted(name, trusted_hosts):
        return None
    if redirect_port is not None:
        port = redirect_port
    elif port == 80:
        # http's default port means https's default port.
        port = None
    return _with_port(name, port)


def _is_trusted(name: str, trusted_hosts: tuple[str, ...]) -> bool:
    if name.startswith("["):
        # An IPv6 literal matches only the same address; Werkzeug before
        # 3.1.9 matched "[2001:db8::bad]" against "[2001:db8::1]" by prefix.
        address = ipaddress.IPv6Address(name[1:-1])
        return any(_ipv6_entry(entry) == address for entry in trusted_hosts)
    return host_is_trusted(name, [entry for entry in trusted_hosts if not entry.startswith("[")])


def _ipv6_entry(entry: str) -> Optional[ipaddress.IPv6Address]:
    """The address of a bracketed TRUSTED_HOSTS entry ("[::1]" or "[::1]:443")."""
    if not entry.startswith("[") or "]" not in entry:
        return None
    literal = entry[1 : entry.index("]")]
    return ipaddress.IPv6Address(literal) if _is_ipv6(literal) else None


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
    target = None
    if raw_target:
        target = _target_from_raw(raw_target, script_name, path_info, query)
    if target is None:
        path = quote(_wsgi_bytes(script_name + path_info), safe=_PATH_SAFE)
        target = f"{path}?{query}" if query else path
    if not target.startswith("/"):
        # A SCRIPT_NAME such as "@evil.example" (X-Forwarded-Prefix), CONNECT's
        # authority form or OPTIONS' "*": without a leading slash the target
        # would run into the host ("https://app.example@evil.example/").
        target = "/" + target
    return _encode_unsafe(target)


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
