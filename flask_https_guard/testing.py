"""Helpers for testing applications that use the guard (docs: testing).

Flask's test client speaks plain HTTP, which a guarded app redirects:
:func:`https_client` sends over https, :func:`assert_redirects_to_https`
checks the redirect. pytest-flask users also get an ``https_client`` fixture.
"""

from __future__ import annotations

from typing import Any, Optional

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from .location import host_entries
from .policy import SAFE_METHODS, status_for

__all__ = ["HTTPSClient", "assert_redirects_to_https", "https_client"]


#: The host ``https_client`` uses when the app names none. Not ``localhost``:
#: the guard sends no HSTS there (browsers would cache it for every local server).
TEST_HOST = "app.test"


def client_host(app: Flask) -> str:
    """The host ``https_client`` sends to: the guard's ``canonical_host``, else
    ``SERVER_NAME``, else the first named ``TRUSTED_HOSTS`` entry, else ``app.test``."""
    guard = app.extensions.get("https_guard")
    canonical = getattr(getattr(guard, "options", None), "canonical_host", None)
    trusted = host_entries(app.config.get("TRUSTED_HOSTS"))
    named = trusted[0].lstrip(".") if trusted else TEST_HOST
    return canonical or app.config.get("SERVER_NAME") or named


class HTTPSClient(FlaskClient):
    """A Flask test client whose requests arrive over https.

    A relative URL (``client.get("/path")``) is sent to ``https://<host>``,
    the host from :func:`client_host`; a full URL or an explicit ``base_url`` is
    used as given, so ``client.get("http://localhost/")`` still sends a
    plain-HTTP request.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        target = args[0] if args else kwargs.get("path", "/")
        relative = isinstance(target, str) and "://" not in target
        if relative and "base_url" not in kwargs:
            root = (self.application.config.get("APPLICATION_ROOT") or "/").rstrip("/")
            kwargs["base_url"] = f"https://{client_host(self.application)}{root}"
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

    On failure the message names the request, then states what was expected
    and what came back, one line each for the status, the ``Location`` and
    the method::

        POST http://localhost/order was not redirected to https as expected
          status:   expected 307 or 308, got 302
          Location: expected 'https://localhost/order', got 'https://localhost/order'
          method:   expected POST to be kept, got 302, which lets clients switch to GET
    """
    request = response.request
    method = request.method
    keeps_method = method not in SAFE_METHODS
    # The guard's own status table, temporary and permanent.
    allowed = {status_for(method, permanent) for permanent in (False, True)}
    status = response.status_code
    location = response.headers.get("Location")
    if expected_url is None and request.url.startswith("http://"):
        expected_url = "https://" + request.url[len("http://") :]  # else None: not plain HTTP
    if status in allowed and expected_url is not None and location == expected_url:
        return

    expected_status = " or ".join(str(code) for code in sorted(allowed))
    if expected_url is None:
        expected_location = f"an https URL, but {request.url!r} is not plain HTTP"
    else:
        expected_location = repr(expected_url)
    actual_location = "no Location header" if location is None else repr(location)
    raise AssertionError(
        f"{method} {request.url} was not redirected to https as expected\n"
        f"  status:   expected {expected_status}, got {status}\n"
        f"  Location: expected {expected_location}, got {actual_location}\n"
        f"  method:   {_method_line(method, status, keeps_method)}"
    )


def _method_line(method: str, status: int, keeps_method: bool) -> str:
    if not keeps_method:
        return f"{method}, kept by any redirect"
    if status in (307, 308):
        return f"expected {method} to be kept, got {status}, which keeps it"
    if status in (301, 302):
        return f"expected {method} to be kept, got {status}, which lets clients switch to GET"
    return f"expected {method} to be kept by a 307 or 308, got no redirect"
