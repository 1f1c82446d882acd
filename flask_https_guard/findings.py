"""Findings of ``flask https-guard check`` (HG) and ``probe`` (HP), their one registry,
and the options and output the two commands share.

An ID keeps its meaning across releases; one whose meaning is gone is retired, never
reused. ``--fail-level`` picks the lowest level that fails.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Callable, NamedTuple, Optional, TypeVar

import click

#: Finding levels, least severe first.
LEVELS = ("info", "warning", "error")


class Entry(NamedTuple):
    """What an ID means: its usual level and one line; ``retired`` IDs are never reused."""

    level: str
    meaning: str
    retired: bool = False


REGISTRY: dict[str, Entry] = {
    "HG000": Entry("error", "No HTTPSGuard and no @require_https mark that enforces itself."),
    "HG001": Entry("error", "The guard is disabled (enabled=False)."),
    "HG002": Entry("error", "Debug mode, so the guard is inactive (warning with enabled=True)."),
    "HG003": Entry("warning", "HSTS is off."),
    "HG004": Entry("warning", "HSTS max-age below one year, or 0."),
    "HG005": Entry("error", "HSTS preload, but plain HTTP is not redirected on the same host."),
    "HG006": Entry("warning", "SESSION_COOKIE_SECURE is off."),
    "HG007": Entry("warning", "No TRUSTED_HOSTS, SERVER_NAME or redirect_host."),
    "HG008": Entry("warning", "An exempt route accepts POST, PUT, PATCH or DELETE."),
    "HG009": Entry("info", "Which layer decides a request's scheme."),
    "HG010": Entry("warning", "Proxy trust counted twice: your ProxyFix and trusted_proxies."),
    "HG011": Entry("info", "Redirects are temporary (302/307)."),
    "HG012": Entry("warning", "@require_https marks enforce themselves with the default options."),
    "HG013": Entry("error", "A @require_https mark that nothing enforces (the app has no guard)."),
    "HG014": Entry("warning", "Flask-Talisman also forces https or sends HSTS."),
    "HG015": Entry("info", "Templates are served over https without upgrade_insecure_requests."),
    "HG016": Entry("warning", "report_only is on: nothing is redirected, no HSTS."),
    "HG017": Entry("warning", "A skips entry matches no route."),
    "HG018": Entry("info", "PREFERRED_URL_SCHEME is http."),
    "HG019": Entry("info", "Plain HTTP answered from a before_request function.", retired=True),
    "HG020": Entry("warning", "Middleware wrapped around the guard after init_app."),
    "HG021": Entry("info", "Middleware inside the guard that it cannot see through."),
    "HG022": Entry("warning", "The app is mounted under a prefix inside its own wsgi_app."),
    "HG023": Entry("info", "A configured host name has capitals."),
    "HG024": Entry("error", "canonical_host is not a host the app accepts."),
    "HG025": Entry("info", "HSTS covers subdomains: probe them before preloading."),
    "HP001": Entry("error", "Plain HTTP is answered instead of redirected to https."),
    "HP002": Entry("warning", "The first redirect stays on plain HTTP."),
    "HP003": Entry("warning", "The first redirect leaves the host."),
    "HP004": Entry("error", "The redirects end on plain HTTP."),
    "HP005": Entry("info", "The probe started at https: the plain-HTTP redirect was not checked."),
    "HP010": Entry("error", "An https response without Strict-Transport-Security."),
    "HP011": Entry("warning", "Strict-Transport-Security sent over plain HTTP."),
    "HP012": Entry("error", "A Strict-Transport-Security header that browsers ignore."),
    "HP013": Entry("warning", "HSTS max-age=0."),
    "HP014": Entry("info", "HSTS max-age below one year."),
    "HP020": Entry("error", "Preload asked for, requirements unmet (info when not asked for)."),
    "HP030": Entry("error", "The certificate is not valid for the host name."),
    "HP031": Entry("error", "The certificate is expired or not yet valid."),
    "HP032": Entry("error", "The certificate is not trusted."),
    "HP033": Entry("error", "No TLS connection."),
    "HP034": Entry("warning", "The certificate expires within 14 days."),
    "HP040": Entry("error", "The host could not be reached."),
    "HP041": Entry("error", "The host did not answer in time."),
    "HP042": Entry("error", "No valid HTTP response."),
    "HP050": Entry("error", "Scripts, style sheets or frames loaded over http://."),
    "HP051": Entry("warning", "Images or media loaded over http://."),
    "HP052": Entry("error", "A form submits to http://."),
    "HP053": Entry("info", "http:// URLs that upgrade-insecure-requests upgrades."),
    "HP060": Entry("error", "Redirect loop."),
    "HP061": Entry("error", "Too many redirects."),
    "HP062": Entry("error", "A redirect without a usable Location."),
    "HP070": Entry("error", "A subdomain named with --subdomain has no valid certificate."),
    "HP071": Entry("error", "A subdomain named with --subdomain does not answer over https."),
}


@dataclass(frozen=True)
class Finding:
    """One result of a check: an ID from :data:`REGISTRY`, a level, what is wrong, what to do."""

    id: str
    level: str
    message: str
    hint: str

    @classmethod
    def of(cls, id: str, message: str, hint: str, level: Optional[str] = None) -> Finding:
        """A finding at its registered level unless ``level`` says otherwise."""
        return cls(id, level or REGISTRY[id].level, message, hint)

    def as_dict(self) -> dict[str, str]:
        """The finding as JSON-ready data."""
        return asdict(self)


#: ``--json``, which every command takes.
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")

_Command = TypeVar("_Command", bound=Callable[..., Any])


def report_options(default_fail_level: str) -> Callable[[_Command], _Command]:
    """``--json`` and ``--fail-level``, the options of both commands that report findings."""
    fail_level_option = click.option(
        "--fail-level",
        type=click.Choice(LEVELS),
        default=default_fail_level,
        show_default=True,
        help="Exit with status 1 when a finding reaches this level.",
    )
    return lambda command: json_option(fail_level_option(command))


def echo_report(
    findings: Sequence[Finding],
    fail_level: str,
    as_json: bool,
    data: dict[str, Any],
    width: int,
    lines: Sequence[str] = (),
) -> None:
    """Print ``data`` as JSON, or ``lines`` then the findings as text; exit 1 at ``fail_level``."""
    failed = any(LEVELS.index(f.level) >= LEVELS.index(fail_level) for f in findings)
    if as_json:
        click.echo(json.dumps({**data, "fail_level": fail_level, "passed": not failed}, indent=2))
    else:
        wrapped = [
            textwrap.fill(text, width, subsequent_indent=" " * 14, break_on_hyphens=False)
            for finding in findings
            for text in (
                f"{finding.id} {finding.level:<7} {finding.message}",
                f"{'':14}hint: {finding.hint}",
            )
        ]
        sections = [lines, wrapped, [summary_line(findings, failed, fail_level)]]
        click.echo("\n\n".join("\n".join(section) for section in sections if section))
    if failed:
        raise SystemExit(1)


def summary_line(findings: Sequence[Finding], failed: bool, fail_level: str) -> str:
    """'0 errors, 1 warning, 3 info: passed (--fail-level error)', for check and probe."""
    counts = [(sum(f.level == level for f in findings), level) for level in reversed(LEVELS)]
    # "info" is uncountable.
    parts = [f"{n} {level if n == 1 or level == 'info' else level + 's'}" for n, level in counts]
    return f"{', '.join(parts)}: {'FAILED' if failed else 'passed'} (--fail-level {fail_level})"
