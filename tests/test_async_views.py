"""Async views and async class-based views get the same treatment."""

from __future__ import annotations

from flask import Blueprint, Flask
from flask.views import MethodView

from flask_https_guard import HTTPSGuard, exempt_https, require_https

from .helpers import HTTPS

HSTS = "Strict-Transport-Security"


def async_app(**options) -> Flask:
    app = Flask(__name__)

    @app.route("/data", methods=["GET", "POST"])
    async def data():
        return "data"

    @app.get("/health")
    @exempt_https
    async def health():
        return "ok"

    @app.get("/account")
    @require_https
    async def account():
        return "account"

    @require_https
    class Items(MethodView):
        async def get(self):
            return "items"

        async def post(self):
            return "created"

    app.add_url_rule("/items", view_func=Items.as_view("items"))
    api = exempt_https(Blueprint("api", __name__, url_prefix="/api"))

    @api.get("/ping")
    async def ping():
        return "pong"

    app.register_blueprint(api)
    HTTPSGuard(app, **options)
    return app


def test_global_mode_redirects_async_views():
    client = async_app().test_client()
    assert client.get("/data").status_code == 302
    assert client.post("/data").status_code == 307
    assert client.get("/data?x=%2F").headers["Location"] == "https://localhost/data?x=%2F"


def test_async_views_get_hsts_over_https():
    response = async_app().test_client().get("/data", base_url=HTTPS)
    assert response.get_data(as_text=True) == "data"
    assert response.headers[HSTS] == "max-age=31536000"


def test_exempt_async_view_and_blueprint():
    client = async_app().test_client()
    assert client.get("/health").status_code == 200
    assert client.get("/api/ping").status_code == 200


def test_per_view_mode_with_async_views():
    client = async_app(global_mode=False).test_client()
    assert client.get("/data").status_code == 200
    assert client.get("/account").status_code == 302
    assert client.post("/items").status_code == 307
    assert client.post("/items", base_url=HTTPS).get_data(as_text=True) == "created"


def test_reject_insecure_writes_on_async_class_view():
    client = async_app(reject_insecure_writes=True).test_client()
    assert client.post("/items").status_code == 403


def test_trusted_proxy_with_async_view():
    client = async_app(trusted_proxies=1).test_client()
    response = client.get("/data", "http://app.test", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response.headers[HSTS] == "max-age=31536000"


def bare_async_app(app_class=Flask) -> Flask:
    app = app_class(__name__)

    @app.route("/account", methods=["GET", "POST"])
    @require_https
    async def account():
        return "account"

    return app


def test_async_view_marked_without_a_guard_enforces_itself():
    client = bare_async_app().test_client()
    assert client.get("/account").status_code == 302
    assert client.post("/account").status_code == 307
    response = client.get("/account", base_url="https://app.test")
    assert response.get_data(as_text=True) == "account"
    assert response.headers[HSTS] == "max-age=31536000"


def test_async_marked_view_runs_through_the_apps_ensure_sync():
    ran = []

    class CustomRunner(Flask):
        def ensure_sync(self, func):
            ran.append(func.__name__)
            return super().ensure_sync(func)

    app = bare_async_app(CustomRunner)
    HTTPSGuard(app, global_mode=False)
    assert app.test_client().get("/account", base_url=HTTPS).status_code == 200
    assert "account" in ran
