"""Helpers for testing applications that use the guard.

A guarded app redirects every plain-HTTP request, and Flask's test client
speaks plain HTTP by default. :func:`https_client` gives a client whose
requests arrive over https; :func:`assert_redirects_to_https` checks the
guard's answer to a plain-HTTP request::

    from flask_https_guard.testing import assert_redirects_to_https, https_client

    def test_account_page(app):
        assert https_client(app).get("/account").status_code == 200

    def test_account_page_over_http(app):
        response = app.test_client().post("/account", data={"name": "ada"})
        assert_redirects_to_https(response, "https://localhost/account")

pytest-flask users also get an ``https_client`` fixture, built from their
``app`` fixture.
"""

from __future__ import annotations

from typing import Any, Optional

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

__all__ = ["HTTPSClient", "assert_redirects_to_https", "https_client"]

_KEEPS_METHOD = {307, 308}
_MAY_CHANGE_METHOD = {301, 302}


class HTTPSClient(FlaskClient):
    """A Flask test client whose requests arrive over https.

    A relative URL (``client.get("/path")``) is sent to
    ``https://<SERVER_NAME or localhost>``; a full URL or an explicit
    ``base_url`` is used as given, so ``client.get("http://localhost/")``
    still sends a plain-HTTP request.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        target = args[0] if args else kwargs.get("path", "/")
        relative = isinstance(target, str) and "://" not in target
        if relative and "base_url" not in kwargs:
            config = self.application.config
            host = config.get("SERVER_NAME") or "localhost"
            root = (config.get("APPLICATION_ROOT") or "/").rstrip("/")
            kwargs["base_url"] = f"https://{host}{root}"
        return super().open(*args, **kwargs)


def https_client(app: Flask, **kwargs: Any) -> HTTPSClient:
    """A test client for ``app`` whose requests arrive over https.

    Keyword arguments go to the client, as with ``app.test_client()``.
    """
    return HTTPSClient(app, app.response_class, **kwargs)


def assert_redirects_to_https(response: TestResponse, expected_url: Optional[str] = None) -> None:
    """Assert that ``response`` is the guard's redirect of a plain-HTTP request.

    Checks the status for the request's method: 301 or 302 for GET and HEAD,
    307 or 308 for every other method (so the method and body survive).
    Checks the ``Location``: equal to ``expected_url`` when given, otherwise
    the requested URL with its scheme changed to https.
    """
    method = response.request.method
    allowed = _MAY_CHANGE_METHOD if method in ("GET", "HEAD") else _KEEPS_METHOD
    if response.status_code not in allowed:
        raise AssertionError(
            f"{method} over plain HTTP got {response.status_code}, expected a redirect"
            f" with {' or '.join(str(code) for code in sorted(allowed))}"
        )
    location = response.headers.get("Location")
    if location is None:
        raise AssertionError(f"the {response.status_code} has no Location header")
    if expected_url is None:
        requested = response.request.url
        if not requested.startswith("http://"):
            raise AssertionError(f"the request went to {requested!r}, not over plain HTTP")
        expected_url = "https://" + requested[len("http://") :]
    if location != expected_url:
        raise AssertionError(f"redirected to {location!r}, expected {expected_url!r}")
