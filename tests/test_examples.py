"""The example apps do what their docstrings promise."""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
HTTPS = "https://localhost"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def test_global_mode_example():
    client = load("global_mode").test_client()
    response = client.get("/orders?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost/orders?page=2"
    assert client.post("/orders", data="book").status_code == 307
    secure = client.post("/orders", data="book", base_url=HTTPS)
    assert secure.get_data(as_text=True) == "order received: book\n"
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_per_view_example():
    client = load("per_view").test_client()
    assert client.get("/").status_code == 200
    assert client.get("/account").status_code == 302
    assert client.get("/admin/users").status_code == 302
    assert client.get("/admin/users", base_url=HTTPS).status_code == 200


def test_health_check_example(monkeypatch):
    client = load("health_check").test_client()
    health = client.get("/health")
    assert health.status_code == 200
    assert "Strict-Transport-Security" not in health.headers
    assert client.get("/").status_code == 302
    monkeypatch.setenv("HTTPS_GUARD_TRUSTED_PROXIES", "1")
    behind_proxy = load("health_check").test_client()
    assert behind_proxy.get("/", headers={"X-Forwarded-Proto": "https"}).status_code == 200


@pytest.mark.parametrize("name", ["global_mode", "per_view", "health_check"])
def test_flask_cli_finds_the_example_app(name):
    # The README starts each example with `flask --app examples/<file> run`.
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", f"examples/{name}.py", "routes"],
        cwd=EXAMPLES.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "static" in result.stdout
