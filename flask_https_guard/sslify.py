"""A drop-in for Flask-SSLify: change the import, keep everything else.

Same constructor, config keys, attributes and hooks; the deliberate
differences (307/308 for writes, 400 for a foreign Host) are in docs/migrating.rst.
"""

from __future__ import annotations

from typing import Any, Optional

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

from .headers import HSTSPolicy, hsts_error
from .location import RedirectTarget
from .policy import status_for

YEAR_IN_SECS = 31536000


class SSLify:
    """Redirect every plain-HTTP request to https and send HSTS.

    ::

        from flask_https_guard import SSLify   # was: from flask_sslify import SSLify
        sslify = SSLify(app, skips=["health"])

    Settings come from the config keys ``SSLIFY_AGE``, ``SSLIFY_SUBDOMAINS``,
    ``SSLIFY_PERMANENT`` and ``SSLIFY_SKIPS``; the constructor's arguments
    fill in the keys the config does not set. No redirect in debug or testing
    mode.
    """

    def __init__(
        self,
        app: Optional[Flask] = None,
        age: int = YEAR_IN_SECS,
        subdomains: bool = False,
        permanent: bool = False,
        skips: Optional[list[str]] = None,
    ) -> None:
        # Without an app, `app` follows the current app: one SSLify can serve
        # the apps an app factory makes.
        self.app: Any = app if app is not None else current_app
        self.defaults = {
            "SSLIFY_AGE": age,
            "SSLIFY_SUBDOMAINS": subdomains,
            "SSLIFY_PERMANENT": permanent,
            "SSLIFY_SKIPS": skips,
        }
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Install the redirect and the HSTS header on ``app``.

        An invalid age fails here, naming ``age`` or ``SSLIFY_AGE`` as you wrote it.
        """
        age_named = "SSLIFY_AGE" if "SSLIFY_AGE" in app.config else "age"
        for key, value in self.defaults.items():
            app.config.setdefault(key, value)
        error = hsts_error(app.config["SSLIFY_AGE"], False, False, max_age=age_named)
        if error is not None:
            raise error
        # Before every other before_request function and after every other
        # after_request function (Flask runs the latter in reverse): a basic-auth
        # hook that ran before the redirect would ask for credentials in clear.
        app.before_request_funcs.setdefault(None, []).insert(0, self.redirect_to_ssl)
        app.after_request_funcs.setdefault(None, []).insert(0, self.set_hsts_header)

    def _setting(self, key: str) -> Any:
        try:
            return self.app.config.get(key, self.defaults[key])
        except RuntimeError:
            # Constructed without an app, read outside an app context.
            return self.defaults[key]

    @property
    def hsts_age(self) -> int:
        """``max-age`` of the HSTS header, in seconds."""
        return self._setting("SSLIFY_AGE")  # type: ignore[no-any-return]

    @property
    def hsts_include_subdomains(self) -> bool:
        """Whether the HSTS header has ``includeSubDomains``."""
        return bool(self._setting("SSLIFY_SUBDOMAINS"))

    @property
    def permanent(self) -> bool:
        """Whether redirects are permanent (301/308)."""
        return bool(self._setting("SSLIFY_PERMANENT"))

    @property
    def skip_list(self) -> Optional[list[str]]:
        """Path prefixes (without the leading slash) served over http."""
        return self._setting("SSLIFY_SKIPS")  # type: ignore[no-any-return]

    @property
    def hsts_header(self) -> str:
        """The ``Strict-Transport-Security`` value."""
        return str(HSTSPolicy(self.hsts_age, self.hsts_include_subdomains))

    @property
    def skip(self) -> bool:
        """Whether the current request's path starts with a skipped prefix.

        A plain string prefix, as in Flask-SSLify: ``"api"`` also skips
        ``/apis``. HTTPSGuard's ``skips`` match whole path segments instead.
        """
        skip_list = self.skip_list
        if not skip_list or not isinstance(skip_list, list):
            return False
        path = request.path
        return any(path.startswith("/" + prefix) for prefix in skip_list)

    def redirect_to_ssl(self) -> Optional[Response]:
        """Redirect an insecure request to https (the before_request hook)."""
        app = current_app
        if (
            request.is_secure
            or app.debug
            or app.testing
            or request.headers.get("X-Forwarded-Proto", "http") == "https"
            or self.skip
        ):
            return None
        # A Host the app does not own raises InvalidHost: 400, never a redirect to it.
        location = RedirectTarget(app, None, None).url(request.environ)
        status = status_for(request.method, self.permanent)
        return app.response_class(status=status, headers={"Location": location})

    def set_hsts_header(self, response: Response) -> Response:
        """Add HSTS to secure, non-skipped responses (the after_request hook)."""
        if request.is_secure and not self.skip:
            HSTSPolicy(self.hsts_age, self.hsts_include_subdomains).apply(response.headers)
        return response
