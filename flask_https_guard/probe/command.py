"""The ``probe`` command: ``flask https-guard probe`` and ``python -m flask_https_guard.probe``."""

from __future__ import annotations

import shutil
from typing import Any

import click

from ..findings import echo_report, report_options
from .hops import DEFAULT_MAX_REDIRECTS, DEFAULT_TIMEOUT, DEFAULT_TOTAL_TIMEOUT, ProbeUsageError
from .report import WIDTH, format_report, probe


@click.command("probe", context_settings={"show_default": True})
@click.argument("url")
@report_options(default_fail_level="warning")
@click.option(
    "--cafile",
    type=click.Path(exists=True, dir_okay=False),
    help="Trust only the CA certificates in this PEM file (a private CA) instead of the system's.",
)
@click.option(
    "--timeout",
    metavar="SECONDS",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TIMEOUT,
    help="Seconds each connect and each read may wait.",
)
@click.option(
    "--total-timeout",
    metavar="SECONDS",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TOTAL_TIMEOUT,
    help="Seconds for the whole probe; no request starts after that.",
)
@click.option(
    "--max-redirects",
    metavar="N",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_REDIRECTS,
    help="Redirects to follow before giving up.",
)
@click.option(
    "--resolve",
    multiple=True,
    metavar="HOST:PORT:ADDRESS",
    help="Connect to ADDRESS for HOST:PORT (PORT may be *) but keep HOST for the Host"
    " header, SNI and the certificate check, as curl does. Repeatable: HOST:PORT wins over"
    " HOST:* whatever their order, and a repeated HOST:PORT takes its last ADDRESS.",
)
@click.option(
    "--subdomain",
    "subdomains",
    multiple=True,
    metavar="NAME",
    help="Also request https://NAME/ (NAME[:PORT], a subdomain of URL's host): it needs a"
    " valid certificate and an answer before includeSubDomains or preload. Repeatable.",
)
def probe_command(url: str, as_json: bool, fail_level: str, **settings: Any) -> None:
    """Check a deployed site from the outside: redirect, HSTS, preload, TLS, mixed content.

    Requests URL (a bare host name means http://HOST/) and follows each
    redirect itself, reporting every hop; then reports findings with stable
    IDs (HP001...). With --subdomain it also checks named subdomains before
    includeSubDomains or preload. It needs no app, so it runs anywhere Flask
    is installed:

    \b
        flask https-guard probe http://example.com/
        python -m flask_https_guard.probe http://example.com/ --json

    Exit status: 0 when no finding reaches --fail-level, 1 when one does,
    2 for a bad command line.
    """
    try:
        report = probe(url, **settings)
    except ProbeUsageError as error:
        raise click.BadParameter(str(error), param_hint=error.option) from None
    width = min(WIDTH, shutil.get_terminal_size((WIDTH, 24)).columns)
    lines = format_report(report, width)
    echo_report(report.findings, fail_level, as_json, report.as_dict(), width, lines)
