"""``flask https-guard``: the route audit, the deploy check and the probe, on the
``flask.commands`` entry point and on each guarded app's ``app.cli``. Tables fit the
terminal's width (``COLUMNS`` wins); ``--json`` prints the same data.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence

import click
from flask.cli import ScriptInfo, pass_script_info, with_appcontext

from .audit import check_app, route_policies
from .audit.routes import status_codes
from .findings import echo_report, json_option, report_options
from .probe import probe_command

#: The width used when there is no terminal (output to a pipe or a file).
_FALLBACK_WIDTH = 80
#: Narrower than this, tables and wrapped findings stop being readable.
_MIN_WIDTH = 40


@click.group("https-guard")
def https_guard() -> None:
    """Audit how flask_https_guard treats this app's routes and config."""


# Needs no app: checks a deployed site from the outside.
https_guard.add_command(probe_command)


@https_guard.command("routes")
@json_option
@with_appcontext
@pass_script_info
def routes_command(script_info: ScriptInfo, as_json: bool) -> None:
    """List every URL rule and what a plain-HTTP request to it gets."""
    policies = route_policies(script_info.load_app())
    if as_json:
        click.echo(json.dumps([policy.as_dict() for policy in policies], indent=2))
        return
    rows = [
        [
            policy.rule,
            policy.endpoint,
            ",".join(policy.methods),
            f"{policy.policy} {status_codes(policy.statuses)}".rstrip(),
            policy.reason,
        ]
        for policy in policies
    ]
    headers = ["Rule", "Endpoint", "Methods", "Plain HTTP gets", "Reason"]
    click.echo("\n".join(format_table(headers, rows, _terminal_width())))


@https_guard.command("check")
@report_options(default_fail_level="error")
@with_appcontext
@pass_script_info
def check_command(script_info: ScriptInfo, as_json: bool, fail_level: str) -> None:
    """Audit the app's configuration for production."""
    # The app Flask's CLI loaded (and cached), whose context with_appcontext pushed.
    app = script_info.load_app()
    findings = check_app(app)
    data = {"app": app.name, "findings": [finding.as_dict() for finding in findings]}
    echo_report(findings, fail_level, as_json, data, _terminal_width())


def _terminal_width() -> int:
    return max(_MIN_WIDTH, shutil.get_terminal_size((_FALLBACK_WIDTH, 24)).columns)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """Aligned columns that fit ``width``: the widest column is cut first."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
    gaps = 2 * (len(widths) - 1)
    while sum(widths) + gaps > width and max(widths) > 8:
        widths[widths.index(max(widths))] -= 1  # the widest column loses a character
    return [
        "  ".join(
            cell.ljust(w) if len(cell) <= w else cell[: w - 1] + "~"  # "~": cut here
            for cell, w in zip(row, widths)
        ).rstrip()
        for row in [list(headers), ["-" * w for w in widths], *rows]
    ]
