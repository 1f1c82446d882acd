"""`flask https-guard check`: the findings added with the new request path.

Each test builds the situation a user would be in, asserts the finding, and
where the finding makes a claim about requests, shows it with a real one.
"""

from __future__ import annotations

import pathlib

import pytest
from flask import Blueprint, Flask, render_template_string, url_for
from flask.views import View
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_https_guard import HTTPSGuard, exempt_https, require_https
from flask_https_guard.testing import https_client

from .helpers import UNTRUSTED_HOST_STATUS, add_health_and_account
from .test_audit_routes import text_view, unguarded_app
from .test_commands import findings


def plain_app(**config: object) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    app.add_url_rule("/", "index", text_view)
    return app


PRELOAD = {"hsts_preload": True, "hsts_include_subdomains": True}
FORWARDED_HTTPS_THEN_HTTP = {
    "X-Forwarded-Proto": "https, http",
    "X-Forwarded-For": "198.51.100.7, 10.0.0.2",
}


class TestRedirectHostAndPreload:
    def test_redirect_host_that_is_the_only_trusted_host_is_the_same_host(self):
        app = plain_app(TRUSTED_HOSTS=["www.shop.example"])
        HTTPSGuard(app, redirect_host="www.shop.example", **PRELOAD)
        assert "HG005" not in findings(app)[2]
        response = app.test_client().get("/", base_url="http://www.shop.example")
        assert response.headers["Location"] == "https://www.shop.example/"

    def test_a_port_in_trusted_hosts_is_still_the_same_host(self):
        app = plain_app(TRUSTED_HOSTS=["www.shop.example:8080"])
        HTTPSGuard(app, redirect_host="www.shop.example", **PRELOAD)
        assert "HG005" not in findings(app)[2]

    def test_other_trusted_hosts_are_redirected_away(self):
        app = plain_app(TRUSTED_HOSTS=["shop.example", "www.shop.example"])
        HTTPSGuard(app, redirect_host="www.shop.example", **PRELOAD)
        code, _, found = findings(app)
        assert code == 1
        assert "plain HTTP to shop.example redirects to another host" in found["HG005"]["message"]
        response = app.test_client().get("/", base_url="http://shop.example")
        assert response.headers["Location"] == "https://www.shop.example/"

    def test_without_trusted_hosts_any_host_is_redirected_away(self):
        app = plain_app()
        HTTPSGuard(app, redirect_host="www.shop.example", **PRELOAD)
        assert "any other Host" in findings(app)[2]["HG005"]["message"]


class TestTrustDoubled:
    def test_own_proxy_fix_wrapped_before_init_app_decides(self):
        app = plain_app()
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=2, x_proto=2)
        HTTPSGuard(app, trusted_proxies=1)
        _, _, found = findings(app)
        assert found["HG010"]["level"] == "warning"
        message = found["HG010"]["message"]
        assert "ProxyFix(x_for=2, x_proto=2)" in message
        assert "trusted_proxies=1 has no effect" in message
        assert "remove your ProxyFix" in found["HG010"]["hint"]
        # As the finding says: the 2nd entry ("https") was believed, not the 1st.
        assert app.test_client().get("/", headers=FORWARDED_HTTPS_THEN_HTTP).status_code == 200

    def test_own_proxy_fix_wrapped_after_init_app_is_overruled(self):
        app = plain_app()
        HTTPSGuard(app, trusted_proxies=1)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=2)
        _, _, found = findings(app)
        assert "trusted_proxies=1 decides the scheme" in found["HG010"]["message"]
        assert app.test_client().get("/", headers=FORWARDED_HTTPS_THEN_HTTP).status_code == 302

    def test_the_guards_own_proxy_fix_alone_is_not_doubled(self):
        app = plain_app()
        HTTPSGuard(app, trusted_proxies=1)
        _, _, found = findings(app)
        assert "HG010" not in found
        assert "trusted_proxies=1" in found["HG009"]["message"]

    @pytest.mark.parametrize(
        "count, ordinal", [(1, "1st"), (2, "2nd"), (11, "11th"), (22, "22nd"), (112, "112th")]
    )
    def test_the_trusted_entry_is_named_by_its_ordinal(self, count, ordinal):
        app = plain_app()
        HTTPSGuard(app, trusted_proxies=count)
        message = findings(app)[2]["HG009"]["message"]
        assert f"the {ordinal} X-Forwarded-Proto entry from the right" in message

    def test_own_proxy_fix_alone_is_not_doubled(self):
        app = plain_app()
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)
        HTTPSGuard(app)
        _, _, found = findings(app)
        assert "HG010" not in found
        assert "ProxyFix(x_proto=1)" in found["HG009"]["message"]

    def test_a_proxy_fix_without_x_proto_is_not_doubled(self):
        app = plain_app()
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=0)
        HTTPSGuard(app, trusted_proxies=1)
        assert "HG010" not in findings(app)[2]


class TestMarksWithoutGuard:
    def test_marks_that_enforce_themselves(self):
        app = Flask(__name__)

        @app.get("/account")
        @require_https
        def account():
            return "account"

        code, _, found = findings(app)
        assert code == 0
        assert set(found) == {"HG012"}
        assert found["HG012"]["level"] == "warning"
        assert "no HTTPSGuard" in found["HG012"]["message"]
        assert "HTTPS_GUARD_*" in found["HG012"]["message"]
        assert "HTTPSGuard(app, global_mode=False)" in found["HG012"]["hint"]

    def test_the_defaults_ignore_the_apps_config(self):
        # What HG012 tells the user: the marked view is redirected with the
        # defaults, not with the app's HTTPS_GUARD_PERMANENT.
        app = Flask(__name__)
        app.config["HTTPS_GUARD_PERMANENT"] = True

        @app.get("/account")
        @require_https
        def account():
            return "account"

        assert app.test_client().get("/account").status_code == 302
        assert "HG012" in findings(app)[2]

    def test_marks_that_nothing_enforces(self):
        code, report, _ = findings(unguarded_app())
        assert code == 1
        errors = [f for f in report["findings"] if f["id"] == "HG013"]
        messages = " ".join(f["message"] for f in errors)
        assert "/settings (settings)" in messages
        assert "/late/page (late.page)" in messages
        assert len(errors) == 2
        hints = {f["hint"].split(",")[0] for f in errors}
        assert "Put @require_https below @app.route (route decorators go on top)" in hints
        # As the finding says: served over plain HTTP.
        assert unguarded_app().test_client().get("/settings").status_code == 200

    def test_a_view_class_marked_after_as_view(self):
        class Page(View):
            def dispatch_request(self):
                return "page"

        app = Flask(__name__)
        app.add_url_rule("/page", view_func=Page.as_view("page"))
        require_https(Page)
        _, _, found = findings(app)
        assert "View class marked @require_https after as_view()" in found["HG013"]["message"]
        assert app.test_client().get("/page").status_code == 200

    def test_only_exempt_marks_is_still_no_guard(self):
        app = plain_app()
        app.get("/health")(exempt_https(lambda: "ok"))
        code, _, found = findings(app)
        assert code == 1
        assert "whatever the views' marks say" in found["HG000"]["message"]

    def test_no_marks_and_no_guard(self):
        code, _, found = findings(plain_app())
        assert code == 1
        assert set(found) == {"HG000"}

    def test_a_marked_blueprint(self):
        app = Flask(__name__)
        admin = require_https(Blueprint("admin", __name__))
        admin.add_url_rule("/users", "users", text_view)
        app.register_blueprint(admin)
        _, _, found = findings(app)
        assert set(found) == {"HG012"}


class TestTalisman:
    def test_force_https_overlaps_the_guards_exemptions(self):
        app = plain_app()
        app.post("/webhook")(exempt_https(lambda: "ok"))
        HTTPSGuard(app)
        Talisman(app, content_security_policy=None)
        _, _, found = findings(app)
        finding = found["HG014"]
        assert finding["level"] == "warning"
        assert "force_https redirects plain-HTTP requests with 302" in finding["message"]
        assert "(/webhook)" in finding["message"]
        assert "force_https=False" in finding["hint"]
        assert app.test_client().post("/webhook").status_code == 302

    def test_talisman_hsts_blocks_a_roll_back(self):
        app = plain_app()
        HTTPSGuard(app, hsts_max_age=0)
        Talisman(app, force_https=False, content_security_policy=None)
        _, _, found = findings(app)
        finding = found["HG014"]
        assert finding["level"] == "error"
        assert "hsts_max_age=0 roll-back never reaches browsers" in finding["message"]
        # The browser gets Talisman's policy, not the guard's max-age=0.
        hsts = https_client(app).get("/").headers.getlist("Strict-Transport-Security")
        assert len(hsts) == 1 and hsts[0] != "max-age=0"
        assert f"({hsts[0]})" in finding["message"]

    def test_talisman_hsts_with_the_guards_hsts_off(self):
        app = plain_app()
        HTTPSGuard(app, hsts=False)
        Talisman(app, force_https=False, content_security_policy=None)
        _, _, found = findings(app)
        assert "although the guard's hsts=False" in found["HG014"]["message"]
        assert "Strict-Transport-Security" in https_client(app).get("/").headers

    def test_talisman_without_force_https_or_hsts_is_not_reported(self):
        app = plain_app()
        HTTPSGuard(app)
        Talisman(
            app, force_https=False, strict_transport_security=False, content_security_policy=None
        )
        assert "HG014" not in findings(app)[2]

    def test_no_talisman(self):
        app = plain_app()
        HTTPSGuard(app)
        assert "HG014" not in findings(app)[2]


class TestTemplates:
    def test_app_with_templates_is_told_about_upgrade_insecure_requests(self, tmp_path):
        (tmp_path / "page.html").write_text('<img src="http://cdn.example/logo.png">')
        app = Flask(__name__, template_folder=str(tmp_path))
        HTTPSGuard(app)
        _, _, found = findings(app)
        assert found["HG015"]["level"] == "info"
        assert "page.html" in found["HG015"]["message"]
        assert "upgrade_insecure_requests=True" in found["HG015"]["hint"]

    def test_blueprint_templates_count_too(self, tmp_path):
        (tmp_path / "admin.html").write_text("<p>admin</p>")
        app = plain_app()
        app.register_blueprint(Blueprint("admin", __name__, template_folder=str(tmp_path)))
        HTTPSGuard(app)
        assert "admin.html" in findings(app)[2]["HG015"]["message"]

    def test_with_the_option_on_nothing_is_reported(self, tmp_path):
        (tmp_path / "page.html").write_text("<p>hi</p>")
        app = Flask(__name__, template_folder=str(tmp_path))
        app.get("/")(lambda: render_template_string("<p>hi</p>"))
        HTTPSGuard(app, upgrade_insecure_requests=True)
        assert "HG015" not in findings(app)[2]
        csp = https_client(app).get("/").headers["Content-Security-Policy"]
        assert "upgrade-insecure-requests" in csp

    def test_an_app_without_templates_is_not_told(self):
        app = Flask(__name__, template_folder=str(pathlib.Path(__file__).parent / "no-such"))
        HTTPSGuard(app)
        assert "HG015" not in findings(app)[2]


class TestReportOnlyAndSkips:
    def test_report_only(self):
        app = plain_app()
        HTTPSGuard(app, report_only=True)
        _, _, found = findings(app)
        assert found["HG016"]["level"] == "warning"
        assert app.test_client().get("/").status_code == 200

    def test_a_skip_that_matches_no_route(self):
        app = plain_app()
        app.add_url_rule("/healthz", "healthz", text_view)
        HTTPSGuard(app, skips=["health"])
        _, _, found = findings(app)
        assert found["HG017"]["message"] == "The skip '/health' matches no route."
        assert app.test_client().get("/healthz").status_code == 302

    def test_a_skip_that_matches_a_route_is_not_reported(self):
        app = plain_app()
        app.add_url_rule("/health/live", "live", text_view)
        HTTPSGuard(app, skips=["health"])
        assert "HG017" not in findings(app)[2]


def _ids(app):
    from flask_https_guard.audit import check_app

    return {finding.id for finding in check_app(app)}


def test_hg018_names_preferred_url_scheme_until_it_says_https():
    app = Flask(__name__)
    HTTPSGuard(app)
    assert "HG018" in _ids(app)
    app.config["PREFERRED_URL_SCHEME"] = "https"
    assert "HG018" not in _ids(app)


def test_hg019_is_retired_and_never_reported():
    from flask_https_guard.findings import REGISTRY

    assert REGISTRY["HG019"].retired
    first = plain_app()
    first.wsgi_app = ProxyFix(first.wsgi_app, x_proto=1)
    HTTPSGuard(first)
    # The case HG019 described: the guard now answers before the app anyway.
    assert "HG019" not in _ids(first)
    assert first.test_client().get("/").status_code == 302


class SchemeFromHeader:
    """Middleware the guard does not know: sets the scheme from X-Scheme."""

    def __init__(self, app):
        self.inner = app

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_SCHEME") == "https":
            environ["wsgi.url_scheme"] = "https"
        return self.inner(environ, start_response)


class TestMiddlewareAroundTheGuard:
    def static_app(self, tmp_path, before_init_app: bool) -> Flask:
        from werkzeug.middleware.shared_data import SharedDataMiddleware

        (tmp_path / "app.js").write_text("console.log(1)")
        app = plain_app(TRUSTED_HOSTS=["shop.example"])
        if not before_init_app:
            HTTPSGuard(app)
        app.wsgi_app = SharedDataMiddleware(app.wsgi_app, {"/assets": str(tmp_path)})
        if before_init_app:
            HTTPSGuard(app)
        return app

    def test_middleware_wrapped_after_init_app_is_named(self, tmp_path):
        app = self.static_app(tmp_path, before_init_app=False)
        _, _, found = findings(app)
        assert found["HG020"]["level"] == "warning"
        message = found["HG020"]["message"]
        assert "werkzeug.middleware.shared_data.SharedDataMiddleware" in message
        assert "before HTTPSGuard(app)" in found["HG020"]["hint"]
        # As the finding says: what it serves is outside the guard.
        client = app.test_client()
        assert client.get("/assets/app.js", "http://shop.example").status_code == 200
        assert client.get("/", "http://shop.example").status_code == 302

    def test_middleware_wrapped_before_init_app_is_inside(self, tmp_path):
        app = self.static_app(tmp_path, before_init_app=True)
        assert "HG020" not in findings(app)[2]
        assert app.test_client().get("/assets/app.js", "http://shop.example").status_code == 302

    def test_a_proxy_fix_wrapped_after_init_app_is_not_reported(self):
        app = plain_app()
        HTTPSGuard(app)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)
        assert "HG020" not in findings(app)[2]
        headers = {"X-Forwarded-Proto": "https"}
        assert app.test_client().get("/", headers=headers).status_code == 200

    def test_middleware_the_guard_cannot_see_through(self):
        app = plain_app()
        app.wsgi_app = SchemeFromHeader(app.wsgi_app)
        HTTPSGuard(app)
        _, _, found = findings(app)
        assert found["HG021"]["level"] == "info"
        assert "tests.test_audit_check.SchemeFromHeader" in found["HG021"]["message"]
        assert "trusted_proxies" in found["HG021"]["hint"]
        # As the finding says: what it sets comes too late, an https request loops.
        response = app.test_client().get("/", headers={"X-Scheme": "https"})
        assert response.headers["Location"] == "https://localhost/"

    def test_middleware_the_guard_sees_through_is_not_reported(self):
        app = plain_app()
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)
        HTTPSGuard(app)
        assert "HG021" not in findings(app)[2]
        wrapped_after = plain_app()
        HTTPSGuard(wrapped_after)
        wrapped_after.wsgi_app = SchemeFromHeader(wrapped_after.wsgi_app)
        assert "HG021" not in findings(wrapped_after)[2]
        assert (
            wrapped_after.test_client().get("/", headers={"X-Scheme": "https"}).status_code == 200
        )


def mounted_under_shop(**options) -> Flask:
    """The app mounted under /shop inside its own wsgi_app, before init_app."""
    from werkzeug.exceptions import NotFound
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    app = add_health_and_account(plain_app())

    app.wsgi_app = DispatcherMiddleware(NotFound(), {"/shop": app.wsgi_app})
    HTTPSGuard(app, **options)
    return app


class TestMountedInsideItsOwnWsgiApp:
    def test_the_mount_is_reported_with_the_skips_it_needs(self):
        app = mounted_under_shop()
        _, _, found = findings(app)
        finding = found["HG022"]
        assert finding["level"] == "warning"
        assert "'/shop'" in finding["message"]
        assert "skips=['/shop/health']" in finding["hint"]
        assert "HG021" not in found
        # As the finding says: the exempt view under the mount is redirected...
        client = app.test_client()
        assert client.get("/shop/health").status_code == 302
        # ...unless skips lists its full path.
        skipped = mounted_under_shop(skips=["/shop/health"]).test_client()
        assert skipped.get("/shop/health").status_code == 200

    def test_marked_views_still_hold_in_per_view_mode(self):
        app = mounted_under_shop(global_mode=False)
        message = findings(app)[2]["HG022"]["message"]
        assert "only views marked @require_https are redirected" in message
        client = app.test_client()
        assert client.get("/shop/account").status_code == 302
        assert client.get("/shop/").status_code == 200

    def test_other_apps_mounted_inside_are_not_the_app(self):
        from werkzeug.middleware.dispatcher import DispatcherMiddleware

        app = plain_app()
        other = Flask("other")
        app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/blog": other})
        HTTPSGuard(app)
        _, _, found = findings(app)
        assert "HG022" not in found and "HG021" not in found


class TestHostNames:
    def test_capitals_are_reported_where_they_were_written(self):
        app = plain_app(
            SERVER_NAME="Shop.Example", TRUSTED_HOSTS=["shop.example", "WWW.Shop.Example"]
        )
        app.config["HTTPS_GUARD_REDIRECT_HOST"] = "WWW.Shop.Example"
        HTTPSGuard(app)
        finding = findings(app)[2]["HG023"]
        assert finding["level"] == "info"
        for written in (
            "SERVER_NAME 'Shop.Example'",
            "TRUSTED_HOSTS 'WWW.Shop.Example'",
            "config HTTPS_GUARD_REDIRECT_HOST 'WWW.Shop.Example'",
        ):
            assert written in finding["message"]
        assert "TRUSTED_HOSTS 'shop.example'" not in finding["message"]
        # As the finding says: compared case-insensitively.
        response = app.test_client().get("/", "http://www.shop.example")
        assert response.headers["Location"] == "https://www.shop.example/"

    def test_a_comma_separated_trusted_hosts_is_reported_entry_by_entry(self):
        app = plain_app(TRUSTED_HOSTS="shop.example, WWW.Shop.Example")  # as from the env
        HTTPSGuard(app)
        message = findings(app)[2]["HG023"]["message"]
        assert "TRUSTED_HOSTS 'WWW.Shop.Example'" in message
        assert "shop.example," not in message

    def test_an_argument_with_capitals_too(self):
        app = plain_app(TRUSTED_HOSTS=["www.shop.example"])
        HTTPSGuard(app, canonical_host="WWW.Shop.Example")
        assert "option canonical_host 'WWW.Shop.Example'" in findings(app)[2]["HG023"]["message"]

    def test_lower_case_names_are_not_reported(self):
        app = plain_app(SERVER_NAME="shop.example", TRUSTED_HOSTS="shop.example")
        HTTPSGuard(app, redirect_host="shop.example")
        assert "HG023" not in findings(app)[2]

    def test_canonical_host_that_trusted_hosts_refuses(self):
        app = plain_app(TRUSTED_HOSTS=["shop.example"])
        HTTPSGuard(app, canonical_host="www.shop.example")
        code, _, found = findings(app)
        assert code == 1
        finding = found["HG024"]
        assert finding["level"] == "error"
        assert "'www.shop.example'" in finding["message"] and "400" in finding["message"]
        # As the finding says: sent to the canonical host, which then answers 400.
        client = https_client(app)
        response = client.get("https://shop.example/")
        assert response.headers["Location"] == "https://www.shop.example/"
        assert client.get("https://www.shop.example/").status_code == UNTRUSTED_HOST_STATUS

    def test_canonical_host_left_out_by_server_name_is_a_warning(self):
        app = plain_app(SERVER_NAME="shop.example")
        HTTPSGuard(app, canonical_host="www.shop.example")
        finding = findings(app)[2]["HG024"]
        assert finding["level"] == "warning"
        assert "point back to SERVER_NAME" in finding["message"]
        with app.test_request_context("/", base_url="https://www.shop.example"):
            assert url_for("index", _external=True) == "https://shop.example/"

    def test_canonical_host_that_trusted_hosts_admits(self):
        app = plain_app(TRUSTED_HOSTS=["shop.example", ".shop.example"])
        HTTPSGuard(app, canonical_host="www.shop.example")
        assert "HG024" not in findings(app)[2]
        assert https_client(app).get("https://www.shop.example/").status_code == 200


class TestSubdomains:
    def test_include_subdomains_points_at_the_probe(self):
        from flask_https_guard.probe import probe_command

        app = plain_app()
        HTTPSGuard(app, hsts_include_subdomains=True)
        finding = findings(app)[2]["HG025"]
        assert finding["level"] == "info"
        assert "flask https-guard probe URL --subdomain NAME" in finding["hint"]
        # The option the hint names exists.
        assert "--subdomain" in [opt for param in probe_command.params for opt in param.opts]

    def test_preload_too(self):
        app = plain_app()
        HTTPSGuard(app, **PRELOAD)
        assert "HG025" in findings(app)[2]

    def test_not_without_subdomains_or_without_hsts(self):
        app = plain_app()
        HTTPSGuard(app)
        assert "HG025" not in findings(app)[2]
