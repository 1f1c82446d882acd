"""The apps the benchmark measures: one view returning "ok", per contender.

``build_app(contender)`` builds a fresh app for one of ``CONTENDERS``; every
app gets its own view function, so a mark on one view never reaches another
app. gunicorn serves them with ``"apps:build_app('global')"``.
"""

from __future__ import annotations

from flask import Flask, Response

from flask_https_guard import HTTPSGuard, require_https

# Key -> label, in the order of the report's tables.
CONTENDERS = {
    "bare": "bare Flask",
    "floor": "floor: no-op before_request (first) + no-op after_request",
    "global": "HTTPSGuard(app), global mode",
    "exempt_when": "HTTPSGuard(app, exempt_when=...), global mode",
    "per_view": "HTTPSGuard(app, global_mode=False) + @require_https view",
    "marked": "@require_https view, no HTTPSGuard",
    "sslify": "Flask-SSLify 0.1.5",
    "talisman_hsts": "Flask-Talisman 1.1 (force_https + HSTS)",
    "talisman_defaults": "Flask-Talisman 1.1 (defaults)",
}

# Contenders that answer plain HTTP with 200, like bare Flask.
NOT_GUARDING = {"bare", "floor"}


def build_app(contender: str, routes: int = 1, skips: int = 0) -> Flask:
    """An app for ``contender`` with ``routes`` URL rules in all.

    ``skips`` path prefixes (none of which matches "/") go to the contenders
    that take a skip list: flask_https_guard's global mode and Flask-SSLify.
    """
    if contender not in CONTENDERS:
        raise ValueError(f"unknown contender {contender!r}; known: {', '.join(CONTENDERS)}")
    app = Flask("bench")
    skip_prefixes = [f"skipped{number}" for number in range(skips)]
    if contender in ("per_view", "marked"):

        @app.route("/")
        @require_https
        def index() -> str:
            return "ok"

    else:

        @app.route("/")
        def index() -> str:
            return "ok"

    _add_filler_routes(app, routes - 1)

    if contender == "floor":
        # The cost floor of any hook-based extension: one hook first in line
        # before the request, one after it, both doing nothing.
        app.before_request_funcs.setdefault(None, []).insert(0, _do_nothing)
        app.after_request(_return_unchanged)
    elif contender == "global":
        HTTPSGuard(app, skips=skip_prefixes or None)
    elif contender == "exempt_when":
        # A predicate that is never asked on https: the secure path must not change.
        HTTPSGuard(app, exempt_when=_from_the_health_checker)
    elif contender == "per_view":
        HTTPSGuard(app, global_mode=False)
    elif contender == "sslify":
        from flask_sslify import SSLify

        SSLify(app, skips=skip_prefixes or None)
    elif contender == "talisman_defaults":
        from flask_talisman import Talisman

        Talisman(app)
    elif contender == "talisman_hsts":
        from flask_talisman import Talisman

        Talisman(
            app,
            force_https=True,
            strict_transport_security=True,
            content_security_policy=None,
            feature_policy={},
            permissions_policy={},
            document_policy={},
            frame_options=None,
            referrer_policy=None,
            x_content_type_options=False,
            session_cookie_secure=False,
            session_cookie_http_only=False,
        )
    return app


def build_marked_apps() -> list[Flask]:
    """Apps with ``@require_https`` views, guarded and not: "marks elsewhere"."""
    return [build_app("per_view"), build_app("marked")]


def _add_filler_routes(app: Flask, count: int) -> None:
    def filler(item: int = 0) -> str:
        return "ok"

    # Half static, half with a converter, as in a real app's URL map.
    for number in range(count):
        rule = f"/page{number}" if number % 2 else f"/section{number}/<int:item>"
        app.add_url_rule(rule, f"filler{number}", filler)


def _from_the_health_checker(request: object) -> bool:
    return False


def _do_nothing() -> None:
    return None


def _return_unchanged(response: Response) -> Response:
    return response
