"""Run a probe and describe what it saw, as data or as lines for a terminal."""

from __future__ import annotations

import ssl
import textwrap
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Optional

from ..findings import Finding
from .findings import check
from .hops import (
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
    Chain,
    Hop,
    ProbeSettings,
    ProbeUsageError,
    fetch,
    follow,
    parse_resolve,
    parse_subdomain,
    parse_url,
)
from .hsts import SCOPE, PreloadStatus, preload_status
from .mixed_content import MixedContentScan, scan_mixed_content

WIDTH = 80


@dataclass(frozen=True)
class ProbeReport:
    """Everything one probe saw and concluded."""

    chain: Chain
    #: One https request to each subdomain named with ``--subdomain``.
    subdomains: tuple[Hop, ...]
    preload: PreloadStatus
    mixed_content: MixedContentScan
    findings: tuple[Finding, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.chain.start.url,
            "hops": [hop.as_dict() for hop in self.chain.hops],
            "subdomains": [hop.as_dict() for hop in self.subdomains],
            "preload": self.preload.as_dict(),
            "mixed_content": asdict(self.mixed_content),
            "findings": [finding.as_dict() for finding in self.findings],
        }


def probe(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
    cafile: Optional[str] = None,
    resolve: Sequence[str] = (),
    subdomains: Sequence[str] = (),
) -> ProbeReport:
    """Probe ``url`` hop by hop, then ``https://NAME/`` for each subdomain, and check them.

    ``resolve`` holds curl-style ``HOST:PORT:ADDRESS`` entries, ``subdomains``
    host names (``NAME[:PORT]``) under the URL's host. Network and TLS
    failures become findings; bad arguments raise :class:`ProbeUsageError`.

    >>> report = probe("http://app.test/", resolve=["app.test:*:127.0.0.1"])  # doctest: +SKIP
    >>> [finding.id for finding in report.findings]  # doctest: +SKIP
    ['HP020']
    """
    start = parse_url(url)
    resolved = dict(parse_resolve(entry) for entry in resolve)
    named = {target.url: target for target in (parse_subdomain(n, start) for n in subdomains)}
    try:
        context = ssl.create_default_context(cafile=cafile)
    except (OSError, ValueError) as error:
        message = f"cannot read CA certificates from {cafile}: {error}"
        raise ProbeUsageError("--cafile", message) from None
    deadline = time.monotonic() + total_timeout
    settings = ProbeSettings(timeout, max_redirects, deadline, context, resolved)
    chain = follow(start, settings)
    checked = tuple(fetch(target, settings) for target in named.values())
    preload = preload_status(chain, checked)
    scan = scan_mixed_content(chain)
    findings = check(chain, checked, preload, scan)
    return ProbeReport(chain, checked, preload, scan, findings)


# --- Human output -----------------------------------------------------------


def format_report(report: ProbeReport, width: int = WIDTH) -> list[str]:
    """What the probe saw, as lines for a terminal: the findings follow them."""
    lines = [f"Probe of {report.chain.start.url}", ""]
    for number, hop in enumerate(report.chain.hops, start=1):
        lines += _hop_lines(f"{number}.", hop)
    if report.chain.not_followed:
        lines.append(f"   not followed: {report.chain.not_followed}")
    if report.subdomains:
        lines += ["", "Subdomains named (each needs a valid certificate and an https answer):"]
        for hop in report.subdomains:
            lines += _hop_lines("*", hop, hsts_note=" (information only)")

    preload = report.preload
    verdict = "ready" if preload.ready else "not ready"
    lines += ["", f"HSTS preload list requirements for {preload.host}: {verdict}"]
    for requirement in preload.requirements:
        mark = {True: "ok", False: "--", None: "??"}[requirement.met]
        detail = f": {requirement.detail}" if requirement.detail else ""
        lines.append(_wrap(f"  [{mark}] {requirement.name}{detail}", width, 7))
    lines.append(_wrap(f"includeSubDomains for {preload.host}: {preload.verdict()}", width, 2))
    if preload.subdomains:
        lines.append(_wrap(f"  This {SCOPE}.", width, 2))

    scan = report.mixed_content
    if scan.page is not None:
        count = f"{len(scan.items)} http:// URL(s)" if scan.items else "none"
        lines += ["", f"Mixed content on {scan.page}: {count}"]
        lines += [
            f"  {item.kind:<8}<{item.tag} {item.attribute}> {item.url}" for item in scan.items
        ]
    return lines


def _hop_lines(label: str, hop: Hop, hsts_note: str = "") -> list[str]:
    address = f"  [{hop.address}]" if hop.address else ""
    lines = [f"{label} {hop.url}{address}"]
    if hop.error is not None:
        return [*lines, f"   error: {hop.error}"]
    location = f", Location: {hop.location}" if hop.location is not None else ""
    lines += [
        f"   status {hop.status}{location}",
        f"   Strict-Transport-Security: {hop.hsts or '(none)'}{hsts_note}",
    ]
    certificate = hop.certificate
    if certificate is not None:
        lines.append(
            f"   certificate: valid for {hop.target.host}, issued by"
            f" {certificate.issuer or '(unnamed)'}, expires {certificate.not_after[:10]}"
            f" ({certificate.days_left} days left)"
        )
    return lines


def _wrap(text: str, width: int, indent: int) -> str:
    return textwrap.fill(text, width, subsequent_indent=" " * indent, break_on_hyphens=False)
