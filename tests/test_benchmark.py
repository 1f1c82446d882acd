"""The benchmark script runs end to end: --quick with tiny counts, no timing asserted."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

from .servers import require_module, require_program

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = "benchmarks/overhead.py"
# pyperf's own options: one worker process per case, one value of a few loops.
TINY_COUNTS = ["--processes", "1", "--values", "1", "--warmups", "0", "--loops", "5", "--quiet"]

CONTENDERS = [
    "bare Flask",
    "floor: no-op before_request (first) + no-op after_request",
    "HTTPSGuard(app), global mode",
    "HTTPSGuard(app, exempt_when=...), global mode",
    "HTTPSGuard(app, global_mode=False) + @require_https view",
    "@require_https view, no HTTPSGuard",
    "Flask-SSLify 0.1.5",
    "Flask-Talisman 1.1 (force_https + HSTS)",
    "Flask-Talisman 1.1 (defaults)",
]
SCALED = [
    "bare Flask, https",
    "floor: no-op before_request (first) + no-op after_request, https",
    "HTTPSGuard(app), global mode, https",
    "Flask-SSLify 0.1.5, https",
    "bare Flask, http",
    "HTTPSGuard(app), global mode, http",
    "Flask-SSLify 0.1.5, http",
]
MARKS = [
    "unguarded app, clean process",
    "unguarded app, other apps' views marked @require_https",
]
TARGETS = [
    "secure path, global mode",
    "secure path, global mode with exempt_when",
    "secure path, per-view mode",
    "secure path, marked view without HTTPSGuard",
    "redirect, global mode",
    "redirect, per-view mode",
    "redirect, marked view without HTTPSGuard",
    "secure path, global mode, 2,000 routes and 1,000 skips",
    "redirect, global mode, 2,000 routes and 1,000 skips",
    "unguarded app in a process with marked views",
]


def sections(report: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", report, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def test_quick_run_reports_every_case_and_every_target(tmp_path):
    for module in ("pyperf", "flask_sslify", "flask_talisman", "gunicorn"):
        require_module(module)
    require_program("wrk")
    committed = (ROOT / "BENCHMARKS.md").read_bytes()
    output = tmp_path / "report.md"
    result = subprocess.run(
        [sys.executable, SCRIPT, "--quick", "--server", "--output", str(output), *TINY_COUNTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = output.read_text()
    found = sections(report)

    tables = {
        "Secure path: https, 200 + HSTS": CONTENDERS,
        "Redirect path: http, against bare Flask's own http 200": CONTENDERS,
        "2,000 routes and 1,000 skips": SCALED,
        "An unguarded app in a process with marked views": MARKS,
    }
    for heading, rows in tables.items():
        assert heading in found, f"no section {heading!r}"
        for row in rows:
            assert f"\n| {row} | " in found[heading], f"no row {row!r} under {heading!r}"
    for target in TARGETS:
        line = re.search(rf"^- (PASS|MISS) {re.escape(target)}: ", report, re.MULTILINE)
        assert line, f"no PASS/MISS line for {target!r}"
    server = found["Whole server: gunicorn + wrk"]
    for name in CONTENDERS[:3]:
        assert f"\n| {name} | " in server
    assert "Library measured: checkout at " in report
    assert report in result.stdout
    assert (ROOT / "BENCHMARKS.md").read_bytes() == committed


def test_quick_run_refuses_to_write_the_committed_report():
    result = subprocess.run(
        [sys.executable, SCRIPT, "--quick", "--output", str(ROOT / "BENCHMARKS.md")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "never writes the committed BENCHMARKS.md" in result.stderr


def test_instruction_counts_come_from_the_benchmark_cases(tmp_path):
    """benchmarks/instructions.py counts a request of two cases under valgrind."""
    require_program("valgrind")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import instructions
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    cases = [
        instructions.Case("secure", "bare", "https"),
        instructions.Case("secure", "global", "https"),
    ]
    counts = instructions.count_all(cases, requests=3)
    bare, guarded = (counts[case.name].per_request for case in cases)
    # A request is hundreds of thousands of instructions; the guard adds some.
    assert 50_000 < bare < guarded < 2 * bare
