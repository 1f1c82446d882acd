"""Marks on blueprints, nested blueprints, and the precedence of marks."""

from __future__ import annotations

from flask import Blueprint, Flask

from flask_https_guard import HTTPSGuard, exempt_https, require_https


def view(name):
    def handler():
        return name

    handler.__name__ = name
    return handler


def test_required_blueprint_redirects_its_views_in_per_view_mode():
    admin = Blueprint("admin", __name__, url_prefix="/admin")
    admin.get("/users")(view("users"))
    assert require_https(admin) is admin
    app = Flask(__name__)
    app.get("/")(view("index"))
    app.register_blueprint(admin)
    HTTPSGuard(app, global_mode=False)
    client = app.test_client()
    assert client.get("/admin/users").status_code == 302
    assert client.get("/").status_code == 200


def test_exempt_blueprint_is_served_over_http_in_global_mode():
    probes = exempt_https(Blueprint("probes", __name__, url_prefix="/probes"))
    probes.get("/live")(view("live"))
    probes.get("/ready")(view("ready"))
    app = Flask(__name__)
    app.register_blueprint(probes)
    HTTPSGuard(app)
    client = app.test_client()
    assert client.get("/probes/live").status_code == 200
    assert client.get("/probes/ready").status_code == 200


def test_nested_blueprints_inherit_the_outer_mark():
    outer = require_https(Blueprint("outer", __name__, url_prefix="/outer"))
    inner = Blueprint("inner", __name__, url_prefix="/inner")
    inner.get("/page")(view("page"))
    outer.register_blueprint(inner)
    app = Flask(__name__)
    app.register_blueprint(outer)
    HTTPSGuard(app, global_mode=False)
    assert app.test_client().get("/outer/inner/page").status_code == 302


def test_inner_blueprint_mark_wins_over_the_outer_one():
    api = require_https(Blueprint("api", __name__, url_prefix="/api"))
    status = exempt_https(Blueprint("status", __name__, url_prefix="/status"))
    status.get("/")(view("status_index"))
    api.get("/orders")(view("orders"))
    api.register_blueprint(status)
    app = Flask(__name__)
    app.register_blueprint(api)
    HTTPSGuard(app, global_mode=False)
    client = app.test_client()
    assert client.get("/api/status/").status_code == 200
    assert client.get("/api/orders").status_code == 302


def test_view_mark_wins_over_its_blueprint_mark():
    probes = exempt_https(Blueprint("probes", __name__))
    probes.get("/live")(view("live"))
    probes.get("/secret")(require_https(view("secret")))
    admin = require_https(Blueprint("admin", __name__, url_prefix="/admin"))
    admin.get("/ping")(exempt_https(view("ping")))
    app = Flask(__name__)
    app.register_blueprint(probes)
    app.register_blueprint(admin)
    HTTPSGuard(app)
    client = app.test_client()
    assert client.get("/live").status_code == 200
    assert client.get("/secret").status_code == 302
    assert client.get("/admin/ping").status_code == 200


def test_blueprint_marked_after_registration_is_honoured():
    shop = Blueprint("shop", __name__)
    shop.get("/cart")(view("cart"))
    app = Flask(__name__)
    app.register_blueprint(shop)
    HTTPSGuard(app, global_mode=False)
    require_https(shop)
    assert app.test_client().get("/cart").status_code == 302


def test_blueprint_registered_twice_under_two_names():
    shop = require_https(Blueprint("shop", __name__))
    shop.get("/cart")(view("cart"))
    app = Flask(__name__)
    app.register_blueprint(shop, url_prefix="/eu")
    app.register_blueprint(shop, url_prefix="/us", name="shop_us")
    HTTPSGuard(app, global_mode=False)
    client = app.test_client()
    assert client.get("/eu/cart").status_code == 302
    assert client.get("/us/cart").status_code == 302


def test_blueprint_marked_both_ways_raises():
    import pytest

    blueprint = exempt_https(Blueprint("x", __name__))
    with pytest.raises(ValueError, match="blueprint 'x' is already marked @exempt_https"):
        require_https(blueprint)


def test_require_https_blueprint_without_any_guard_still_redirects():
    admin = require_https(Blueprint("admin", __name__))
    admin.get("/admin")(view("admin"))
    app = Flask(__name__)
    app.register_blueprint(admin)
    assert app.test_client().get("/admin").status_code == 302
