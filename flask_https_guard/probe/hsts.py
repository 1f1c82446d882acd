"""HSTS as a browser reads it, and the HSTS preload list's requirements.

The preload list (hstspreload.org) wants http:// to redirect to https:// on
the same host first, and the https response of that host (a redirect
included) to carry HSTS with max-age of at least a year, includeSubDomains
and preload.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Optional

from .hops import Chain, first_https_responses

#: The HSTS preload list's minimum max-age: one year, in seconds.
PRELOAD_MIN_MAX_AGE = 31536000


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

    https_hop = first_https_responses(chain).get(host)
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
