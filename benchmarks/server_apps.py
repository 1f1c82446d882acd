"""The apps the benchmark measures: one view returning 'ok', guarded or not.

``make_app`` builds one per contender; ``bare`` and ``guarded`` are what the
whole-server benchmark serves with gunicorn.
"""

from __future__ import annotations

from flask import Flask

from flask_https_guard import HTTPSGuard, exempt_https


def make_app(contender: str, routes: int = 10, skips: int = 0, global_mode: bool = True) -> Flask:
    """An app guarded by ``contender``, with ``routes`` routes and ``skips`` skip prefixes.

    /health is exempt from the redirect, each contender in its own way.
    """
    app = Flask("bench")
    skip_names = [f"skipped{index}" for index in range(skips)]

    def index() -> str:
        return "ok"

    def health() -> str:
        return "ok"

    app.add_url_rule("/", "index", index)
    for number in range(max(0, routes - 3)):
        app.add_url_rule(f"/filler/{number}/<int:item>", f"filler{number}", index)

    if contender == "bare Flask":
        app.add_url_rule("/health", "health", health)
    elif contender == "flask_https_guard":
        app.add_url_rule("/health", "health", exempt_https(health))
        HTTPSGuard(app, global_mode=global_mode, skips=skip_names or None, enabled=True)
    elif contender == "Flask-SSLify 0.1.5":
        from flask_sslify import SSLify

        app.add_url_rule("/health", "health", health)
        SSLify(app, skips=["health", *skip_names])
    elif contender.startswith("Flask-Talisman"):
        from flask_talisman import Talisman

        if contender.endswith("(defaults)"):
            talisman = Talisman(app)
        else:
            talisman = Talisman(
                app,
                force_https=True,
                strict_transport_security=True,
                feature_policy={},
                permissions_policy={},
                document_policy={},
                frame_options=None,
                content_security_policy=None,
                referrer_policy=None,
                x_content_type_options=False,
                session_cookie_secure=False,
                session_cookie_http_only=False,
            )
        app.add_url_rule("/health", "health", talisman(force_https=False)(health))
    else:
        raise ValueError(f"unknown contender {contender!r}")
    return app


bare = make_app("bare Flask")
guarded = make_app("flask_https_guard")
