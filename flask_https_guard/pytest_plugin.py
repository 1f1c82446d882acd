"""pytest plugin: an ``https_client`` fixture for pytest-flask users.

Registered through the ``pytest11`` entry point. The fixture builds on the
``app`` fixture that pytest-flask asks the project to define::

    def test_account(https_client):
        assert https_client.get("/account").status_code == 200
"""

from __future__ import annotations

import pytest
from flask import Flask

from .testing import HTTPSClient
from .testing import https_client as make_https_client


@pytest.fixture
def https_client(app: Flask) -> HTTPSClient:
    """A test client for the ``app`` fixture whose requests arrive over https."""
    return make_https_client(app)
