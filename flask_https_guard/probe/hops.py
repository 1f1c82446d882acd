"""One request at a time: URLs, connections, hops and the redirect chain.

:func:`follow` reads each Location itself, so every hop is seen and a loop is
caught; network and TLS failures end up on the hop, never as an exception.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Optional
from urllib.parse import quote, urljoin, urlsplit

from ..headers import CSP_HEADER, HSTS_HEADER
from ..location import split_host

#: Only this much of an HTML page is read and scanned for mixed content.
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_TIMEOUT = 10.0
DEFAULT_TOTAL_TIMEOUT = 60.0
DEFAULT_MAX_REDIRECTS = 10

_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Everything RFC 3986 allows in a path and query, '%' included so that
# existing escapes survive; anything else (spaces, non-ASCII) is escaped.
_SAFE_IN_TARGET = "!#$%&'()*+,/:;=?@[]~"
_HEADERS = {
    "User-Agent": "flask-https-guard-probe",
    "Accept": "text/html,*/*;q=0.8",
    "Connection": "close",
}

# How a hop failed, named by the finding it gives (findings._FAILURES has the words).
CONNECT, TIMEOUT, RESPONSE, TLS = "HP040", "HP041", "HP042", "HP033"
CERTIFICATE_HOST, CERTIFICATE_EXPIRED, CERTIFICATE_UNTRUSTED = "HP030", "HP031", "HP032"
# OpenSSL's X509_V_ERR_* codes, as found in SSLCertVerificationError.verify_code.
_EXPIRY_CODES = frozenset({9, 10})  # not yet valid, expired
_NAME_CODES = frozenset({62, 64})  # host name mismatch, IP address mismatch


class ProbeUsageError(ValueError):
    """A bad argument: the probe cannot start. ``option`` names the argument."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


# --- What is probed -----------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """An http(s) URL split into what one request needs."""

    scheme: str
    #: Lower case, IDNA-encoded, without a trailing dot; IPv6 without brackets.
    host: str
    port: int
    #: The request target: path and query, escaped.
    path: str

    @property
    def is_secure(self) -> bool:
        return self.scheme == "https"

    @property
    def authority(self) -> str:
        """``host[:port]`` as in a URL and a Host header; the default port is left out."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.authority}{self.path}"


def parse_url(text: str) -> Target:
    """Split an http:// or https:// URL; a bare ``host[/path]`` means ``http://host/path``.

    >>> parse_url("Example.COM:8080/a b?x=1").url
    'http://example.com:8080/a%20b?x=1'

    Raises :class:`ProbeUsageError` for anything else.
    """
    text = text.strip()
    try:
        parts = urlsplit(text if "://" in text else f"http://{text}")
        port = parts.port
    except ValueError as error:
        raise ProbeUsageError("URL", f"{text!r} is not a valid URL ({error})") from None
    scheme = parts.scheme  # lower-cased by urlsplit
    if scheme not in _DEFAULT_PORTS:
        raise ProbeUsageError("URL", f"{text!r} is not an http:// or https:// URL")
    host = _normalize_host(parts.hostname or "")
    if host is None:
        raise ProbeUsageError("URL", f"{text!r} has no valid host name")
    query = f"?{parts.query}" if parts.query else ""
    path = quote(f"{parts.path or '/'}{query}", safe=_SAFE_IN_TARGET)  # '?' is safe
    return Target(scheme, host, port or _DEFAULT_PORTS[scheme], path)


def parse_subdomain(text: str, parent: Target) -> Target:
    """``--subdomain NAME[:PORT]`` as ``https://NAME[:PORT]/``; NAME must be under ``parent``.

    >>> parse_subdomain("API.example.com", parse_url("example.com")).url
    'https://api.example.com/'
    """
    target = None
    if re.fullmatch(r"[^/@?#\s]+", text.strip()):
        with contextlib.suppress(ProbeUsageError):
            target = parse_url(f"https://{text.strip()}/")
    if target is None:
        raise ProbeUsageError("--subdomain", f"{text!r} is not a host name (NAME or NAME:PORT)")
    if not target.host.endswith(f".{parent.host}"):
        raise ProbeUsageError(
            "--subdomain",
            f"{target.host} is not a subdomain of {parent.host}, so includeSubDomains"
            f" from {parent.host} does not cover it",
        )
    return target


def _normalize_host(name: str) -> Optional[str]:
    # Checked as the guard checks a Host header: IPv6 in brackets, a name IDNA-encoded.
    name = name.rstrip(".").lower()
    try:
        split = split_host(f"[{name}]" if ":" in name else name.encode("idna").decode("ascii"))
    except UnicodeError:
        return None
    return split[0].strip("[]") if split else None


def parse_resolve(text: str) -> tuple[tuple[str, Optional[int]], str]:
    """Read ``HOST:PORT:ADDRESS`` as curl does; PORT may be ``*``, ADDRESS an IPv6 in brackets.

    >>> parse_resolve("app.test:8443:127.0.0.1")
    (('app.test', 8443), '127.0.0.1')
    """
    host_text, _, rest = text.partition(":")
    port_text, _, address = rest.partition(":")
    host = _normalize_host(host_text)
    if host is None or not port_text or not address:
        raise ProbeUsageError("--resolve", f"{text!r} is not HOST:PORT:ADDRESS")
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError:
        raise ProbeUsageError(
            "--resolve", f"{text!r}: ADDRESS must be an IP address, got {address!r}"
        ) from None
    if port_text == "*":
        return (host, None), address
    if not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ProbeUsageError("--resolve", f"{text!r}: PORT must be 1-65535 or *")
    return (host, int(port_text)), address


@dataclass(frozen=True)
class ProbeSettings:
    """What every request of one probe shares: its limits, whom it trusts, where it connects."""

    #: Seconds each connect and each read may wait.
    timeout: float
    max_redirects: int
    #: The end of ``--total-timeout`` (``time.monotonic()``): no request starts, and no
    #: page is read further, after that.
    deadline: float
    #: Verifies certificates: the system's CAs, or only those of ``--cafile``.
    context: ssl.SSLContext
    #: ``--resolve`` entries: (HOST, PORT) to ADDRESS; PORT None for ``HOST:*:ADDRESS``.
    resolve: dict[tuple[str, Optional[int]], str]

    def address_for(self, target: Target) -> Optional[str]:
        """The ``--resolve`` address for ``target`` (its port's, else ``*``'s), or None."""
        return self.resolve.get((target.host, target.port)) or self.resolve.get((target.host, None))


# --- One hop ----------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """The certificate a TLS hop presented; it passed verification."""

    subject: str
    names: tuple[str, ...]
    issuer: str
    #: ISO 8601 date and time, UTC.
    not_after: str
    days_left: int

    @classmethod
    def from_peer(cls, peer: dict[str, Any], now: float) -> Certificate:
        """Read the dict of ``SSLSocket.getpeercert()``."""
        expires = ssl.cert_time_to_seconds(peer["notAfter"])
        return cls(
            subject=_name_field(peer.get("subject", ()), "commonName"),
            names=tuple(value for kind, value in peer.get("subjectAltName", ()) if kind == "DNS"),
            issuer=_name_field(peer.get("issuer", ()), "organizationName")
            or _name_field(peer.get("issuer", ()), "commonName"),
            not_after=datetime.datetime.fromtimestamp(expires, datetime.timezone.utc).isoformat(),
            days_left=int((expires - now) // 86400),
        )


def _name_field(name: Sequence[Sequence[tuple[str, str]]], key: str) -> str:
    return next((value for rdn in name for k, value in rdn if k == key), "")


@dataclass(frozen=True)
class Hop:
    """One request of the chain and what came back (or why nothing did)."""

    url: str
    #: The IP address connected to.
    address: Optional[str]
    #: The response's; all None when there is none.
    status: Optional[int] = None
    location: Optional[str] = None
    #: The first Strict-Transport-Security header, as sent.
    hsts: Optional[str] = None
    certificate: Optional[Certificate] = None
    #: Why there is no response, for the user; None when there is one.
    error: Optional[str] = None
    #: CONNECT, TIMEOUT, RESPONSE, TLS or a CERTIFICATE_* kind: the ID of its finding.
    error_kind: Optional[str] = None
    #: Every Content-Security-Policy header, joined with commas.
    content_security_policy: str = ""
    #: The start of an HTML page served over https, decoded; empty otherwise.
    body: str = ""

    @property
    def target(self) -> Target:
        return parse_url(self.url)

    @property
    def is_redirect(self) -> bool:
        return self.status in _REDIRECT_STATUSES

    def redirect_target(self) -> Optional[Target]:
        """Where the Location header points, resolved against this hop's URL."""
        if not self.is_redirect or not self.location:
            return None
        location = self.location.strip()
        # http.client decodes headers as latin-1; servers that send raw
        # non-ASCII in Location mostly mean UTF-8.
        with contextlib.suppress(UnicodeError):
            location = location.encode("latin-1").decode("utf-8")
        try:
            return parse_url(urljoin(self.url, location))
        except ProbeUsageError:
            return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "address": self.address,
            "status": self.status,
            "location": self.location,
            "strict_transport_security": self.hsts,
            "certificate": asdict(self.certificate) if self.certificate else None,
            "error": self.error,
        }


def fetch(target: Target, settings: ProbeSettings) -> Hop:
    """Send one GET to ``target``; a network or TLS failure becomes the hop's error.

    With a ``--resolve`` address it connects there, but the URL's host name
    is still used for the Host header, SNI and certificate verification, as
    curl does. The body is read (up to :data:`MAX_BODY_BYTES`, until
    the deadline) only for an HTML page served over https, the one place
    mixed content matters.
    """
    remaining = settings.deadline - time.monotonic()
    if remaining <= 0:
        message = "not requested: --total-timeout ran out first"
        return Hop(target.url, None, error=message, error_kind=TIMEOUT)
    timeout = min(settings.timeout, remaining)
    address = settings.address_for(target)
    connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    peer_address, peer = None, None
    try:
        # Closed by connection.close() below, wrapped in TLS or not.
        connection.sock = socket.create_connection((address or target.host, target.port), timeout)
        peer_address = str(connection.sock.getpeername()[0])
        if target.is_secure:
            connection.sock = settings.context.wrap_socket(
                connection.sock, server_hostname=target.host
            )
            peer = connection.sock.getpeercert()
        connection.request("GET", target.path, headers={"Host": target.authority, **_HEADERS})
        response = connection.getresponse()
        html = response.headers.get_content_type() in ("text/html", "application/xhtml+xml")
        scanned = html and target.is_secure and response.status not in _REDIRECT_STATUSES
        return Hop(
            url=target.url,
            address=peer_address,
            status=response.status,
            location=response.getheader("Location"),
            hsts=response.getheader(HSTS_HEADER),
            certificate=Certificate.from_peer(dict(peer), time.time()) if peer else None,
            content_security_policy=", ".join(response.headers.get_all(CSP_HEADER) or ()),
            body=_read_page(response, settings.deadline) if scanned else "",
        )
    except ssl.SSLCertVerificationError as error:
        code = error.verify_code
        kind = CERTIFICATE_HOST if code in _NAME_CODES else CERTIFICATE_UNTRUSTED
        kind = CERTIFICATE_EXPIRED if code in _EXPIRY_CODES else kind
        message = f"certificate rejected: {error.verify_message or error}"
    except ssl.SSLError as error:
        kind, message = TLS, f"TLS handshake failed: {error.reason or error}"
    except (socket.timeout, TimeoutError):
        kind, message = TIMEOUT, f"no answer within {timeout:g} s"
    except (http.client.HTTPException, ValueError) as error:
        kind, message = RESPONSE, f"not a valid HTTP response ({type(error).__name__}: {error})"
    except OSError as error:
        where = f" (connecting to {address}, from --resolve)" if address else ""
        kind, message = CONNECT, f"{error.strerror or error}{where}"
    finally:
        connection.close()
    return Hop(target.url, peer_address, error=message, error_kind=kind)


def _read_page(response: http.client.HTTPResponse, deadline: float) -> str:
    body = bytearray()
    while len(body) < MAX_BODY_BYTES and time.monotonic() < deadline:
        chunk = response.read1(min(64 * 1024, MAX_BODY_BYTES - len(body)))
        if not chunk:
            break
        body += chunk
    try:
        return body.decode(response.headers.get_content_charset("utf-8"), errors="replace")
    except (LookupError, UnicodeError):  # an unknown charset, or not a text encoding
        return body.decode("utf-8", errors="replace")


# --- The chain --------------------------------------------------------------

#: Why following stopped before a final response.
LOOP, TOO_MANY, NO_LOCATION = "loop", "too-many", "no-location"


@dataclass(frozen=True)
class Chain:
    """Every hop from the first URL, and why following stopped early, if it did."""

    start: Target
    hops: tuple[Hop, ...]
    #: LOOP, TOO_MANY, NO_LOCATION or None.
    stopped: Optional[str] = None
    #: The URL that was not followed, for LOOP and TOO_MANY.
    not_followed: Optional[str] = None


def follow(start: Target, settings: ProbeSettings) -> Chain:
    """Request ``start`` and each Location in turn, never the same URL twice."""
    hops = [fetch(start, settings)]
    while hops[-1].is_redirect:
        following = hops[-1].redirect_target()
        if following is None:
            return Chain(start, tuple(hops), NO_LOCATION)
        if following.url in (hop.url for hop in hops):
            return Chain(start, tuple(hops), LOOP, following.url)
        if len(hops) > settings.max_redirects:
            return Chain(start, tuple(hops), TOO_MANY, following.url)
        hops.append(fetch(following, settings))
    return Chain(start, tuple(hops))


def first_https_responses(chain: Chain) -> dict[str, Hop]:
    """The first https response from each host, in chain order."""
    first: dict[str, Hop] = {}
    for hop in chain.hops:
        if hop.target.is_secure and hop.status is not None:
            first.setdefault(hop.target.host, hop)
    return first
