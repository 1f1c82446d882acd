"""Fixtures: pytest-flask's `client` talks to the `app` defined here."""

from __future__ import annotations

import pytest
from flask import Flask

from .helpers import build_app


@pytest.fixture
def app() -> Flask:
    """The app pytest-flask's `client` fixture talks to."""
    return build_app()
