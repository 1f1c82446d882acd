"""`flask https-guard routes` reports what a plain-HTTP request really gets.

Every test here checks the report against real requests through the test
client: skips that fall inside a rule, apps with marks but no guard, and a
Flask-Talisman that redirects what the guard serves.
"""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask
from flask_talisman import Talisman

from flask_https_guard import HTTPSGuard, exempt_https, require_https

from .test_commands import routes_json

REDIRECTS = (301, 302, 307, 308)


def text_view(**_: object) -> str:
    return "ok"


def skips_app(skips: list[str]) -> Flask:
    """Rules that some skips cover in part: variables where a skip can fall."""
    app = Flask(__name__)
    app.add_url_rule("/<section>/submit", "submit", text_view, methods=["POST"])
    app.add_url_rule("/health", "health", text_view)
    app.add_url_rule("/health<int:number>", "numbered_health", text_view)
    app.add_url_rule("/public/<page>", "public_page", text_view)
    app.add_url_rule("/files/<path:name>", "files", text_view)
    app.add_url_rule("/area/<any(north, south):side>", "area", text_view)
    HTTPSGuard(app, skips=skips)
    return app


def assert_report_matches_requests(app: Flask, paths: dict[str, list[str]]) -> None:
    """Each reported status (or its absence) is what a request to ``paths[rule]`` gets,
    and every exempt example is served over plain HTTP."""
    client = app.test_client()
    for rule, route in routes_json(app).items():
        for method in route["methods"]:
            for path in paths.get(rule, []):
                status = client.open(path, method=method).status_code
                expected = route["statuses"].get(method)
                if expected is None:
                    assert status not in (*REDIRECTS, 403), (rule, path, method, status)
                else:
                    assert status == expected, (rule, path, method, status)
            for path in route["exempt_examples"]:
                status = client.open(path, method=method).status_code
                assert status not in (*REDIRECTS, 403), (rule, path, method, status)


class TestSkipsInsideRules:
    def test_a_skip_that_a_variable_can_take_makes_the_rule_partly_exempt(self):
        app = skips_app(["public"])
        route = routes_json(app)["/<section>/submit"]
        assert route["policy"] == "partly exempt"
        assert route["statuses"] == {"POST": 307}
        assert route["exempt_examples"] == ["/public/submit"]
        assert "skip prefix '/public'" in route["reason"]
        client = app.test_client()
        assert client.post("/public/submit").status_code == 200
        assert client.post("/orders/submit").status_code == 307

    def test_a_skip_matches_whole_segments_only(self):
        app = skips_app(["health"])
        routes = routes_json(app)
        assert routes["/health"]["policy"] == "exempt"
        assert routes["/health<int:number>"]["policy"] == "redirect"
        assert routes["/health<int:number>"]["statuses"] == {"GET": 302}
        assert app.test_client().get("/health5").status_code == 302

    def test_a_skip_before_the_first_variable_exempts_the_whole_rule(self):
        routes = routes_json(skips_app(["public"]))
        assert routes["/public/<page>"]["policy"] == "exempt"
        assert routes["/public/<page>"]["exempt_examples"] == []

    def test_a_skip_inside_a_path_variable(self):
        app = skips_app(["files/shared"])
        route = routes_json(app)["/files/<path:name>"]
        assert route["policy"] == "partly exempt"
        assert route["exempt_examples"] == ["/files/shared"]
        client = app.test_client()
        assert client.get("/files/shared/report.pdf").status_code == 200
        assert client.get("/files/private/report.pdf").status_code == 302

    def test_a_skip_that_an_any_converter_can_take(self):
        app = skips_app(["area/south"])
        route = routes_json(app)["/area/<any(north, south):side>"]
        assert route["policy"] == "partly exempt"
        assert route["exempt_examples"] == ["/area/south"]
        assert app.test_client().get("/area/north").status_code == 302
        assert app.test_client().get("/area/south").status_code == 200

    def test_a_static_rule_that_shadows_the_skipped_path_keeps_the_variable_rule_guarded(self):
        app = Flask(__name__)
        app.add_url_rule("/<section>/submit", "submit", text_view, methods=["POST"])
        app.add_url_rule("/public/submit", "public_submit", text_view, methods=["POST"])
        HTTPSGuard(app, skips=["public"])
        routes = routes_json(app)
        # /public/submit reaches the static rule, never the variable one.
        assert routes["/<section>/submit"]["policy"] == "redirect"
        assert routes["/public/submit"]["policy"] == "exempt"

    @pytest.mark.parametrize(
        "skips", [["public"], ["health"], ["files/shared"], ["area/south"], ["orders", "x"]]
    )
    def test_every_reported_status_is_what_requests_get(self, skips):
        # Paths outside the exempt part of each rule; the exempt part is
        # checked through the report's own examples.
        paths = {
            "/<section>/submit": ["/orders/submit"],
            "/health": ["/health"],
            "/health<int:number>": ["/health5"],
            "/public/<page>": ["/public/about"],
            "/files/<path:name>": ["/files/a/b.txt"],
            "/area/<any(north, south):side>": ["/area/north"],
        }
        app = skips_app(skips)
        if skips == ["orders", "x"]:
            paths["/<section>/submit"] = ["/other/submit"]
        assert_report_matches_requests(app, paths)


class TestNonAsciiSkips:
    """PATH_INFO is latin-1 text of the URL's bytes; the report follows the request."""

    @pytest.fixture
    def app(self):
        app = Flask(__name__)
        app.add_url_rule("/café/menu", "menu", text_view)
        app.add_url_rule("/<section>/menu", "section_menu", text_view)
        HTTPSGuard(app, skips=["café"])
        return app

    @pytest.mark.parametrize("url", ["/café/menu", "/caf%C3%A9/menu"])
    def test_routes_agree_with_a_real_request(self, app, url):
        status = app.test_client().get(url).status_code
        route = routes_json(app)["/café/menu"]
        if status == 302:
            assert route["policy"] == "redirect"
        else:
            assert status == 200
            assert route["policy"] == "exempt"

    def test_the_variable_rule_agrees_too(self):
        app = Flask(__name__)
        app.add_url_rule("/<section>/menu", "section_menu", text_view)
        HTTPSGuard(app, skips=["café"])
        status = app.test_client().get("/café/menu", base_url="http://localhost").status_code
        route = routes_json(app)["/<section>/menu"]
        if status == 302:
            assert route["policy"] == "redirect"
        else:
            assert route["policy"] == "partly exempt"
            assert route["exempt_examples"] == ["/café/menu"]


def unguarded_app() -> Flask:
    """Marks without HTTPSGuard: some enforce themselves, some cannot."""
    app = Flask(__name__)
    app.add_url_rule("/", "index", text_view)

    @app.route("/orders", methods=["GET", "POST"])
    @require_https
    def orders():
        return "orders"

    # Above the route: the route registered the bare function.
    @require_https
    @app.get("/settings")
    def settings():
        return "settings"

    @app.get("/health")
    @exempt_https
    def health():
        return "ok"

    admin = require_https(Blueprint("admin", __name__, url_prefix="/admin"))
    admin.add_url_rule("/users", "users", text_view)
    app.register_blueprint(admin)
    late = Blueprint("late", __name__, url_prefix="/late")
    late.add_url_rule("/page", "page", text_view)
    app.register_blueprint(late)
    require_https(late)  # after registration: nothing copies its hook
    return app


class TestMarksWithoutGuard:
    def test_routes_lists_what_plain_http_gets(self):
        routes = routes_json(unguarded_app())
        assert routes["/orders"]["policy"] == "redirect"
        assert routes["/orders"]["statuses"] == {"GET": 302, "POST": 307}
        assert routes["/orders"]["reason"] == "@require_https, default options"
        assert routes["/admin/users"]["statuses"] == {"GET": 302}
        assert routes["/admin/users"]["reason"] == "blueprint 'admin', default options"
        assert routes["/settings"]["policy"] == "not guarded"
        assert "not enforced" in routes["/settings"]["reason"]
        assert routes["/late/page"]["policy"] == "not guarded"
        assert routes["/health"]["policy"] == "exempt"
        assert routes["/"]["policy"] == "not guarded"
        assert routes["/"]["reason"] == "no HTTPSGuard"

    def test_routes_agree_with_real_requests(self):
        app = unguarded_app()
        assert_report_matches_requests(
            app,
            {
                "/": ["/"],
                "/orders": ["/orders"],
                "/settings": ["/settings"],
                "/health": ["/health"],
                "/admin/users": ["/admin/users"],
                "/late/page": ["/late/page"],
            },
        )

    def test_an_app_without_any_mark(self):
        app = Flask(__name__)
        app.add_url_rule("/", "index", text_view)
        assert routes_json(app)["/"]["policy"] == "not guarded"


class TestTalisman:
    def talisman_app(self, **talisman_options) -> Flask:
        app = Flask(__name__)

        @app.route("/webhook", methods=["GET", "POST"])
        @exempt_https
        def webhook():
            return "ok"

        app.add_url_rule("/", "index", text_view)
        HTTPSGuard(app)
        Talisman(app, content_security_policy=None, **talisman_options)
        return app

    def test_views_the_guard_exempts_are_redirected_by_talisman(self):
        app = self.talisman_app(force_https=True)
        route = routes_json(app)["/webhook"]
        assert route["policy"] == "redirect"
        assert route["statuses"] == {"GET": 302, "POST": 302}
        assert route["reason"].startswith("Flask-Talisman force_https")
        assert routes_json(app)["/"]["statuses"] == {"GET": 302}
        assert_report_matches_requests(app, {"/webhook": ["/webhook"], "/": ["/"]})

    def test_a_view_talisman_exempts_stays_exempt(self):
        app = Flask(__name__)
        app.add_url_rule("/", "index", text_view)
        HTTPSGuard(app)
        talisman = Talisman(app, content_security_policy=None)

        @app.get("/health")
        @exempt_https
        @talisman(force_https=False)
        def health():
            return "ok"

        assert routes_json(app)["/health"]["policy"] == "exempt"
        assert_report_matches_requests(app, {"/health": ["/health"]})

    def test_talisman_without_force_https_changes_no_route(self):
        app = self.talisman_app(force_https=False)
        assert routes_json(app)["/webhook"]["policy"] == "exempt"
        assert_report_matches_requests(app, {"/webhook": ["/webhook"]})


def refusing_app(guard_options=None) -> Flask:
    """Views and a blueprint marked @require_https(refuse=True)."""
    app = Flask(__name__)
    app.add_url_rule("/", "index", text_view)

    @app.route("/token", methods=["GET", "POST"])
    @require_https(refuse=True)
    def token():
        return "token"

    api = require_https(Blueprint("api", __name__, url_prefix="/api"), refuse=True)
    api.add_url_rule("/orders", "orders", text_view, methods=["GET", "PUT"])
    app.register_blueprint(api)
    if guard_options is not None:
        HTTPSGuard(app, **guard_options)
    return app


class TestRefused:
    @pytest.mark.parametrize("options", [{}, {"global_mode": False}, {"permanent": True}, None])
    def test_refuse_marks_are_listed_as_refused(self, options):
        app = refusing_app(options)
        routes = routes_json(app)
        assert routes["/token"]["policy"] == "refuse"
        assert routes["/token"]["statuses"] == {"GET": 403, "POST": 403}
        assert routes["/token"]["reason"].startswith("@require_https(refuse=True)")
        assert routes["/api/orders"]["policy"] == "refuse"
        assert routes["/api/orders"]["statuses"] == {"GET": 403, "PUT": 403}
        assert routes["/api/orders"]["reason"].startswith("blueprint 'api'")
        paths = {"/": ["/"], "/token": ["/token"], "/api/orders": ["/api/orders"]}
        assert_report_matches_requests(app, paths)

    def test_the_table_says_refuse_403(self):
        from .test_commands import run

        output = run(refusing_app({}), "routes", env={"COLUMNS": "200"}).output
        token = next(line for line in output.splitlines() if line.startswith("/token "))
        assert "refuse 403" in token

    def test_refused_writes_next_to_redirected_reads(self):
        app = refusing_app({"refuse_insecure_writes": True})
        app.add_url_rule("/form", "form", text_view, methods=["GET", "POST"])
        route = routes_json(app)["/form"]
        assert route["policy"] == "redirect+refuse"
        assert route["statuses"] == {"GET": 302, "POST": 403}
        assert_report_matches_requests(app, {"/form": ["/form"]})
