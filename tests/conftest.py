"""Fixtures: pytest-flask's `client` talks to the `app` defined here."""

from __future__ import annotations

import pytest
from flask import Flask

from .helpers import build_app


@pytest.fixture
def app() -> Flask:
    """The app pytest-flask's `client` fixture talks to."""
    return build_app()


def pytest_terminal_summary(terminalreporter):
    """Show the load test's counts and rate, which a passing test would hide."""
    from .test_deployment import LOAD_REPORT

    if LOAD_REPORT:
        terminalreporter.section("load test: nginx + gunicorn on loopback")
        for key, value in LOAD_REPORT.items():
            terminalreporter.write_line(f"{key}: {value}")
