"""The checks: each problem in a chain becomes a finding with a stable ID.

HP00x redirect to https, HP01x HSTS, HP020 preload list, HP03x TLS,
HP04x connection, HP05x mixed content, HP06x redirect chain, HP07x the
subdomains named with ``--subdomain``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

from ..findings import Finding
from ..headers import PRELOAD_MIN_MAX_AGE
from .hops import LOOP, NO_LOCATION, TOO_MANY, Chain, Hop, first_https_responses
from .hsts import PreloadStatus, parse_hsts
from .mixed_content import ACTIVE, FORM, PASSIVE, MixedContent, MixedContentScan

#: A certificate with fewer days left than this gives a warning (HP034).
EXPIRY_WARNING_DAYS = 14


_TRUST_PROXY_HINT = (
    "Behind a TLS-terminating proxy, the app learns the scheme from the proxy: set"
    " HTTPSGuard's trusted_proxies to the number of proxies, and have each server block"
    " of the proxy send X-Forwarded-Proto $scheme (never a fixed https)."
)

# The finding a failed hop gives, by its error_kind: what went wrong, what to do.
_FAILURES = {
    "HP030": (
        "the certificate of {host} is not valid for that name",
        "Serve a certificate whose subjectAltName lists {host}.",
    ),
    "HP031": (
        "the certificate of {host} is expired or not yet valid",
        "Renew the certificate, and check that renewal runs on its own.",
    ),
    "HP032": (
        "the certificate of {host} is not trusted",
        "Serve the full chain from a CA that browsers trust; for a private CA,"
        " pass its certificate with --cafile.",
    ),
    "HP033": (
        "no TLS connection to {authority}",
        "Check that this port serves TLS, with protocols and ciphers current browsers accept.",
    ),
    "HP040": (
        "could not reach {authority}",
        "Check the host name, DNS and firewall. A site that deliberately does not"
        " listen on plain HTTP can be probed from its https:// URL.",
    ),
    "HP041": (
        "{authority} did not answer in time",
        "Check the server, or allow more time with --timeout and --total-timeout.",
    ),
    "HP042": (
        "{authority} did not send a valid HTTP response",
        "Check that this port serves HTTP (or, for https://, HTTP over TLS).",
    ),
}


def _connection_findings(chain: Chain, subdomains: Sequence[Hop]) -> Iterator[Finding]:
    seen: set[str] = set()  # hosts already given an HP034
    named = [(hop, False) for hop in chain.hops] + [(hop, True) for hop in subdomains]
    for hop, subdomain in named:
        target = hop.target
        finding_id = hop.error_kind
        if finding_id is not None:
            message, hint = _FAILURES[finding_id]
            names = {"host": target.host, "authority": target.authority}
            message = f"{message.format(**names)}: {hop.error}"
            if subdomain:
                certificate_kind = finding_id in ("HP030", "HP031", "HP032")
                finding_id = "HP070" if certificate_kind else "HP071"
                message = f"subdomain {target.authority}: {message}"
                hint = (hint if certificate_kind else "Serve https on {authority}.") + (
                    f" Until then, includeSubDomains (and preload) on {chain.start.host}"
                    " locks browsers out of it."
                )
            yield Finding.of(finding_id, message, hint.format(**names))
        certificate = hop.certificate
        if certificate and certificate.days_left < EXPIRY_WARNING_DAYS and target.host not in seen:
            seen.add(target.host)
            yield Finding.of(
                "HP034",
                f"the certificate of {target.host} expires in {certificate.days_left} days"
                f" ({certificate.not_after})",
                "Renew it now, and check why automatic renewal has not.",
            )


def _redirect_findings(chain: Chain) -> Iterator[Finding]:
    start, first = chain.start, chain.hops[0]
    if start.is_secure:
        yield Finding.of(
            "HP005",
            f"the probe started at {start.url}, so the redirect from plain HTTP was not checked",
            f"Probe http://{start.authority}{start.path} to check it too.",
        )
        return
    if first.error is not None:
        return
    if not first.is_redirect:
        yield Finding.of(
            "HP001",
            f"{first.url} answered {first.status} over plain HTTP instead of redirecting"
            " to https://",
            "Redirect every plain-HTTP request to https:// on the same host (HTTPSGuard"
            " does). If the guard runs but does not redirect, it was told this request"
            f" was https. {_TRUST_PROXY_HINT}",
        )
        return
    to = first.redirect_target()
    if to is None:
        return
    if not to.is_secure:
        yield Finding.of(
            "HP002",
            f"the first redirect stays on plain HTTP: {first.url} -> {to.url}",
            f"Redirect straight to https://{start.host}/ so that nothing more travels"
            " in plain text; the preload list requires it.",
        )
    if to.host != start.host:
        yield Finding.of(
            "HP003",
            f"the first redirect leaves {start.host} for {to.host}, so browsers never"
            f" get an HSTS policy for {start.host}",
            f"Redirect http://{start.host}/ to https://{start.host}/ first (with"
            f" HSTS), and only then to {to.host}; the preload list requires it.",
        )
    last = chain.hops[-1]
    if chain.stopped is None and last.status is not None and not last.target.is_secure:
        yield Finding.of(
            "HP004",
            f"the redirects end on plain HTTP at {last.url} (status {last.status})",
            "Make the chain end on an https:// URL.",
        )


def _hsts_findings(chain: Chain) -> Iterator[Finding]:
    plain = next((hop for hop in chain.hops if hop.hsts and not hop.target.is_secure), None)
    if plain is not None:
        yield Finding.of(
            "HP011",
            f"{plain.url} sent Strict-Transport-Security over plain HTTP, where browsers"
            " ignore it (RFC 6797, section 7.2)",
            "Send HSTS on https responses only. When the app sends it here, it was told"
            f" this plain-HTTP request was https. {_TRUST_PROXY_HINT}",
        )
    for host, hop in first_https_responses(chain).items():
        header = parse_hsts(hop.hsts) if hop.hsts else None
        if header is None:
            yield Finding.of(
                "HP010",
                f"https://{host} answered without Strict-Transport-Security ({hop.url})",
                "Send HSTS on every https response, redirects included (HTTPSGuard does"
                " by default).",
            )
        elif header.problem is not None:
            yield Finding.of(
                "HP012",
                f"browsers ignore the Strict-Transport-Security of {host}:"
                f" {header.problem} ({header.value!r})",
                "Send 'max-age=<seconds>', optionally with '; includeSubDomains' and '; preload'.",
            )
        elif header.max_age == 0:
            yield Finding.of(
                "HP013",
                f"{host} sends max-age=0, which tells browsers to forget its HSTS policy",
                "Fine to undo HSTS on purpose; otherwise send a max-age in seconds.",
            )
        elif header.max_age is not None and header.max_age < PRELOAD_MIN_MAX_AGE:
            yield Finding.of(
                "HP014",
                f"{host} sends HSTS with max-age={header.max_age}, less than a year",
                "A short max-age suits the first steps of a rollout; raise it to at least"
                f" {PRELOAD_MIN_MAX_AGE} (a year) once https works everywhere.",
            )


def _preload_findings(status: PreloadStatus) -> Iterator[Finding]:
    # A requirement the probe could not check (met is None) has its own finding, HP005.
    unmet = "; ".join(
        requirement.name for requirement in status.requirements if requirement.met is False
    )
    if unmet and status.requested:
        yield Finding.of(
            "HP020",
            f"{status.host} asks for HSTS preloading but does not meet the list's"
            f" requirements: {unmet}",
            "hstspreload.org refuses (or later removes) a domain until every requirement is met.",
        )
    elif unmet:
        yield Finding.of(
            "HP020",
            f"{status.host} is not ready for the HSTS preload list: {unmet}",
            "Preloading is optional. Once HSTS has run with a long max-age, add"
            " includeSubDomains and preload (HTTPSGuard: hsts_include_subdomains=True,"
            " hsts_preload=True) and submit the registrable domain at hstspreload.org.",
            level="info",
        )


def _mixed_content_findings(scan: MixedContentScan) -> Iterator[Finding]:
    if not scan.items or scan.page is None:
        return
    left = list(scan.items)
    if scan.upgrade_insecure_requests:
        # The CSP upgrades subresources, and form submissions to the page's own host only.
        page_host = urlsplit(scan.page).hostname
        left = [
            item for item in left if item.kind == FORM and urlsplit(item.url).hostname != page_host
        ]
        yield Finding.of(
            "HP053",
            f"{scan.page} refers to {len(scan.items) - len(left)} http:// URL(s) that its"
            " Content-Security-Policy upgrade-insecure-requests makes browsers fetch over"
            f" https: {_examples(scan.items)}",
            "Change them to https:// (or relative) URLs so that clients without CSP stay"
            " secure too, and make sure each host serves https.",
        )
    active, passive, forms = (
        [item for item in left if item.kind == kind] for kind in (ACTIVE, PASSIVE, FORM)
    )
    fix = (
        "Load them from https:// (or relative) URLs, or send Content-Security-Policy:"
        " upgrade-insecure-requests (HTTPSGuard: upgrade_insecure_requests=True)."
    )
    if active:
        yield Finding.of(
            "HP050",
            f"{scan.page} loads {len(active)} script(s), style sheet(s) or frame(s) over"
            f" http://, which browsers block: {_examples(active)}",
            fix,
        )
    if passive:
        yield Finding.of(
            "HP051",
            f"{scan.page} loads {len(passive)} image(s) or media over http://, which browsers"
            f" upgrade or block, marking the page not fully secure: {_examples(passive)}",
            fix,
        )
    if forms:
        yield Finding.of(
            "HP052",
            f"{scan.page} has {len(forms)} form(s) that submit to http://, sending what"
            f" users type in plain text: {_examples(forms)}",
            "Point each form's action at an https:// or relative URL.",
        )


def _examples(items: Sequence[MixedContent], limit: int = 3) -> str:
    shown = ", ".join(f"<{item.tag} {item.attribute}={item.url}>" for item in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _chain_findings(chain: Chain) -> Iterator[Finding]:
    last = chain.hops[-1]
    if chain.stopped == LOOP:
        yield Finding.of(
            "HP060",
            f"redirect loop: {last.url} redirects to {chain.not_followed}, which was"
            " already requested; browsers give up with 'too many redirects'",
            "An https URL that redirects to itself: the app behind the proxy believes"
            f" the request was plain HTTP. {_TRUST_PROXY_HINT}",
        )
    elif chain.stopped == TOO_MANY:
        yield Finding.of(
            "HP061",
            # Following stopped on the hop after --max-redirects redirects.
            f"more than {len(chain.hops) - 1} redirect(s); stopped before {chain.not_followed}",
            "Redirect http:// to the final https:// URL in one or two hops (or allow more"
            " with --max-redirects).",
        )
    elif chain.stopped == NO_LOCATION:
        yield Finding.of(
            "HP062",
            f"{last.url} answered {last.status} without a usable Location header"
            f" ({last.location!r})",
            "Send an absolute or relative http(s) URL in Location with every redirect.",
        )


def check(
    chain: Chain, subdomains: Sequence[Hop], preload: PreloadStatus, scan: MixedContentScan
) -> tuple[Finding, ...]:
    """Every finding for one probe, sorted by ID."""
    findings = [
        *_redirect_findings(chain),
        *_hsts_findings(chain),
        *_preload_findings(preload),
        *_connection_findings(chain, subdomains),
        *_mixed_content_findings(scan),
        *_chain_findings(chain),
    ]
    return tuple(sorted(findings, key=lambda finding: finding.id))
