"""HSTS as a browser reads it, and the HSTS preload list's requirements (hstspreload.org)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Optional

from ..headers import PRELOAD_MIN_MAX_AGE
from .hops import Chain, Hop, first_https_responses


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
    #: The subdomains named with ``--subdomain`` (``host[:port]``), and those that fail https.
    subdomains: tuple[str, ...] = ()
    failing: tuple[str, ...] = ()
    #: The host and every named subdomain serve https; None when none was named.
    include_subdomains_safe: Optional[bool] = None

    @property
    def ready(self) -> bool:
        return all(requirement.met for requirement in self.requirements)

    def verdict(self) -> str:
        """Whether includeSubDomains (so preload) is safe, from the host and named subdomains."""
        named = len(self.subdomains)
        if not named:
            return "not checked (--subdomain NAME checks one)"
        if self.include_subdomains_safe:
            return f"safe for the {named} subdomain(s) named"
        if self.failing:
            return f"not safe: {len(self.failing)} of {named} named subdomain(s) fail"
        return f"not safe: https://{self.host} itself fails"

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "ready": self.ready,
            "requested": self.requested,
            "requirements": [asdict(requirement) for requirement in self.requirements],
            "include_subdomains": {
                "safe": self.include_subdomains_safe,
                "verdict": self.verdict(),
                "subdomains": list(self.subdomains),
                "failing": list(self.failing),
                "covers": SCOPE,
            },
        }


#: What the subdomain verdict can and cannot say.
SCOPE = (
    "covers only the subdomains named with --subdomain; includeSubDomains and preload"
    " apply to every subdomain, named or not"
)


def preload_status(chain: Chain, subdomains: Sequence[Hop] = ()) -> PreloadStatus:
    """Check the probed host, and the subdomains named, against the preload list's requirements."""
    host, first = chain.start.host, chain.hops[0]
    to = first.redirect_target()
    redirect: tuple[Optional[bool], str] = (False, f"{first.url} answered {first.status}")
    if chain.start.is_secure:
        redirect = (None, "not checked: the probe started at https://; probe the http:// URL")
    elif to is not None:
        redirect = (to.is_secure and to.host == host, f"{first.url} -> {to.url}")
    elif first.error:
        redirect = (False, f"{first.url}: {first.error}")
    https_hop = first_https_responses(chain).get(host)
    served = https_hop is not None
    errors = (hop.error for hop in chain.hops if hop.target.host == host and hop.target.is_secure)
    reason = "" if served else next(filter(None, errors), f"the chain never reached https://{host}")
    header = parse_hsts(https_hop.hsts) if https_hop and https_hop.hsts else None
    max_age = header.max_age if header else None
    covers, requested = bool(header and header.include_subdomains), bool(header and header.preload)
    requirements = [
        Requirement("http redirects to https on the same host", *redirect),
        Requirement(f"https://{host} answers with a valid certificate", served, reason),
        Requirement(
            "Strict-Transport-Security on that response",
            header is not None and header.problem is None,
            "absent" if header is None else header.problem or header.value,
        ),
        Requirement(
            f"max-age of at least {PRELOAD_MIN_MAX_AGE}",
            max_age is not None and max_age >= PRELOAD_MIN_MAX_AGE,
            "absent" if max_age is None else f"max-age={max_age}",
        ),
        Requirement("includeSubDomains", covers, "present" if covers else "absent"),
        Requirement("preload", requested, "present" if requested else "absent"),
    ]
    names = tuple(hop.target.authority for hop in subdomains)
    failing = tuple(hop.target.authority for hop in subdomains if hop.error)
    if subdomains:
        detail = f"failing: {', '.join(failing)}" if failing else ", ".join(names)
        requirements.append(Requirement("the named subdomains answer https", not failing, detail))
    safe = served and not failing if subdomains else None
    return PreloadStatus(host, requested, tuple(requirements), names, failing, safe)
