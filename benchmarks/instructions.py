"""Instructions per request, counted by valgrind: the benchmark's targets without timing noise.

    .venv/bin/python benchmarks/instructions.py          # writes BENCHMARKS-instructions.md
    .venv/bin/python benchmarks/instructions.py --quick --output /tmp/counts.md

The timed benchmark (overhead.py) needs a quiet machine: on shared cores its
standard deviation reaches 15-20%, more than its 1-point targets. This runs
the same cases (the same apps, environs and answer checks, imported from
overhead.py) under ``valgrind --tool=cachegrind --cache-sim=no`` and counts
what one request costs in instructions: the count of a process that serves
``--requests`` requests minus that of one that serves none, divided by
``--requests``, so start-up cancels out. With ``PYTHONHASHSEED`` fixed the
counts repeat closely; they do not weigh cache misses or memory, so they
complement the timings and do not replace them.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import overhead  # noqa: E402  (the benchmark's cases, beside this file)
from overhead import Case  # noqa: E402

COMMITTED_REPORT = overhead.ROOT / "BENCHMARKS-instructions.md"
_I_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


class Count:
    """Instructions per request of one case; ``median()`` lets overhead.targets read it."""

    def __init__(self, per_request: float) -> None:
        self.per_request = per_request

    def median(self) -> float:
        return self.per_request


def serve(case_index: int, requests: int) -> None:
    """In a worker under valgrind: build the case's app as overhead.py does, serve requests."""
    case = overhead.all_cases()[case_index]
    app, environ = overhead.prepare(case)
    for _ in range(requests):
        body = app(environ.copy(), _ignore_start_response)
        for _chunk in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()


def _ignore_start_response(status: str, headers: list[Any], exc_info: Any = None) -> None:
    return None


def instructions(case_index: int, requests: int) -> int:
    """The instructions a worker process executes in all, start-up included."""
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--worker",
        str(case_index),
        str(requests),
    ]
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    found = _I_REFS.search(result.stderr)
    if result.returncode != 0 or found is None:
        raise SystemExit(f"worker for case {case_index} failed:\n{result.stderr[-3000:]}")
    return int(found[1].replace(",", ""))


def count_all(cases: list[Case], requests: int) -> dict[str, Count]:
    """Every case's instructions per request, two worker processes per case."""
    # A worker is told its case by its place in overhead.all_cases().
    indexes = [overhead.all_cases().index(case) for case in cases]
    runs = [(index, n) for index in indexes for n in (0, requests)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        totals = dict(zip(runs, pool.map(lambda run: instructions(*run), runs)))
    return {
        case.name: Count((totals[(index, requests)] - totals[(index, 0)]) / requests)
        for index, case in zip(indexes, cases)
    }


def table(section: str, cases: list[Case], results: dict[str, Count], answered: Any) -> list[str]:
    lines = [
        f"## {overhead.SECTIONS[section]}",
        "",
        "| case | answer | instructions per request | vs bare Flask | vs the floor |",
        "|---|---|---:|---:|---:|",
    ]
    for case in cases:
        if case.section != section:
            continue
        bare, floor = overhead.references(case)
        value = results[case.name]
        percent = overhead.over(value, results[bare.name])
        versus_floor = ""
        if floor is not None:
            versus_floor = (
                f"{percent - overhead.over(results[floor.name], results[bare.name]):+.1f} pt"
            )
        lines.append(
            f"| {case.label} | {answered[case.name]} | {value.per_request:,.0f} |"
            f" {value.per_request / results[bare.name].per_request:.3f}x ({percent:+.1f}%) |"
            f" {versus_floor} |"
        )
    return [*lines, ""]


def report(cases: list[Case], results: dict[str, Count], requests: int, command: str) -> str:
    answered = overhead.answers(cases)
    valgrind = subprocess.run(["valgrind", "--version"], capture_output=True, text=True)
    lines = [
        "# Benchmarks: instructions per request",
        "",
        "Written by `.venv/bin/python benchmarks/instructions.py` (about 10 minutes on 2"
        " cores); what it counts and why: the script's docstring and docs/performance.rst.",
        "",
        f"This run: `{command}`",
        "",
        f"Machine: {overhead.machine()}; {valgrind.stdout.strip()}.",
        f"Library measured: {overhead.library_commit()}.",
        f"Each count: the instructions of a process serving {requests:,} requests minus those"
        " of one serving none, divided by the requests (`valgrind --tool=cachegrind"
        " --cache-sim=no`, PYTHONHASHSEED=0). *vs bare Flask* and *vs the floor* are computed"
        " as in BENCHMARKS.md, from these counts instead of medians.",
        "",
        "## Targets (issue 17, point 8)",
        "",
        *(f"- {target.line()}" for target in overhead.targets(results, answered)),  # type: ignore[arg-type]
        "",
    ]
    for section in overhead.SECTIONS:
        lines += table(section, cases, results, answered)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 requests per case, not 1,000")
    parser.add_argument("--requests", type=int, help="requests per counted process")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--worker", nargs=2, type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        serve(*options.worker)
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    output = options.output or COMMITTED_REPORT
    if options.quick and output.resolve() == COMMITTED_REPORT:
        raise SystemExit(
            f"--quick never writes the committed {COMMITTED_REPORT.name}; pick --output"
        )
    requests = options.requests or (20 if options.quick else 1000)
    cases = overhead.all_cases()
    results = count_all(cases, requests)
    command = " ".join([".venv/bin/python", "benchmarks/instructions.py", *sys.argv[1:]])
    text = report(cases, results, requests, command)
    output.write_text(text)
    print(text)
    print(f"\nwritten to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
