"""skips: path prefixes served over plain HTTP, matched on whole segments."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask

from flask_https_guard import HTTPSGuard, require_https

from .helpers import HTTPS


def app_with_paths(**options) -> Flask:
    app = Flask(__name__)

    @app.get("/<path:anything>")
    def anything(anything):
        return anything

    HTTPSGuard(app, **options)
    return app


@pytest.mark.parametrize("skip", ["health", "/health", "/health/"])
@pytest.mark.parametrize(
    "path, status",
    [
        ("/health", 200),
        ("/health/", 200),
        ("/health/live", 200),
        ("/healthz", 302),
        ("/health-check", 302),
        ("/api/health", 302),
    ],
)
def test_skip_matches_whole_segments(skip, path, status):
    client = app_with_paths(skips=[skip]).test_client()
    assert client.get(path).status_code == status


def test_multi_segment_skip():
    client = app_with_paths(skips=["api/v1/status"]).test_client()
    assert client.get("/api/v1/status/db").status_code == 200
    assert client.get("/api/v1/statuses").status_code == 302
    assert client.get("/api/v1").status_code == 302


def test_many_skips_all_match():
    skips = [f"service{i}" for i in range(1000)]
    client = app_with_paths(skips=skips).test_client()
    assert client.get("/service0/x").status_code == 200
    assert client.get("/service999").status_code == 200
    assert client.get("/service1000").status_code == 302


def test_skips_from_config():
    app = Flask(__name__)
    app.config["HTTPS_GUARD_SKIPS"] = ["health"]
    app.get("/health")(lambda: "ok")
    HTTPSGuard(app)
    assert app.test_client().get("/health").status_code == 200


def test_skipped_path_still_gets_hsts_over_https():
    client = app_with_paths(skips=["health"]).test_client()
    response = client.get("/health", base_url=HTTPS)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_require_https_mark_wins_over_skips():
    app = Flask(__name__)
    app.get("/health/admin")(require_https(lambda: "admin"))
    HTTPSGuard(app, skips=["health"])
    assert app.test_client().get("/health/admin").status_code == 302


def test_required_blueprint_wins_over_skips():
    admin = require_https(Blueprint("admin", __name__, url_prefix="/public/admin"))
    admin.get("/")(lambda: "admin")
    app = Flask(__name__)
    app.register_blueprint(admin)
    HTTPSGuard(app, skips=["public"])
    assert app.test_client().get("/public/admin/").status_code == 302


def test_skips_do_not_guard_anything_in_per_view_mode():
    client = app_with_paths(global_mode=False, skips=["health"]).test_client()
    assert client.get("/health").status_code == 200
    assert client.get("/other").status_code == 200
