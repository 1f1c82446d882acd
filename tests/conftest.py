"""Fixtures: pytest-flask's `client` talks to the `app` defined here."""

from __future__ import annotations

import os

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings

from .helpers import build_app

# Property tests: a bounded run by default; HYPOTHESIS_PROFILE=deep for a
# long local run. No deadline: the machines are shared and noisy.
settings.register_profile(
    "default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "deep", max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


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
