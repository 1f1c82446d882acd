"""@require_https and @exempt_https on view functions and View classes."""

from __future__ import annotations

import functools
import logging

import pytest
from flask import Flask
from flask.views import MethodView, View

from flask_https_guard import HTTPSGuard, exempt_https, require_https
from flask_https_guard.marks import view_mark

from .helpers import HTTPS


def login_required(view):
    """A typical third-party decorator that uses functools.wraps."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)

    return wrapper


def per_view_app() -> Flask:
    return Flask(__name__)


class TestRequireHttps:
    def test_below_route(self):
        app = per_view_app()

        @app.get("/account")
        @require_https
        def account():
            return "account"

        HTTPSGuard(app, global_mode=False)
        assert app.test_client().get("/account").status_code == 302

    def test_above_route(self):
        app = per_view_app()

        @require_https
        @app.get("/account")
        def account():
            return "account"

        HTTPSGuard(app, global_mode=False)
        assert app.test_client().get("/account").status_code == 302

    def test_below_a_decorator_using_functools_wraps(self):
        app = per_view_app()

        @app.get("/account")
        @login_required
        @require_https
        def account():
            return "account"

        HTTPSGuard(app, global_mode=False)
        assert app.test_client().get("/account").status_code == 302

    def test_returns_a_wrapper_that_keeps_the_views_name_and_mark(self):
        def view():
            """The view's docstring."""
            return "x"

        wrapped = require_https(view)
        assert wrapped.__name__ == "view"
        assert wrapped.__doc__ == "The view's docstring."
        assert wrapped.__wrapped__ is view
        assert view_mark(wrapped) == view_mark(view) == "require"

    def test_unmarked_view_is_served_over_http_in_per_view_mode(self):
        app = per_view_app()
        app.get("/about")(lambda: "about")
        HTTPSGuard(app, global_mode=False)
        assert app.test_client().get("/about").status_code == 200


class TestClassBasedViews:
    def test_class_decorator_on_a_method_view(self):
        @require_https
        class Items(MethodView):
            def get(self):
                return "items"

            def post(self):
                return "created"

        app = per_view_app()
        app.add_url_rule("/items", view_func=Items.as_view("items"))
        HTTPSGuard(app, global_mode=False)
        client = app.test_client()
        assert client.get("/items").status_code == 302
        assert client.post("/items").status_code == 307
        assert client.post("/items", base_url=HTTPS).get_data(as_text=True) == "created"

    def test_in_the_decorators_list(self):
        class Report(View):
            decorators = (require_https,)

            def dispatch_request(self):
                return "report"

        app = per_view_app()
        app.add_url_rule("/report", view_func=Report.as_view("report"))
        HTTPSGuard(app, global_mode=False)
        assert app.test_client().get("/report").status_code == 302

    def test_exempt_class_in_global_mode(self):
        @exempt_https
        class Health(View):
            def dispatch_request(self):
                return "ok"

        app = Flask(__name__)
        app.add_url_rule("/health", view_func=Health.as_view("health"))
        HTTPSGuard(app)
        assert app.test_client().get("/health").status_code == 200

    def test_subclass_of_a_marked_class_inherits_the_mark(self):
        @exempt_https
        class Health(View):
            def dispatch_request(self):
                return "ok"

        class DeepHealth(Health):
            pass

        app = Flask(__name__)
        app.add_url_rule("/deep", view_func=DeepHealth.as_view("deep"))
        HTTPSGuard(app)
        assert app.test_client().get("/deep").status_code == 200


class TestConflictsAndMisuse:
    def test_marking_a_view_both_ways_raises_at_once(self):
        def view():
            return "x"

        exempt_https(view)
        with pytest.raises(ValueError, match="already marked @exempt_https"):
            require_https(view)

    def test_conflict_through_functools_wraps_is_caught(self):
        @login_required
        @require_https
        def view():
            return "x"

        with pytest.raises(ValueError, match="not both"):
            exempt_https(view)

    def test_marking_twice_the_same_way_is_fine(self):
        def view():
            return "x"

        twice = require_https(require_https(view))
        assert view_mark(twice) == "require"
        app = Flask(__name__)
        app.get("/")(twice)
        assert app.test_client().get("/").status_code == 302

    def test_a_class_that_is_not_a_view_is_refused(self):
        with pytest.raises(TypeError, match="View classes"):

            @require_https
            class NotAView:
                pass

    def test_a_value_that_is_not_callable_is_refused(self):
        with pytest.raises(TypeError, match="view function, a View class or a Blueprint"):
            exempt_https("/health")


class TestRequireHttpsWithoutGuard:
    def test_still_redirects_and_warns_once(self, caplog):
        app = Flask(__name__)

        @app.route("/account", methods=["GET", "POST"])
        @require_https
        def account():
            return "account"

        app.get("/about")(lambda: "about")
        client = app.test_client()
        with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
            assert client.get("/account").status_code == 302
            assert client.post("/account").status_code == 307
            assert client.get("/account").headers["Location"] == "https://localhost/account"
        warnings = [r for r in caplog.records if "no HTTPSGuard" in r.getMessage()]
        assert len(warnings) == 1
        assert client.get("/about").status_code == 200
        assert client.get("/account", base_url=HTTPS).status_code == 200

    def test_only_the_marked_view_pays_and_a_bad_guard_config_is_never_read(self):
        app = Flask(__name__)
        # Config for a guard the app does not have: never read per request.
        app.config["HTTPS_GUARD_TRUSTED_PROXIES"] = "1"

        @app.get("/admin")
        @require_https
        def admin():
            return "admin"

        app.get("/public")(lambda: "public")
        client = app.test_client()
        assert client.get("/public").status_code == 200
        assert client.get("/admin").status_code == 302
        secure = client.get("/admin", base_url=HTTPS)
        assert secure.status_code == 200
        assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert "Strict-Transport-Security" not in client.get("/public", base_url=HTTPS).headers

    def test_marked_above_the_route_is_enforced_only_by_a_guard(self):
        # The route registered the bare function: on an app without a guard
        # nothing enforces it (`flask https-guard check` reports it); a
        # guard reads the mark in either order.
        def build(guarded):
            app = Flask(__name__)

            @require_https
            @app.get("/admin")
            def admin():
                return "admin"

            if guarded:
                HTTPSGuard(app, global_mode=False)
            return app

        assert build(guarded=True).test_client().get("/admin").status_code == 302
        assert build(guarded=False).test_client().get("/admin").status_code == 200

    def test_honours_debug_mode(self):
        app = Flask(__name__)
        app.debug = True
        app.get("/account")(require_https(lambda: "account"))
        assert app.test_client().get("/account").status_code == 200


def test_no_warning_for_an_unguarded_app_without_marked_views(caplog):
    require_https(lambda: "elsewhere")  # connects the fallback, as any use does
    app = Flask(__name__)
    app.get("/")(lambda: "plain")
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        assert app.test_client().get("/").status_code == 200
    assert caplog.records == []
