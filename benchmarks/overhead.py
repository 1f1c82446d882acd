"""What an HTTPS guard costs per request: flask_https_guard against bare Flask,
Flask-SSLify 0.1.5 and Flask-Talisman 1.1, and whole-server throughput.

    .venv/bin/python benchmarks/overhead.py             # full run, writes BENCHMARKS.md
    .venv/bin/python benchmarks/overhead.py --quick     # tiny counts (the test suite)

Apps are driven with prebuilt WSGI environs, not the test client, whose own
cost would hide the difference. All contenders live in one process and are
measured round by round in a shuffled order, so machine drift hits them
alike; the tables show medians over rounds. Compare ratios within one run:
absolute microseconds depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_apps import make_app

ROOT = Path(__file__).resolve().parent.parent
EMPTY_BODY = io.BytesIO(b"")


def environ_for(scheme: str, path: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "RAW_URI": path,
        "SERVER_NAME": "bench.example",
        "SERVER_PORT": "443" if scheme == "https" else "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "bench.example",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": EMPTY_BODY,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def _start_response(status, headers, exc_info=None):
    return None


def one_request(app: Flask, template: dict) -> str:
    status = []
    body = app(template.copy(), lambda s, h, e=None: status.append(s))
    for _ in body:
        pass
    close = getattr(body, "close", None)
    if close is not None:
        close()
    return status[0]


def time_batch(app: Flask, template: dict, batch: int) -> float:
    """Microseconds per request over ``batch`` requests."""
    call = app.__call__
    start = time.perf_counter()
    for _ in range(batch):
        body = call(template.copy(), _start_response)
        for _ in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return (time.perf_counter() - start) / batch * 1e6


@dataclass(frozen=True)
class Case:
    """One contender on one path."""

    contender: str
    path: str
    app: Flask
    environ: dict


def measure(
    cases: list[Case], rounds: int, batch: int, seed: int = 1
) -> dict[tuple[str, str], float]:
    """Median microseconds per request for each (contender, path)."""
    chooser = random.Random(seed)
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    for case in cases:  # warm up: first-request setup, caches
        time_batch(case.app, case.environ, max(10, batch // 10))
    for _ in range(rounds):
        order = cases[:]
        chooser.shuffle(order)
        for case in order:
            samples[(case.contender, case.path)].append(time_batch(case.app, case.environ, batch))
    return {key: statistics.median(values) for key, values in samples.items()}


# --- the per-request table ----------------------------------------------------

CONTENDERS = [
    "bare Flask",
    "flask_https_guard",
    "Flask-SSLify 0.1.5",
    "Flask-Talisman 1.1 (defaults)",
    "Flask-Talisman 1.1 (force_https + HSTS)",
]
PATHS = {
    "secure request (200 + HSTS)": ("https", "/"),
    "insecure GET (redirect)": ("http", "/"),
    "insecure GET, exempt view": ("http", "/health"),
    "insecure GET, per-view mode, unmarked view": ("http", "/"),
}


def per_request_cases() -> list[Case]:
    cases = []
    for contender in CONTENDERS:
        app = make_app(contender)
        for path, (scheme, url) in PATHS.items():
            if path.startswith("insecure GET, per-view"):
                if contender == "flask_https_guard":
                    cases.append(
                        Case(
                            contender,
                            path,
                            make_app(contender, global_mode=False),
                            environ_for(scheme, url),
                        )
                    )
                elif contender == "bare Flask":
                    cases.append(Case(contender, path, app, environ_for(scheme, url)))
                continue
            cases.append(Case(contender, path, app, environ_for(scheme, url)))
    for case in cases:
        _check_answer(case)
    return cases


def _check_answer(case: Case) -> None:
    """Refuse to time a contender that does not do its job on this path."""
    status = one_request(case.app, case.environ)
    redirects = case.path == "insecure GET (redirect)" and case.contender != "bare Flask"
    expected = ("301", "302") if redirects else ("200",)
    if not status.startswith(expected):
        raise SystemExit(f"{case.contender} answered {status} on {case.path!r}")


def per_request_table(medians: dict[tuple[str, str], float]) -> list[str]:
    lines = [
        "| path | contender | µs per request | overhead vs bare Flask | ratio |",
        "|---|---|---:|---:|---:|",
    ]
    for path in PATHS:
        # A redirect is compared with bare Flask's 200 answer to the same URL.
        bare = medians[("bare Flask", path)]
        for contender in CONTENDERS:
            value = medians.get((contender, path))
            if value is None:
                continue
            if contender == "bare Flask":
                lines.append(f"| {path} | {contender} | {value:.1f} | | 1.00x |")
                continue
            lines.append(
                f"| {path} | {contender} | {value:.1f} | {value - bare:+.1f} µs "
                f"({(value - bare) / bare:+.1%}) | {value / bare:.2f}x |"
            )
    return lines


# --- scaling: routes and skips ---------------------------------------------------


def scaling_table(
    route_counts: list[int], skip_counts: list[int], rounds: int, batch: int
) -> list[str]:
    cases = []
    for routes in route_counts:
        for contender in ("bare Flask", "flask_https_guard", "Flask-SSLify 0.1.5"):
            label = f"{routes} routes"
            cases.append(
                Case(
                    contender, label, make_app(contender, routes=routes), environ_for("https", "/")
                )
            )
    for skips in skip_counts:
        for contender in ("bare Flask", "flask_https_guard", "Flask-SSLify 0.1.5"):
            label = f"{skips} skips"
            cases.append(
                Case(contender, label, make_app(contender, skips=skips), environ_for("https", "/"))
            )
            redirect_label = f"{skips} skips, redirect"
            if contender != "bare Flask":
                cases.append(
                    Case(
                        contender,
                        redirect_label,
                        make_app(contender, skips=skips),
                        environ_for("http", "/"),
                    )
                )
    medians = measure(cases, rounds, batch, seed=2)
    lines = [
        "| setup | bare Flask µs | flask_https_guard | Flask-SSLify 0.1.5 |",
        "|---|---:|---:|---:|",
    ]
    labels = [f"{n} routes" for n in route_counts] + [f"{n} skips" for n in skip_counts]
    for label in labels:
        bare = medians[("bare Flask", label)]
        cells = [
            f"{medians[(c, label)]:.1f} µs ({(medians[(c, label)] - bare) / bare:+.1%})"
            for c in ("flask_https_guard", "Flask-SSLify 0.1.5")
        ]
        lines.append(f"| {label}, secure request | {bare:.1f} | {cells[0]} | {cells[1]} |")
    for skips in skip_counts:
        label = f"{skips} skips, redirect"
        bare = medians[("bare Flask", f"{skips} skips")]
        cells = [
            f"{medians[(c, label)]:.1f} µs ({medians[(c, label)] / bare:.2f}x bare 200)"
            for c in ("flask_https_guard", "Flask-SSLify 0.1.5")
        ]
        lines.append(f"| {label} | {bare:.1f} (200) | {cells[0]} | {cells[1]} |")
    return lines


# --- the @require_https fallback -------------------------------------------------


def fallback_receiver_table(rounds: int, batch: int) -> list[str]:
    """What Flask's request_started signal costs once @require_https is used.

    The first @require_https in a process connects one receiver, so that a
    marked view on an app without HTTPSGuard still redirects. Flask then
    dispatches the signal to it on every request of every app. Measured on
    the guarded app, with the receiver connected and disconnected in
    alternate rounds of the same process.
    """
    from flask import request_started

    from flask_https_guard.decorators import _redirect_marked_views_without_guard as receiver

    apps = {
        "bare Flask": make_app("bare Flask"),
        "flask_https_guard": make_app("flask_https_guard"),
    }
    environ = environ_for("https", "/")
    samples: dict[tuple[str, bool], list[float]] = defaultdict(list)
    for app in apps.values():
        time_batch(app, environ, max(10, batch // 10))
    try:
        for round_number in range(rounds * 2):
            connected = round_number % 2 == 1
            if connected:
                request_started.connect(receiver)
            else:
                request_started.disconnect(receiver)
            for name, app in apps.items():
                samples[(name, connected)].append(time_batch(app, environ, batch))
    finally:
        request_started.disconnect(receiver)
    lines = [
        "| app, secure request | receiver not connected | connected | cost |",
        "|---|---:|---:|---:|",
    ]
    for name in apps:
        without, with_ = (statistics.median(samples[(name, flag)]) for flag in (False, True))
        lines.append(
            f"| {name} | {without:.1f} µs | {with_:.1f} µs | {with_ - without:+.1f} µs "
            f"({(with_ - without) / without:+.1%}) |"
        )
    return lines


# --- whole server: gunicorn behind a load generator ---------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(app_name: str, port: int, workers: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(Path(__file__).resolve().parent),
            f"server_apps:{app_name}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"gunicorn ({app_name}) did not start")


def wrk_requests_per_second(port: int, seconds: float, connections: int) -> float:
    # gunicorn turns X-Forwarded-Proto from 127.0.0.1 into the WSGI scheme
    # (its default), so every request takes the secure path: 200 + HSTS.
    output = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(seconds))}s",
            "-H",
            "X-Forwarded-Proto: https",
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    if re.search(r"Non-2xx or 3xx responses", output):
        raise SystemExit(f"wrk saw errors:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def python_requests_per_second(port: int, seconds: float, connections: int) -> float:
    """A bounded fallback load generator when wrk is not installed."""
    import http.client
    import threading

    deadline = time.monotonic() + seconds
    counts = [0] * connections

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < deadline:
            connection.request("GET", "/", headers={"X-Forwarded-Proto": "https"})
            connection.getresponse().read()
            counts[index] += 1
        connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def server_table(
    rounds: int, seconds: float, workers: int = 2, connections: int = 16
) -> tuple[list[str], str]:
    load = wrk_requests_per_second if shutil.which("wrk") else python_requests_per_second
    tool = "wrk" if load is wrk_requests_per_second else "a Python load generator"
    ports = {"bare": free_port(), "guarded": free_port()}
    servers = {name: start_gunicorn(name, port, workers) for name, port in ports.items()}
    samples: dict[str, list[float]] = defaultdict(list)
    try:
        for round_number in range(rounds):
            order = ["bare", "guarded"] if round_number % 2 == 0 else ["guarded", "bare"]
            for name in order:
                samples[name].append(load(ports[name], seconds, connections))
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=15)
    bare, guarded = (statistics.median(samples[name]) for name in ("bare", "guarded"))
    lines = [
        "| server | requests per second (median) | vs bare Flask |",
        "|---|---:|---:|",
        f"| bare Flask | {bare:,.0f} | |",
        f"| flask_https_guard | {guarded:,.0f} | {(guarded - bare) / bare:+.1%} |",
    ]
    setup = (
        f"gunicorn, {workers} sync workers, {tool} with {connections} connections, "
        f"{rounds} rounds of {seconds:g} s each, alternating"
    )
    return lines, setup


# --- instruction counts: a deterministic second opinion -------------------------------

INSTRUCTION_CASES = [
    # (row label, contender, scheme, path, routes, skips, global_mode)
    ("secure request", "bare Flask", "https", "/", 10, 0, True),
    ("secure request", "flask_https_guard", "https", "/", 10, 0, True),
    ("secure request", "Flask-SSLify 0.1.5", "https", "/", 10, 0, True),
    ("secure request", "Flask-Talisman 1.1 (force_https + HSTS)", "https", "/", 10, 0, True),
    ("insecure GET: 200 for bare Flask, else redirect", "bare Flask", "http", "/", 10, 0, True),
    (
        "insecure GET: 200 for bare Flask, else redirect",
        "flask_https_guard",
        "http",
        "/",
        10,
        0,
        True,
    ),
    (
        "insecure GET: 200 for bare Flask, else redirect",
        "Flask-SSLify 0.1.5",
        "http",
        "/",
        10,
        0,
        True,
    ),
    ("insecure GET, exempt view", "bare Flask", "http", "/health", 10, 0, True),
    ("insecure GET, exempt view", "flask_https_guard", "http", "/health", 10, 0, True),
    ("insecure GET, per-view mode", "flask_https_guard", "http", "/", 10, 0, False),
    ("1000 skips, secure request", "flask_https_guard", "https", "/", 10, 1000, True),
    ("1000 skips, redirect", "flask_https_guard", "http", "/", 10, 1000, True),
]


def run_child(
    contender: str, scheme: str, path: str, routes: int, skips: int, global_mode: bool, count: int
) -> None:
    """Child process for the instruction counts: build one app, send ``count`` requests."""
    app = make_app(contender, routes=routes, skips=skips, global_mode=global_mode)
    environ = environ_for(scheme, path)
    time_batch(app, environ, 200)  # warm up
    # Whether a full garbage collection lands inside the measured requests
    # would otherwise depend on the app's size: move what exists out of its reach.
    gc.collect()
    gc.freeze()
    if count:
        time_batch(app, environ, count)


def instructions_per_request(case: tuple, count: int) -> float:
    """valgrind's instruction count for ``count`` requests, minus the same run with none."""
    _, contender, scheme, path, routes, skips, global_mode = case
    totals = []
    for requests in (0, count):
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                __file__,
                "--child",
                contender,
                scheme,
                path,
                str(routes),
                str(skips),
                str(global_mode),
                str(requests),
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=True,
            # Same hash seed in both runs: building the app then costs the
            # same instructions, and the difference is the requests alone.
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        totals.append(int(re.search(r"Collected : (\d+)", result.stderr).group(1)))
    return (totals[1] - totals[0]) / count


def instruction_table(count: int) -> list[str]:
    counts = {case: instructions_per_request(case, count) for case in INSTRUCTION_CASES}
    bare_for = {}
    for case, value in counts.items():
        if case[1] == "bare Flask":
            bare_for[case[0]] = value
    bare_for["insecure GET, per-view mode"] = bare_for[
        "insecure GET: 200 for bare Flask, else redirect"
    ]
    bare_for["1000 skips, secure request"] = bare_for["secure request"]
    bare_for["1000 skips, redirect"] = bare_for["insecure GET: 200 for bare Flask, else redirect"]
    lines = [
        "| path | contender | instructions per request | vs bare Flask |",
        "|---|---|---:|---:|",
    ]
    for case, value in counts.items():
        label, contender = case[0], case[1]
        bare = bare_for[label]
        versus = (
            ""
            if contender == "bare Flask"
            else f"{(value - bare) / bare:+.1%} ({value / bare:.3f}x)"
        )
        lines.append(f"| {label} | {contender} | {value:,.0f} | {versus} |")
    return lines


# --- report -------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"Flask {_version('flask')}, Werkzeug {_version('werkzeug')}"
    )


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts: checks the script works")
    parser.add_argument("--rounds", type=int, help="rounds per measurement")
    parser.add_argument("--batch", type=int, help="requests per contender per round")
    parser.add_argument("--no-server", action="store_true", help="skip the gunicorn part")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "BENCHMARKS.md", help="Markdown file to write"
    )
    parser.add_argument(
        "--instructions",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="count instructions with valgrind (default: on, except with --quick)",
    )
    parser.add_argument("--child", nargs=7, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.child:
        contender, scheme, path, routes, skips, global_mode, count = arguments.child
        run_child(
            contender, scheme, path, int(routes), int(skips), global_mode == "True", int(count)
        )
        return 0
    rounds = arguments.rounds or (2 if arguments.quick else 25)
    batch = arguments.batch or (20 if arguments.quick else 2000)
    route_counts, skip_counts = (
        ([10, 100], [1, 10]) if arguments.quick else ([10, 1000, 5000], [1, 100, 1000])
    )

    started = time.perf_counter()
    sections = [
        "# Benchmarks",
        "",
        f"Machine: {machine()}.",
        "",
        f"Command: `.venv/bin/python benchmarks/overhead.py{' --quick' if arguments.quick else ''}`"
        f" ({rounds} rounds of {batch} requests per contender and path, medians).",
        "",
        "## Per request",
        "",
        *per_request_table(measure(per_request_cases(), rounds, batch)),
        "",
        "A redirect's ratio compares it with bare Flask's 200 answer to the same URL.",
        "",
        "## Scaling with routes and skips",
        "",
        *scaling_table(route_counts, skip_counts, rounds, batch // 2),
        "",
    ]
    sections += [
        "## The @require_https fallback",
        "",
        "Once any view uses `@require_https`, a `request_started` receiver makes marked views",
        "redirect even on an app without HTTPSGuard. Flask dispatches that signal on every",
        "request of every app in the process. The tables above are measured without it.",
        "",
        *fallback_receiver_table(rounds, batch // 2),
        "",
    ]
    count_instructions = (
        arguments.instructions if arguments.instructions is not None else not arguments.quick
    )
    if count_instructions and shutil.which("valgrind"):
        sections += [
            "## Instruction counts",
            "",
            "Wall-clock medians on a shared machine move by several percent from run to run.",
            "valgrind's callgrind counts the instructions a request executes, which does not",
            "depend on the machine's load: the same code gives the same count. Each case is a",
            "child process sending 300 requests, minus the same process sending none",
            "(hash seed fixed, so building the app costs the same in both). Only small apps",
            "are counted: with 1,000 routes the count moved by tens of thousands of",
            "instructions with the heap layout alone (the Python-level work per request,",
            "25 more calls than bare Flask, did not change); the wall-clock table covers",
            "route counts.",
            "",
            *instruction_table(300),
            "",
        ]
    if not arguments.no_server:
        lines, setup = server_table(
            rounds=1 if arguments.quick else 6, seconds=1 if arguments.quick else 5
        )
        sections += [
            "## Whole server",
            "",
            f"Setup: {setup}; every request takes the secure path (200 + HSTS).",
            "",
            *lines,
            "",
        ]
    sections.append(f"Run took {time.perf_counter() - started:.0f} s.")
    report = "\n".join(sections) + "\n"
    print(report)
    arguments.output.write_text(report)
    print(f"written to {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
