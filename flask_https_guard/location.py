"""Hosts the app owns, and the https URL a plain-HTTP request is sent to.

The path and query go over as the client sent them (from the raw request
target where the server records one); the host must be one the app owns,
compared case-insensitively (IPv6 exactly), else 400, never a redirect.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Optional
from urllib.parse import quote, unquote_to_bytes

from werkzeug.exceptions import BadRequest

Environ = dict[str, Any]

# A DNS name (labels of 1-63 characters, IDN in its xn-- form), an IPv4
# address or a bracketed IPv6 literal, then an optional port.
_HOST = re.compile(
    r"(?P<name>(?:[a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}\.?|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?",
    re.ASCII | re.IGNORECASE,
)
_MAX_HOST_HEADER = 253 + 6  # a name, a colon and a port: longer is refused unparsed
_ACCEPTED_KEPT = 64  # accepted Host headers remembered per app; a site has a handful
# What a path or query may hold unencoded (RFC 3986 unreserved, sub-delims,
# ':@/?%'): the set Werkzeug's iri_to_uri leaves alone too.
_NOT_URL_SAFE = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]")
_PATH_SAFE = "/!$&'()*+,;=:@-._~"
_ABSOLUTE_FORM = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#]*", re.IGNORECASE)


class InvalidHost(BadRequest):
    """The request's Host header is malformed or not one the app answers to."""

    description = (
        "The Host header of this request is invalid or not one this site"
        " answers to, so it cannot be redirected to HTTPS."
    )


def split_host(host: str) -> Optional[tuple[str, Optional[int], str]]:
    """A Host header as (name to compare, port, name as written but lower-cased); None if malformed.

    The name to compare has IPv6 literals in their compressed form.
    """
    match = _HOST.fullmatch(host) if len(host) <= _MAX_HOST_HEADER else None
    if match is None:
        return None
    written, port = match["name"].lower(), match["port"]
    name = written
    if name.startswith("["):
        try:
            name = f"[{ipaddress.IPv6Address(name[1:-1]).compressed}]"
        except ValueError:
            return None
    if port is not None and not 1 <= int(port) <= 65535:
        return None
    return name, int(port) if port else None, written


def is_local_host(host: str) -> bool:
    """``localhost`` or a ``*.localhost`` name, any port: no HSTS for it.

    A browser that stores HSTS for ``localhost`` refuses every other plain-HTTP
    server on it afterwards; IP literals need nothing, browsers ignore HSTS there.
    """
    split = split_host(host)
    name = split[0].rstrip(".") if split else ""
    return name == "localhost" or name.endswith(".localhost")


def host_entries(value: Any) -> tuple[str, ...]:
    """``TRUSTED_HOSTS``-style entries, normalised: lower-case, no port, IPv6 compressed.

    A string is one entry or several separated by commas (iterating it would
    trust single characters); a leading dot (subdomains) is kept.
    """
    if not value:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    entries = []
    for entry in value:
        entry = entry.strip()
        dot = "." if entry.startswith(".") else ""
        try:
            entry = entry.lstrip(".").encode("idna").decode("ascii")
        except UnicodeError:
            continue
        split = split_host(entry)
        if split is not None:
            entries.append(dot + split[0])
    return tuple(entries)


def is_trusted(name: str, entries: tuple[str, ...]) -> bool:
    """Whether a normalised host name matches one of the normalised entries."""
    return any(
        name == entry or (entry.startswith(".") and (name == entry[1:] or name.endswith(entry)))
        for entry in entries
    )


def owned_hosts(app: Any) -> tuple[str, ...]:
    """The hosts ``app`` names as its own, normalised; () when it names none."""
    config = app.config
    if config.get("TRUSTED_HOSTS"):
        return host_entries(config["TRUSTED_HOSTS"])
    if app.url_map.host_matching:
        # A variable part ("<tenant>.example.com") trusts what follows it.
        hosts = []
        for rule in app.url_map.iter_rules():
            rest = rule.host.rpartition(">")[2]
            if rest and (rest == rule.host or rest.startswith(".")):
                hosts.append(rest)
        return host_entries(hosts)
    server_name = config.get("SERVER_NAME")
    if server_name:
        return host_entries(
            [server_name, "." + server_name] if app.subdomain_matching else [server_name]
        )
    return ()


class RedirectTarget:
    """The https URL for plain-HTTP requests to one app.

    Accepted Host headers are remembered (a bounded few); refused ones never
    are, so forged Hosts cannot fill memory.
    """

    def __init__(self, app: Any, fixed_host: Optional[str], port: Optional[int]) -> None:
        self.app = app
        self.port = port
        self.fixed = None if fixed_host is None else with_port(fixed_host, port)
        self._accepted: dict[tuple[str, tuple[str, ...]], str] = {}
        self._rule_hosts: Optional[tuple[str, ...]] = None

    def owned_hosts(self) -> tuple[str, ...]:
        """:func:`owned_hosts`; a ``host_matching`` app's rules are read once.

        The config is read every time (Flask reads ``TRUSTED_HOSTS`` per request
        too); the rules cannot change once the app has served a request, which
        is when this first runs, so walking them per request would only let
        forged Hosts cost a walk of the URL map each.
        """
        if not self.app.url_map.host_matching or self.app.config.get("TRUSTED_HOSTS"):
            return owned_hosts(self.app)
        if self._rule_hosts is None:
            self._rule_hosts = owned_hosts(self.app)
        return self._rule_hosts

    def remembered_hosts(self) -> list[str]:
        """The Host headers accepted and remembered so far (at most 64)."""
        return [host for host, _ in self._accepted]

    def url(self, environ: Environ) -> str:
        """The https URL for the request; :class:`InvalidHost` for a Host the app does not own."""
        return f"https://{self.fixed or self.authority(environ)}{request_target(environ)}"

    def authority(self, environ: Environ) -> str:
        host = request_host(environ)
        owned = self.owned_hosts()
        authority = self._accepted.get((host, owned))
        if authority is None:
            authority = self._authority(host, owned)
            if authority is None:
                raise InvalidHost()
            if len(self._accepted) >= _ACCEPTED_KEPT:
                self._accepted.clear()
            self._accepted[(host, owned)] = authority
        return authority

    def _authority(self, host: str, owned: tuple[str, ...]) -> Optional[str]:
        split = split_host(host)
        if split is None or (owned and not is_trusted(split[0], owned)):
            return None
        _, port, name = split
        if self.port is not None:
            port = self.port
        elif port == 80:  # http's default port means https's default port
            port = None
        return with_port(name, port)


def request_host(environ: Environ) -> str:
    """The Host header; for HTTP/1.0 without one, the server's address.

    HTTP/1.1 requires Host (RFC 9112 3.2): :class:`InvalidHost` without one.
    """
    host = environ.get("HTTP_HOST")
    if host is None:
        if environ.get("SERVER_PROTOCOL") != "HTTP/1.0":
            raise InvalidHost()
        host = f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}".rstrip(":")
    return host


def with_port(host: str, port: Optional[int]) -> str:
    return host if port is None or port == 443 else f"{host}:{port}"


def request_target(environ: Environ) -> str:
    """The path and query as the client sent them, made safe for a header.

    Always starts with ``/``: an odd ``SCRIPT_NAME`` (``@evil.example`` from
    ``X-Forwarded-Prefix``), CONNECT's authority form or ``*`` can never run
    into the host.
    """
    script_name = environ.get("SCRIPT_NAME", "")
    path_info = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    target = _from_raw_target(raw, script_name, path_info, query) if raw else None
    if target is None:
        path = quote(_wsgi_bytes(script_name + path_info), safe=_PATH_SAFE)
        target = f"{path}?{query}" if query else path
    if not target.startswith("/"):
        target = "/" + target
    if _NOT_URL_SAFE.search(target) is None:
        return target
    return _NOT_URL_SAFE.sub(lambda m: "".join(f"%{b:02X}" for b in _wsgi_bytes(m[0])), target)


def _from_raw_target(raw: str, script_name: str, path_info: str, query: str) -> Optional[str]:
    if not raw.startswith("/"):
        raw = _ABSOLUTE_FORM.sub("", raw, count=1)
    raw_path, question_mark, raw_query = raw.partition("?")
    if not raw_path.startswith("/"):
        return None
    try:
        decoded = unquote_to_bytes(raw_path.encode("latin-1")).decode("latin-1")
    except UnicodeEncodeError:
        return None
    if decoded == script_name + path_info:
        path = raw_path
    elif decoded == path_info:  # Werkzeug's test client leaves SCRIPT_NAME out
        path = quote(_wsgi_bytes(script_name), safe=_PATH_SAFE) + raw_path
    else:
        return None  # rewritten by a proxy or middleware: rebuild from PATH_INFO
    if not question_mark and query:  # ...and the query string
        return f"{path}?{query}"
    return f"{path}{question_mark}{raw_query}"


def _wsgi_bytes(text: str) -> bytes:
    # WSGI strings carry the request's bytes decoded as latin-1.
    return text.encode("latin-1", "replace")
