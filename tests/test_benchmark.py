"""The benchmark script keeps working: one run with tiny counts, no timing asserted."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

from .servers import missing, require_module

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_quick_benchmark_run_writes_every_table(tmp_path):
    require_module("gunicorn")
    require_module("flask_talisman")
    require_module("flask_sslify")
    if shutil.which("wrk") is None:
        missing("wrk is not installed (the benchmark falls back to a Python load generator)")
    output = tmp_path / "BENCHMARKS.md"
    result = subprocess.run(
        [sys.executable, "benchmarks/overhead.py", "--quick", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = output.read_text()
    for heading in (
        "## Per request",
        "## Scaling with routes and skips",
        "## The @require_https fallback",
        "## Whole server",
    ):
        assert heading in report
    for contender in (
        "bare Flask",
        "flask_https_guard",
        "Flask-SSLify 0.1.5",
        "Flask-Talisman 1.1 (defaults)",
        "Flask-Talisman 1.1 (force_https + HSTS)",
    ):
        assert f"| secure request (200 + HSTS) | {contender} |" in report
    assert "| 100 skips" not in report  # quick mode: small scales only
    assert "| 10 skips, redirect |" in report
    assert "requests per second" in report
    assert report in result.stdout
