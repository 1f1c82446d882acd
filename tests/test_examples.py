"""Each example runs with one command and shows both sides on loopback.

``python examples/<name>.py`` starts the app on real plain-HTTP and HTTPS
servers on 127.0.0.1 and prints what a client sees: the http answer (a
redirect, or a page for exempt views) and the https answer with its headers.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
HSTS = "< Strict-Transport-Security: max-age=31536000"


def run_example(name: str) -> list[str]:
    """Run the README's command for an example; return its printout split per request."""
    result = subprocess.run(
        [sys.executable, f"examples/{name}.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ports = re.search(r"http://127\.0\.0\.1:(\d+)/ and https://127\.0\.0\.1:(\d+)/", result.stdout)
    assert ports is not None, result.stdout
    http_port, https_port = ports.groups()
    # Name the ports, so the assertions below read like the printout.
    text = result.stdout.replace(f":{http_port}/", ":HTTP/").replace(f":{https_port}/", ":HTTPS/")
    return [block for block in text.split("\n\n")[1:] if block.strip()]


def lines(block: str) -> list[str]:
    return block.splitlines()


def test_global_mode_prints_the_redirect_and_the_https_answer_with_hsts():
    get_http, get_https, post_http, post_https = run_example("global_mode")
    assert lines(get_http)[:3] == [
        "> GET http://127.0.0.1:HTTP/orders?page=2",
        "< 302 FOUND",
        "< Location: https://127.0.0.1:HTTPS/orders?page=2",
    ]
    assert "Strict-Transport-Security" not in get_http
    assert lines(get_https)[:2] == ["> GET https://127.0.0.1:HTTPS/orders?page=2", "< 200 OK"]
    assert HSTS in lines(get_https)
    assert lines(get_https)[-1] == "< orders, page 2"
    assert lines(post_http)[1:3] == [
        "< 307 TEMPORARY REDIRECT",
        "< Location: https://127.0.0.1:HTTPS/orders",
    ]
    assert lines(post_https)[0] == "> POST https://127.0.0.1:HTTPS/orders with body 'book=42'"
    assert HSTS in lines(post_https)
    assert lines(post_https)[-1] == "< order received: book=42"


def test_per_view_example_redirects_only_marked_views():
    home, account_http, account_https, admin_http, admin_https = run_example("per_view")
    assert lines(home)[:2] == ["> GET http://127.0.0.1:HTTP/", "< 200 OK"]
    assert "Strict-Transport-Security" not in home
    assert lines(account_http)[1:3] == [
        "< 302 FOUND",
        "< Location: https://127.0.0.1:HTTPS/account",
    ]
    assert HSTS in lines(account_https)
    assert lines(account_https)[-1] == "< your account (HTTPS only)"
    assert lines(admin_http)[1:3] == [
        "< 302 FOUND",
        "< Location: https://127.0.0.1:HTTPS/admin/users",
    ]
    assert HSTS in lines(admin_https)
    assert lines(admin_https)[-1] == "< admin: users"


def test_health_check_example_serves_the_probe_over_http():
    health, index_http, index_https = run_example("health_check")
    assert lines(health)[:2] == ["> GET http://127.0.0.1:HTTP/health", "< 200 OK"]
    assert "Strict-Transport-Security" not in health
    assert lines(health)[-1] == "< ok"
    assert lines(index_http)[1:3] == ["< 302 FOUND", "< Location: https://127.0.0.1:HTTPS/"]
    assert HSTS in lines(index_https)


@pytest.mark.parametrize("name", ["global_mode", "per_view", "health_check"])
def test_flask_cli_finds_the_example_app(name):
    # Each example also says `flask --app examples/<file> run`: the CLI finds
    # its create_app factory.
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", f"examples/{name}.py", "routes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "static" in result.stdout
