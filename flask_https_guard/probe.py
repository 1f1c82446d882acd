"""``flask https-guard probe URL``: check a deployed site from the outside.

The probe asks a live site what a browser would be told. It requests the URL
over plain HTTP, follows every redirect itself, one hop at a time, and
reports each hop (status, Location, Strict-Transport-Security, certificate).
Then it checks the chain: the first hop goes to https on the same host, https
responses carry HSTS, the HSTS preload list's requirements, the certificate,
mixed content in the final page, loops and overlong chains. Each problem is a
finding with a stable ID (``HP001``...) and a level. It needs no app and only
the standard library::

    flask https-guard probe http://example.com/
    python -m flask_https_guard.probe http://example.com/ --json

Exit status: 0 when no finding reaches ``--fail-level`` (``warning`` by
default), 1 when one does, 2 for a bad command line (not a URL, a bad
``--resolve`` entry or CA file).

From Python, :func:`probe` returns a :class:`ProbeReport`.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime
import http.client
import ipaddress
import json
import re
import shutil
import socket
import ssl
import textwrap
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from html.parser import HTMLParser
from typing import Any, Optional
from urllib.parse import quote, urljoin, urlsplit

import click

LEVELS = ("info", "warning", "error")
#: The HSTS preload list's minimum max-age: one year, in seconds.
PRELOAD_MIN_MAX_AGE = 31536000
#: A certificate with fewer days left than this gives a warning (HP034).
EXPIRY_WARNING_DAYS = 14
#: Only this much of an HTML page is read and scanned for mixed content.
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_TIMEOUT = 10.0
DEFAULT_TOTAL_TIMEOUT = 60.0
DEFAULT_MAX_REDIRECTS = 10

_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_HOST_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*", re.ASCII)
# Everything RFC 3986 allows in a path and query, '%' included so that
# existing escapes survive; anything else (spaces, non-ASCII) is escaped.
_SAFE_IN_TARGET = "!#$%&'()*+,/:;=?@[]~"
_USER_AGENT = "flask-https-guard-probe"
_WIDTH = 80

# How a hop failed; each kind is reported under its own finding ID.
CONNECT, TIMEOUT, RESPONSE, TLS = "connect", "timeout", "response", "tls"
CERTIFICATE_HOST, CERTIFICATE_EXPIRED, CERTIFICATE_UNTRUSTED = (
    "certificate-host",
    "certificate-expired",
    "certificate-untrusted",
)
# OpenSSL's X509_V_ERR_* codes, as found in SSLCertVerificationError.verify_code.
_EXPIRY_CODES = frozenset({9, 10})  # not yet valid, expired
_NAME_CODES = frozenset({62, 64})  # host name mismatch, IP address mismatch


class ProbeUsageError(ValueError):
    """A bad argument: the probe cannot start. ``option`` names the argument."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option
        self.message = message


# --- What is probed -------------------------------------------------------


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
    url = text if "://" in text else f"http://{text}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ProbeUsageError("URL", f"{text!r} is not a valid URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ProbeUsageError("URL", f"{text!r} is not an http:// or https:// URL")
    host = _normalize_host(parts.hostname or "")
    if host is None:
        raise ProbeUsageError("URL", f"{text!r} has no valid host name")
    path = quote(parts.path or "/", safe=_SAFE_IN_TARGET)
    if parts.query:
        path += "?" + quote(parts.query, safe=_SAFE_IN_TARGET)
    return Target(scheme, host, port or _DEFAULT_PORTS[scheme], path)


def _normalize_host(name: str) -> Optional[str]:
    name = name.rstrip(".").lower()
    if ":" in name:
        try:
            return str(ipaddress.IPv6Address(name))
        except ValueError:
            return None
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return name if _HOST_NAME.fullmatch(name) else None


@dataclass(frozen=True)
class Resolve:
    """One ``--resolve HOST:PORT:ADDRESS`` entry: connect to ADDRESS for HOST:PORT."""

    host: str
    #: None matches every port (``HOST:*:ADDRESS``).
    port: Optional[int]
    address: str

    def matches(self, target: Target) -> bool:
        return self.host == target.host and self.port in (None, target.port)


def parse_resolve(text: str) -> Resolve:
    """Read ``HOST:PORT:ADDRESS`` as curl does; PORT may be ``*``, ADDRESS an IPv6 in brackets.

    >>> parse_resolve("app.test:8443:127.0.0.1")
    Resolve(host='app.test', port=8443, address='127.0.0.1')
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
        return Resolve(host, None, address)
    if not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ProbeUsageError("--resolve", f"{text!r}: PORT must be 1-65535 or *")
    return Resolve(host, int(port_text), address)


@dataclass(frozen=True)
class ProbeSettings:
    """How far and how long the probe may go, and whom it trusts."""

    #: Seconds each connect and each read may wait.
    timeout: float = DEFAULT_TIMEOUT
    #: Seconds for the whole probe: no request starts, and no page is read further, after that.
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    #: A PEM bundle trusted instead of the system's CAs.
    cafile: Optional[str] = None
    resolve: tuple[Resolve, ...] = ()

    def address_for(self, target: Target) -> Optional[str]:
        """The ``--resolve`` address for ``target``, or None to look its host up."""
        return next((entry.address for entry in self.resolve if entry.matches(target)), None)


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
    status: Optional[int]
    location: Optional[str]
    #: The first Strict-Transport-Security header, as sent.
    hsts: Optional[str]
    certificate: Optional[Certificate]
    #: Why there is no response, for the user; None when there is one.
    error: Optional[str] = None
    #: CONNECT, TIMEOUT, RESPONSE, TLS or a CERTIFICATE_* kind.
    error_kind: Optional[str] = None
    content_type: str = ""
    #: Every Content-Security-Policy header, joined with commas.
    content_security_policy: str = ""
    #: The start of an HTML page served over https; empty otherwise.
    body: bytes = b""

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


class _Connection(http.client.HTTPConnection):
    """HTTP, or HTTPS with ``context``, to ``address`` when one is given.

    The URL's host name is still used for the Host header, SNI and
    certificate verification, as curl's ``--resolve`` does.
    """

    def __init__(
        self,
        target: Target,
        address: Optional[str],
        timeout: float,
        context: Optional[ssl.SSLContext],
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = address
        self.context = context
        self.peer_address: Optional[str] = None
        self.peer_certificate: Optional[dict[str, Any]] = None

    def connect(self) -> None:
        sock = socket.create_connection((self.address or self.host, self.port), self.timeout)
        self.peer_address = str(sock.getpeername()[0])
        if self.context is not None:
            try:
                sock = self.context.wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
            self.peer_certificate = dict(sock.getpeercert() or {})
        self.sock = sock


def fetch(target: Target, settings: ProbeSettings, context: ssl.SSLContext, deadline: float) -> Hop:
    """Send one GET to ``target``; a network or TLS failure becomes the hop's error.

    The body is read (up to :data:`MAX_BODY_BYTES`, until ``deadline``) only
    for an HTML page served over https, the one place mixed content matters.
    """
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return _failed(target, None, TIMEOUT, "not requested: --total-timeout ran out first")
    timeout = min(settings.timeout, remaining)
    connection = _Connection(
        target, settings.address_for(target), timeout, context if target.is_secure else None
    )
    headers = {
        "Host": target.authority,
        "User-Agent": _USER_AGENT,
        "Accept": "text/html,*/*;q=0.8",
        "Connection": "close",
    }
    try:
        connection.request("GET", target.path, headers=headers)
        response = connection.getresponse()
        content_type = response.getheader("Content-Type", "") or ""
        body = b""
        if (
            target.is_secure
            and response.status not in _REDIRECT_STATUSES
            and _is_html(content_type)
        ):
            body = _read_bounded(response, deadline)
        peer = connection.peer_certificate
        return Hop(
            url=target.url,
            address=connection.peer_address,
            status=response.status,
            location=response.getheader("Location"),
            hsts=response.getheader("Strict-Transport-Security"),
            certificate=Certificate.from_peer(peer, time.time()) if peer else None,
            content_type=content_type,
            content_security_policy=", ".join(
                response.headers.get_all("Content-Security-Policy") or ()
            ),
            body=body,
        )
    except ssl.SSLCertVerificationError as error:
        kind = CERTIFICATE_UNTRUSTED
        if error.verify_code in _NAME_CODES:
            kind = CERTIFICATE_HOST
        elif error.verify_code in _EXPIRY_CODES:
            kind = CERTIFICATE_EXPIRED
        message = error.verify_message or str(error)
        return _failed(target, connection.peer_address, kind, f"certificate rejected: {message}")
    except ssl.SSLError as error:
        return _failed(
            target, connection.peer_address, TLS, f"TLS handshake failed: {error.reason or error}"
        )
    except (socket.timeout, TimeoutError):
        return _failed(target, connection.peer_address, TIMEOUT, f"no answer within {timeout:g} s")
    except (http.client.HTTPException, ValueError) as error:
        return _failed(
            target,
            connection.peer_address,
            RESPONSE,
            f"not a valid HTTP response ({type(error).__name__}: {error})",
        )
    except OSError as error:
        address = settings.address_for(target)
        where = f" (connecting to {address}, from --resolve)" if address else ""
        return _failed(target, None, CONNECT, f"{error.strerror or error}{where}")
    finally:
        connection.close()


def _failed(target: Target, address: Optional[str], kind: str, message: str) -> Hop:
    return Hop(target.url, address, None, None, None, None, error=message, error_kind=kind)


def _is_html(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in ("text/html", "application/xhtml+xml")


def _read_bounded(response: http.client.HTTPResponse, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < MAX_BODY_BYTES and time.monotonic() < deadline:
        chunk = response.read1(min(64 * 1024, MAX_BODY_BYTES - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


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


def follow(start: Target, settings: ProbeSettings, context: ssl.SSLContext) -> Chain:
    """Request ``start`` and each Location in turn, never the same URL twice."""
    deadline = time.monotonic() + settings.total_timeout
    hops: list[Hop] = []
    seen = {start.url}
    target = start
    while True:
        hop = fetch(target, settings, context, deadline)
        hops.append(hop)
        if not hop.is_redirect:
            return Chain(start, tuple(hops))
        following = hop.redirect_target()
        if following is None:
            return Chain(start, tuple(hops), NO_LOCATION)
        if following.url in seen:
            return Chain(start, tuple(hops), LOOP, following.url)
        if len(hops) > settings.max_redirects:
            return Chain(start, tuple(hops), TOO_MANY, following.url)
        seen.add(following.url)
        target = following


def _first_response_per_https_host(chain: Chain) -> dict[str, Hop]:
    """The first https response from each host, in chain order."""
    first: dict[str, Hop] = {}
    for hop in chain.hops:
        target = hop.target
        if target.is_secure and hop.status is not None:
            first.setdefault(target.host, hop)
    return first


# --- HSTS and the preload list ----------------------------------------------


@dataclass(frozen=True)
class HSTSHeader:
    """A Strict-Transport-Security value read as RFC 6797 section 6.1 says."""

    value: str
    max_age: Optional[int]
    include_subdomains: bool
    preload: bool
    #: Why a browser would ignore the header; None when it is valid.
    problem: Optional[str]


def parse_hsts(value: str) -> HSTSHeader:
    """Read a Strict-Transport-Security header value.

    >>> parse_hsts("max-age=31536000; includeSubDomains").include_subdomains
    True
    >>> parse_hsts("includeSubDomains").problem
    'max-age is missing'
    """
    seen: set[str] = set()
    max_age: Optional[int] = None
    problem: Optional[str] = None
    for directive in value.split(";"):
        name, _, argument = directive.partition("=")
        name = name.strip().lower()
        if not name:
            continue
        if name in seen:
            problem = problem or f"the directive {name} appears twice"
        seen.add(name)
        if name == "max-age":
            argument = argument.strip()
            if len(argument) >= 2 and argument[0] == argument[-1] == '"':
                argument = argument[1:-1]
            if re.fullmatch(r"[0-9]+", argument):
                max_age = int(argument)
            else:
                problem = problem or f"max-age={argument!r} is not a whole number of seconds"
    if max_age is None:
        problem = problem or "max-age is missing"
    return HSTSHeader(value, max_age, "includesubdomains" in seen, "preload" in seen, problem)


@dataclass(frozen=True)
class Requirement:
    """One requirement of the HSTS preload list and whether the site meets it."""

    name: str
    #: None when the probe could not check it.
    met: Optional[bool]
    detail: str


@dataclass(frozen=True)
class PreloadStatus:
    """The preload list's requirements (hstspreload.org) checked for the probed host."""

    host: str
    #: The host's HSTS header asks for preloading.
    requested: bool
    requirements: tuple[Requirement, ...]

    @property
    def ready(self) -> bool:
        return all(requirement.met for requirement in self.requirements)

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "ready": self.ready,
            "requested": self.requested,
            "requirements": [asdict(requirement) for requirement in self.requirements],
        }


def preload_status(chain: Chain) -> PreloadStatus:
    """Check the probed host against the preload list's requirements.

    The list wants http:// to redirect to https:// on the same host first,
    and the https response of that host (a redirect included) to carry HSTS
    with max-age of at least a year, includeSubDomains and preload.
    """
    start = chain.start
    host = start.host
    redirect: Requirement
    if start.is_secure:
        redirect = Requirement(
            "http redirects to https on the same host",
            None,
            "not checked: the probe started at https://; probe the http:// URL",
        )
    else:
        first = chain.hops[0]
        to = first.redirect_target()
        met = to is not None and to.is_secure and to.host == host
        if to is not None:
            detail = f"{first.url} -> {to.url}"
        elif first.error is not None:
            detail = f"{first.url}: {first.error}"
        else:
            detail = f"{first.url} answered {first.status}"
        redirect = Requirement("http redirects to https on the same host", met, detail)

    https_hop = _first_response_per_https_host(chain).get(host)
    failed_tls = next(
        (hop for hop in chain.hops if hop.target.is_secure and hop.target.host == host), None
    )
    if https_hop is not None:
        served = Requirement(f"https://{host} answers with a valid certificate", True, "")
    elif failed_tls is not None and failed_tls.error:
        served = Requirement(
            f"https://{host} answers with a valid certificate", False, failed_tls.error
        )
    else:
        served = Requirement(
            f"https://{host} answers with a valid certificate",
            False,
            f"the chain never reached https://{host}",
        )
    header = parse_hsts(https_hop.hsts) if https_hop and https_hop.hsts else None
    if header is None:
        has_hsts = Requirement("Strict-Transport-Security on that response", False, "absent")
    else:
        has_hsts = Requirement(
            "Strict-Transport-Security on that response",
            header.problem is None,
            header.problem or header.value,
        )
    max_age = header.max_age if header else None
    requirements = (
        redirect,
        served,
        has_hsts,
        Requirement(
            f"max-age of at least {PRELOAD_MIN_MAX_AGE}",
            max_age is not None and max_age >= PRELOAD_MIN_MAX_AGE,
            "absent" if max_age is None else f"max-age={max_age}",
        ),
        Requirement(
            "includeSubDomains",
            bool(header and header.include_subdomains),
            "present" if header and header.include_subdomains else "absent",
        ),
        Requirement(
            "preload",
            bool(header and header.preload),
            "present" if header and header.preload else "absent",
        ),
    )
    return PreloadStatus(host, bool(header and header.preload), requirements)


# --- Mixed content ----------------------------------------------------------

ACTIVE, PASSIVE, FORM = "active", "passive", "form"
# Attributes that make the browser fetch something while showing the page.
# Plain links (<a href>, <link rel=canonical>) are not fetched: not mixed content.
_FETCHED_ATTRIBUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "script": (("src", ACTIVE),),
    "iframe": (("src", ACTIVE),),
    "frame": (("src", ACTIVE),),
    "object": (("data", ACTIVE),),
    "embed": (("src", ACTIVE),),
    "img": (("src", PASSIVE), ("srcset", PASSIVE)),
    "source": (("src", PASSIVE), ("srcset", PASSIVE)),
    "audio": (("src", PASSIVE),),
    "video": (("src", PASSIVE), ("poster", PASSIVE)),
    "track": (("src", PASSIVE),),
    "form": (("action", FORM),),
    "button": (("formaction", FORM),),
}
_ACTIVE_LINK_RELS = frozenset({"stylesheet", "preload", "modulepreload", "manifest"})
_PASSIVE_LINK_RELS = frozenset({"icon", "apple-touch-icon"})


@dataclass(frozen=True)
class MixedContent:
    """An http:// URL that an https page makes the browser fetch or submit to."""

    url: str
    tag: str
    attribute: str
    #: ACTIVE (scripts, styles, frames: blocked), PASSIVE (images, media) or FORM.
    kind: str


class _SubresourceParser(HTMLParser):
    """Collects the URLs a page fetches, resolved against the page or its <base>."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = page_url
        self.has_base = False
        self.upgrades_insecure_requests = False
        self.found: list[MixedContent] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        values = {name: value for name, value in attrs if value is not None}
        if tag == "base" and "href" in values and not self.has_base:
            self.base, self.has_base = urljoin(self.base, values["href"].strip()), True
        elif tag == "meta" and values.get("http-equiv", "").lower() == "content-security-policy":
            self.upgrades_insecure_requests |= upgrades_insecure_requests(values.get("content", ""))
        for attribute, kind in _fetched_attributes(tag, values):
            for reference in _references(attribute, values.get(attribute, "")):
                url = urljoin(self.base, reference)
                if urlsplit(url).scheme.lower() == "http":
                    self.found.append(MixedContent(url, tag, attribute, kind))


def _fetched_attributes(tag: str, values: dict[str, str]) -> tuple[tuple[str, str], ...]:
    if tag == "link":
        rels = set(values.get("rel", "").lower().split())
        if rels & _ACTIVE_LINK_RELS:
            return (("href", ACTIVE),)
        if rels & _PASSIVE_LINK_RELS:
            return (("href", PASSIVE),)
        return ()
    if tag == "input":
        if values.get("type", "").lower() == "image":
            return (("formaction", FORM), ("src", PASSIVE))
        return (("formaction", FORM),)
    return _FETCHED_ATTRIBUTES.get(tag, ())


def _references(attribute: str, value: str) -> list[str]:
    value = value.strip()
    if not value:
        return []
    if attribute == "srcset":
        # "a.png 1x, http://cdn/b.png 2x": the URL is each candidate's first word.
        return [candidate.split()[0] for candidate in value.split(",") if candidate.split()]
    return [value]


def upgrades_insecure_requests(policy: str) -> bool:
    """Whether a Content-Security-Policy value has ``upgrade-insecure-requests``."""
    directives = re.split(r"[;,]", policy)
    return any(
        directive.split()[:1] == ["upgrade-insecure-requests"]
        for directive in (d.strip().lower() for d in directives)
    )


@dataclass(frozen=True)
class MixedContentScan:
    """The http:// URLs fetched by the final https page, if it is HTML."""

    page: Optional[str]
    items: tuple[MixedContent, ...]
    #: The page's CSP makes browsers fetch them over https instead.
    upgraded: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "upgrade_insecure_requests": self.upgraded,
            "items": [asdict(item) for item in self.items],
        }


def scan_mixed_content(chain: Chain) -> MixedContentScan:
    """Parse the final page, when it is HTML served over https."""
    last = chain.hops[-1]
    if not last.body:
        return MixedContentScan(None, (), False)
    parser = _SubresourceParser(last.url)
    parser.feed(last.body.decode(_charset(last.content_type), errors="replace"))
    parser.close()
    unique = tuple(dict.fromkeys(parser.found))
    upgraded = parser.upgrades_insecure_requests or upgrades_insecure_requests(
        last.content_security_policy
    )
    return MixedContentScan(last.url, unique, upgraded)


def _charset(content_type: str) -> str:
    match = re.search(r"charset\s*=\s*\"?([\w.:-]+)", content_type, re.IGNORECASE)
    name = match.group(1) if match else "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


# --- Findings ---------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One problem the probe found; ``id`` is stable for scripts and docs."""

    id: str
    level: str
    message: str
    hint: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def reaches(level: str, fail_level: str) -> bool:
    """Whether a finding of ``level`` is at or above ``fail_level``."""
    return LEVELS.index(level) >= LEVELS.index(fail_level)


_TRUST_PROXY_HINT = (
    "behind a TLS-terminating proxy the app must learn that the request was https:"
    " set HTTPSGuard's trusted_proxies to the number of proxies, and have the proxy"
    " send X-Forwarded-Proto $scheme"
)

# The finding each kind of failed hop gives: ID, what went wrong, what to do.
_FAILURES = {
    CERTIFICATE_HOST: (
        "HP030",
        "the certificate of {host} is not valid for that name",
        "Serve a certificate whose subjectAltName lists {host}.",
    ),
    CERTIFICATE_EXPIRED: (
        "HP031",
        "the certificate of {host} is expired or not yet valid",
        "Renew the certificate, and check that renewal runs on its own.",
    ),
    CERTIFICATE_UNTRUSTED: (
        "HP032",
        "the certificate of {host} is not trusted",
        "Serve the full chain from a CA that browsers trust; for a private CA,"
        " pass its certificate with --cafile.",
    ),
    TLS: (
        "HP033",
        "no TLS connection to {authority}",
        "Check that this port serves TLS, with protocols and ciphers current browsers accept.",
    ),
    CONNECT: (
        "HP040",
        "could not reach {authority}",
        "Check the host name, DNS and firewall. A site that deliberately does not"
        " listen on plain HTTP can be probed from its https:// URL.",
    ),
    TIMEOUT: (
        "HP041",
        "{authority} did not answer in time",
        "Check the server, or allow more time with --timeout and --total-timeout.",
    ),
    RESPONSE: (
        "HP042",
        "{authority} did not send a valid HTTP response",
        "Check that this port serves HTTP (or, for https://, HTTP over TLS).",
    ),
}


def _connection_findings(chain: Chain) -> Iterator[Finding]:
    expiring: set[str] = set()
    for hop in chain.hops:
        target = hop.target
        if hop.error_kind is not None:
            finding_id, message, hint = _FAILURES[hop.error_kind]
            names = {"host": target.host, "authority": target.authority}
            yield Finding(
                finding_id,
                "error",
                f"{message.format(**names)}: {hop.error}",
                hint.format(**names),
            )
        certificate = hop.certificate
        if (
            certificate is not None
            and certificate.days_left < EXPIRY_WARNING_DAYS
            and target.host not in expiring
        ):
            expiring.add(target.host)
            yield Finding(
                "HP034",
                "warning",
                f"the certificate of {target.host} expires in {certificate.days_left} days"
                f" ({certificate.not_after})",
                "Renew it now, and check why automatic renewal has not.",
            )


def _redirect_findings(chain: Chain) -> Iterator[Finding]:
    start, first = chain.start, chain.hops[0]
    if start.is_secure:
        yield Finding(
            "HP005",
            "info",
            f"the probe started at {start.url}, so the redirect from plain HTTP was not checked",
            f"Probe http://{start.authority}{start.path} to check it too.",
        )
        return
    if first.error is not None:
        return
    if not first.is_redirect:
        yield Finding(
            "HP001",
            "error",
            f"{first.url} answered {first.status} over plain HTTP instead of redirecting"
            " to https://",
            "Redirect every plain-HTTP request to https:// on the same host (HTTPSGuard does;"
            f" if it runs but does not redirect, {_TRUST_PROXY_HINT}).",
        )
        return
    to = first.redirect_target()
    if to is None:
        return
    if not to.is_secure:
        yield Finding(
            "HP002",
            "warning",
            f"the first redirect stays on plain HTTP: {first.url} -> {to.url}",
            f"Redirect straight to https://{start.authority}/ so that nothing more travels"
            " in plain text; the preload list requires it.",
        )
    if to.host != start.host:
        yield Finding(
            "HP003",
            "warning",
            f"the first redirect leaves {start.host} for {to.host}, so browsers never"
            f" get an HSTS policy for {start.host}",
            f"Redirect http://{start.authority}/ to https://{start.authority}/ first (with"
            f" HSTS), and only then to {to.host}; the preload list requires it.",
        )
    last = chain.hops[-1]
    if chain.stopped is None and last.status is not None and not last.target.is_secure:
        yield Finding(
            "HP004",
            "error",
            f"the redirects end on plain HTTP at {last.url} (status {last.status})",
            "Make the chain end on an https:// URL.",
        )


def _hsts_findings(chain: Chain) -> Iterator[Finding]:
    plain = next((hop for hop in chain.hops if hop.hsts and not hop.target.is_secure), None)
    if plain is not None:
        yield Finding(
            "HP011",
            "warning",
            f"{plain.url} sent Strict-Transport-Security over plain HTTP, where browsers"
            " ignore it (RFC 6797, section 7.2)",
            "Send HSTS on https responses only. When the app sends it here, the app"
            f" believes this plain-HTTP request is secure: {_TRUST_PROXY_HINT}, not https.",
        )
    for host, hop in _first_response_per_https_host(chain).items():
        if not hop.hsts:
            yield Finding(
                "HP010",
                "error",
                f"https://{host} answered without Strict-Transport-Security ({hop.url})",
                "Send HSTS on every https response, redirects included (HTTPSGuard does"
                " by default).",
            )
            continue
        header = parse_hsts(hop.hsts)
        if header.problem is not None:
            yield Finding(
                "HP012",
                "error",
                f"browsers ignore the Strict-Transport-Security of {host}:"
                f" {header.problem} ({header.value!r})",
                "Send 'max-age=<seconds>', optionally with '; includeSubDomains' and '; preload'.",
            )
        elif header.max_age == 0:
            yield Finding(
                "HP013",
                "warning",
                f"{host} sends max-age=0, which tells browsers to forget its HSTS policy",
                "Fine to undo HSTS on purpose; otherwise send a max-age in seconds.",
            )
        elif header.max_age is not None and header.max_age < PRELOAD_MIN_MAX_AGE:
            yield Finding(
                "HP014",
                "info",
                f"{host} sends HSTS with max-age={header.max_age}, less than a year",
                "A short max-age suits the first steps of a rollout; raise it to at least"
                f" {PRELOAD_MIN_MAX_AGE} (a year) once https works everywhere.",
            )


def _preload_findings(status: PreloadStatus) -> Iterator[Finding]:
    # A requirement the probe could not check (met is None) has its own finding, HP005.
    unmet = "; ".join(
        requirement.name for requirement in status.requirements if requirement.met is False
    )
    if not unmet:
        return
    if status.requested:
        yield Finding(
            "HP020",
            "error",
            f"{status.host} asks for HSTS preloading but does not meet the list's"
            f" requirements: {unmet}",
            "hstspreload.org refuses (or later removes) a domain until every requirement is met.",
        )
    else:
        yield Finding(
            "HP020",
            "info",
            f"{status.host} is not ready for the HSTS preload list: {unmet}",
            "Preloading is optional. Once HSTS has run with a long max-age, add"
            " includeSubDomains and preload (HTTPSGuard: hsts_include_subdomains=True,"
            " hsts_preload=True) and submit the registrable domain at hstspreload.org.",
        )


def _mixed_content_findings(scan: MixedContentScan) -> Iterator[Finding]:
    if not scan.items or scan.page is None:
        return
    page_host = urlsplit(scan.page).hostname
    if scan.upgraded:
        # The CSP upgrades subresources, and form submissions to the page's own host only.
        left = [
            item
            for item in scan.items
            if item.kind == FORM and urlsplit(item.url).hostname != page_host
        ]
        yield Finding(
            "HP053",
            "info",
            f"{scan.page} refers to {len(scan.items) - len(left)} http:// URL(s) that its"
            " Content-Security-Policy upgrade-insecure-requests makes browsers fetch over"
            f" https: {_examples(scan.items)}",
            "Change them to https:// (or relative) URLs so that clients without CSP stay"
            " secure too, and make sure each host serves https.",
        )
    else:
        left = list(scan.items)
    active = [item for item in left if item.kind == ACTIVE]
    passive = [item for item in left if item.kind == PASSIVE]
    forms = [item for item in left if item.kind == FORM]
    fix = (
        "Load them from https:// (or relative) URLs, or send Content-Security-Policy:"
        " upgrade-insecure-requests (HTTPSGuard: upgrade_insecure_requests=True)."
    )
    if active:
        yield Finding(
            "HP050",
            "error",
            f"{scan.page} loads {len(active)} script(s), style sheet(s) or frame(s) over"
            f" http://, which browsers block: {_examples(active)}",
            fix,
        )
    if passive:
        yield Finding(
            "HP051",
            "warning",
            f"{scan.page} loads {len(passive)} image(s) or media over http://, which browsers"
            f" upgrade or block, marking the page not fully secure: {_examples(passive)}",
            fix,
        )
    if forms:
        yield Finding(
            "HP052",
            "error",
            f"{scan.page} has {len(forms)} form(s) that submit to http://, sending what"
            f" users type in plain text: {_examples(forms)}",
            "Point each form's action at an https:// or relative URL.",
        )


def _examples(items: Sequence[MixedContent], limit: int = 3) -> str:
    shown = ", ".join(f"<{item.tag} {item.attribute}={item.url}>" for item in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _chain_findings(chain: Chain, max_redirects: int) -> Iterator[Finding]:
    last = chain.hops[-1]
    if chain.stopped == LOOP:
        yield Finding(
            "HP060",
            "error",
            f"redirect loop: {last.url} redirects to {chain.not_followed}, which was"
            " already requested; browsers give up with 'too many redirects'",
            f"When the app redirects requests that are already https, {_TRUST_PROXY_HINT}.",
        )
    elif chain.stopped == TOO_MANY:
        yield Finding(
            "HP061",
            "error",
            f"more than {max_redirects} redirect(s); stopped before {chain.not_followed}",
            "Redirect http:// to the final https:// URL in one or two hops (or allow more"
            " with --max-redirects).",
        )
    elif chain.stopped == NO_LOCATION:
        yield Finding(
            "HP062",
            "error",
            f"{last.url} answered {last.status} without a usable Location header"
            f" ({last.location!r})",
            "Send an absolute or relative http(s) URL in Location with every redirect.",
        )


# --- The probe and its report -----------------------------------------------


@dataclass(frozen=True)
class ProbeReport:
    """Everything one probe saw and concluded."""

    chain: Chain
    preload: PreloadStatus
    mixed_content: MixedContentScan
    findings: tuple[Finding, ...]

    @property
    def url(self) -> str:
        return self.chain.start.url

    @property
    def hops(self) -> tuple[Hop, ...]:
        return self.chain.hops

    def failed(self, fail_level: str) -> bool:
        """Whether a finding reaches ``fail_level`` (one of :data:`LEVELS`)."""
        return any(reaches(finding.level, fail_level) for finding in self.findings)

    def as_dict(self, fail_level: str) -> dict[str, Any]:
        return {
            "url": self.url,
            "fail_level": fail_level,
            "passed": not self.failed(fail_level),
            "hops": [hop.as_dict() for hop in self.hops],
            "preload": self.preload.as_dict(),
            "mixed_content": self.mixed_content.as_dict(),
            "findings": [finding.as_dict() for finding in self.findings],
        }


def make_tls_context(cafile: Optional[str] = None) -> ssl.SSLContext:
    """A verifying client context: the system's CAs, or only those in ``cafile``."""
    try:
        return ssl.create_default_context(cafile=cafile)
    except (OSError, ValueError) as error:
        raise ProbeUsageError(
            "--cafile", f"cannot read CA certificates from {cafile}: {error}"
        ) from None


def probe(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
    cafile: Optional[str] = None,
    resolve: Sequence[str] = (),
) -> ProbeReport:
    """Probe ``url`` hop by hop and check what came back.

    ``resolve`` holds curl-style ``HOST:PORT:ADDRESS`` entries. Network and
    TLS failures become findings; bad arguments raise :class:`ProbeUsageError`.

    >>> report = probe("http://app.test/", resolve=["app.test:*:127.0.0.1"])  # doctest: +SKIP
    >>> [finding.id for finding in report.findings]  # doctest: +SKIP
    ['HP020']
    """
    start = parse_url(url)
    settings = ProbeSettings(
        timeout=timeout,
        total_timeout=total_timeout,
        max_redirects=max_redirects,
        cafile=cafile,
        resolve=tuple(parse_resolve(entry) for entry in resolve),
    )
    chain = follow(start, settings, make_tls_context(cafile))
    preload = preload_status(chain)
    scan = scan_mixed_content(chain)
    findings = [
        *_redirect_findings(chain),
        *_hsts_findings(chain),
        *_preload_findings(preload),
        *_connection_findings(chain),
        *_mixed_content_findings(scan),
        *_chain_findings(chain, max_redirects),
    ]
    findings.sort(key=lambda finding: finding.id)
    return ProbeReport(chain, preload, scan, tuple(findings))


# --- Human output -----------------------------------------------------------


def format_report(report: ProbeReport, fail_level: str, width: int = _WIDTH) -> list[str]:
    """The report as lines for a terminal."""
    lines = [f"Probe of {report.url}", ""]
    for number, hop in enumerate(report.hops, start=1):
        address = f"  [{hop.address}]" if hop.address else ""
        lines.append(f"{number}. {hop.url}{address}")
        if hop.error is not None:
            lines.append(f"   error: {hop.error}")
            continue
        status = f"   status {hop.status}"
        if hop.location is not None:
            status += f", Location: {hop.location}"
        lines.append(status)
        lines.append(f"   Strict-Transport-Security: {hop.hsts or '(none)'}")
        if hop.certificate is not None:
            certificate = hop.certificate
            lines.append(
                f"   certificate: valid for {hop.target.host}, issued by"
                f" {certificate.issuer or '(unnamed)'}, expires {certificate.not_after[:10]}"
                f" ({certificate.days_left} days left)"
            )
    if report.chain.not_followed:
        lines.append(f"   not followed: {report.chain.not_followed}")

    preload = report.preload
    verdict = "ready" if preload.ready else "not ready"
    lines += ["", f"HSTS preload list requirements for {preload.host}: {verdict}"]
    for requirement in preload.requirements:
        mark = {True: "ok", False: "--", None: "??"}[requirement.met]
        detail = f": {requirement.detail}" if requirement.detail else ""
        lines.append(_wrap(f"  [{mark}] {requirement.name}{detail}", width, 7))

    scan = report.mixed_content
    if scan.page is not None:
        count = f"{len(scan.items)} http:// URL(s)" if scan.items else "none"
        lines += ["", f"Mixed content on {scan.page}: {count}"]
        lines += [
            f"  {item.kind:<8}<{item.tag} {item.attribute}> {item.url}" for item in scan.items
        ]

    lines.append("")
    for finding in report.findings:
        lines.append(_wrap(f"{finding.id} {finding.level:<7} {finding.message}", width, 14))
        lines.append(_wrap(f"{'':14}hint: {finding.hint}", width, 14))
    counts = {level: sum(finding.level == level for finding in report.findings) for level in LEVELS}
    summary = ", ".join(f"{counts[level]} {level}" for level in reversed(LEVELS))
    outcome = "FAILED" if report.failed(fail_level) else "passed"
    lines.append(f"{summary}: {outcome} (--fail-level {fail_level})")
    return lines


def _wrap(text: str, width: int, indent: int) -> str:
    return textwrap.fill(text, width, subsequent_indent=" " * indent, break_on_hyphens=False)


# --- The command ------------------------------------------------------------


@click.command("probe")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option(
    "--fail-level",
    type=click.Choice(LEVELS),
    default="warning",
    show_default=True,
    help="Exit with status 1 when a finding reaches this level.",
)
@click.option(
    "--cafile",
    type=click.Path(exists=True, dir_okay=False),
    help="Trust only the CA certificates in this PEM file (a private CA) instead of the system's.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds each connect and each read may wait.",
)
@click.option(
    "--total-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TOTAL_TIMEOUT,
    show_default=True,
    help="Seconds for the whole probe; no request starts after that.",
)
@click.option(
    "--max-redirects",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_REDIRECTS,
    show_default=True,
    help="Redirects to follow before giving up.",
)
@click.option(
    "--resolve",
    "resolve",
    multiple=True,
    metavar="HOST:PORT:ADDRESS",
    help="Connect to ADDRESS for HOST:PORT (PORT may be *) but keep HOST for the Host"
    " header, SNI and the certificate check, as curl does. Repeatable.",
)
def probe_command(
    url: str,
    as_json: bool,
    fail_level: str,
    cafile: Optional[str],
    timeout: float,
    total_timeout: float,
    max_redirects: int,
    resolve: tuple[str, ...],
) -> None:
    """Check a deployed site from the outside: redirect, HSTS, preload, TLS, mixed content.

    Requests URL (a bare host name means http://HOST/) and follows each
    redirect itself, reporting every hop; then reports findings with stable
    IDs (HP001...). It needs no app, so it runs anywhere Flask is installed:

    \b
        flask https-guard probe http://example.com/
        python -m flask_https_guard.probe http://example.com/ --json

    Exit status: 0 when no finding reaches --fail-level, 1 when one does,
    2 for a bad command line.
    """
    try:
        report = probe(
            url,
            timeout=timeout,
            total_timeout=total_timeout,
            max_redirects=max_redirects,
            cafile=cafile,
            resolve=resolve,
        )
    except ProbeUsageError as error:
        raise click.BadParameter(error.message, param_hint=error.option) from None
    if as_json:
        click.echo(json.dumps(report.as_dict(fail_level), indent=2))
    else:
        width = min(_WIDTH, shutil.get_terminal_size((_WIDTH, 24)).columns)
        click.echo("\n".join(format_report(report, fail_level, width)))
    if report.failed(fail_level):
        raise SystemExit(1)


if __name__ == "__main__":
    probe_command(prog_name="python -m flask_https_guard.probe")
