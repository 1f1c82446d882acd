"""``HTTPSGuard``: the extension, and ``init_app``, which wraps ``app.wsgi_app``.

The ``flask https-guard`` commands are added to ``app.cli`` as a group that
imports the CLI only when a command runs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, Callable, Optional, TypeVar, cast

import click
from flask import Flask, Request

from .guard import EXTENSION_KEY, Guard, GuardMiddleware
from .options import RENAMED, Declaration
from .proxies import adopted_proxy_fix, install_proxy_trust, layers

Init = TypeVar("Init", bound=Callable[..., None])


def _keeps_arguments(init: Init) -> Init:
    """Record which options the caller passed, so that they win over the config."""

    @functools.wraps(init)
    def record(self: HTTPSGuard, app: Optional[Flask] = None, **arguments: Any) -> None:
        OPTIONS.given(arguments, {})  # an unknown name fails here, with a suggestion
        init(self, None, **arguments)
        self.arguments = arguments
        if app is not None:
            self.init_app(app)

    return cast(Init, record)


class HTTPSGuard:
    """Keep a Flask app on HTTPS.

    In global mode (the default) every plain-HTTP request is redirected to the
    same URL on https before the app runs: GET and HEAD with 302 (301 when
    ``permanent``), every other method with 307 (308) so the method and body
    survive. Secure responses get ``Strict-Transport-Security`` and ``Secure``
    cookies.

    >>> from flask import Flask
    >>> from flask_https_guard import HTTPSGuard
    >>> app = Flask(__name__)
    >>> guard = HTTPSGuard(app)
    >>> app.test_client().get("/anything").headers["Location"]
    'https://localhost/anything'

    In an app factory, create the guard once and call ``init_app`` per app.
    Each keyword is also a config key ``HTTPS_GUARD_<NAME>``; an argument wins
    over the config. A wrong value fails at ``init_app``, naming the option.
    """

    @_keeps_arguments
    def __init__(
        self,
        app: Optional[Flask] = None,
        *,
        global_mode: bool = True,
        permanent: bool = False,
        skips: Optional[Iterable[str]] = None,
        hsts: bool = True,
        hsts_max_age: int = 31536000,
        hsts_include_subdomains: bool = False,
        hsts_preload: bool = False,
        trusted_proxies: int = 0,
        trusted_proxy_headers: Optional[Iterable[str]] = None,
        https_header: Optional[str] = None,
        redirect_host: Optional[str] = None,
        redirect_port: Optional[int] = None,
        canonical_host: Optional[str] = None,
        exempt_when: Optional[Callable[[Request], bool]] = None,
        refuse_insecure_writes: bool = False,
        refuse_credentials: bool = False,
        secure_cookies: bool = True,
        upgrade_insecure_requests: bool = False,
        enabled: Optional[bool] = None,
        report_only: bool = False,
        reject_insecure_writes: Optional[bool] = None,
    ) -> None:
        """Each keyword is an option (docs: options); ``reject_insecure_writes``
        is the deprecated name of ``refuse_insecure_writes``."""
        self.arguments: dict[str, Any] = {}

    def init_app(self, app: Flask) -> None:
        """Install the guard on ``app``, reading ``app.config``.

        Raises TypeError or ValueError for an invalid option, naming it, and
        RuntimeError if the app already has a guard.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(f"an HTTPSGuard is already installed on app {app.name!r}")
        guard = Guard(app, OPTIONS.resolve(self.arguments, app.config), self)
        app.extensions[EXTENSION_KEY] = guard
        if guard.options.enabled is not False:
            guard.inner_layers, guard.sees_app = layers(app.wsgi_app, app=app)
            middleware = GuardMiddleware(app.wsgi_app, guard, adopted_proxy_fix(guard.inner_layers))
            app.wsgi_app = install_proxy_trust(middleware, guard.options)  # type: ignore[assignment,method-assign]
            guard.outermost = app.wsgi_app
            if not guard.sees_app:
                # Middleware inside may route differently (a mount of the app under
                # a prefix): marks must hold where the middleware could not route.
                app.before_request(guard.enforce_marks)
            if guard.is_active() and guard.options.secure_cookies and not guard.options.report_only:
                # An exempt page's session cookie must not travel back over http.
                app.config["SESSION_COOKIE_SECURE"] = True
        app.cli.add_command(COMMANDS)


#: The options HTTPSGuard declares; the deprecated name is only an alias.
OPTIONS = Declaration(HTTPSGuard.__init__, exclude=tuple(RENAMED))


def default_guard(app: Flask) -> Guard:
    """The guard that marks enforce on an app without an HTTPSGuard: per-view
    mode and the default options (the app's HTTPS_GUARD_* config belongs to a
    guard it does not have; a bad value there must not break its requests)."""
    return Guard(app, OPTIONS.resolve({"global_mode": False}, {}))


class _CommandsOnDemand(click.Group):
    """``flask https-guard`` on ``app.cli``: the CLI module is imported when a command runs."""

    def _group(self) -> click.Group:
        from .cli import https_guard

        return https_guard

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._group().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        return self._group().get_command(ctx, name)


COMMANDS = _CommandsOnDemand(
    "https-guard", help="Audit how flask_https_guard treats this app's routes and config."
)
