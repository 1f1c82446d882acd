"""upgrade_insecure_requests: mixed-content help, merged into an existing CSP."""

from __future__ import annotations

from flask import Flask

from flask_https_guard import HTTPSGuard

from .helpers import HTTPS

CSP = "Content-Security-Policy"


def csp_app(view_policy=None, **options) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index():
        response = app.response_class("<img src='http://cdn.example/a.png'>")
        if view_policy is not None:
            response.headers[CSP] = view_policy
        return response

    HTTPSGuard(app, **options)
    return app


def get_csp(app: Flask, base_url: str = HTTPS) -> list[str]:
    return app.test_client().get("/", base_url=base_url).headers.getlist(CSP)


def test_off_by_default():
    assert get_csp(csp_app()) == []


def test_added_on_secure_responses():
    assert get_csp(csp_app(upgrade_insecure_requests=True)) == ["upgrade-insecure-requests"]


def test_merged_into_the_views_policy_instead_of_replacing_it():
    app = csp_app("default-src 'self'; img-src https:", upgrade_insecure_requests=True)
    assert get_csp(app) == ["default-src 'self'; img-src https:; upgrade-insecure-requests"]


def test_a_policy_that_already_upgrades_is_left_as_it_is():
    app = csp_app("upgrade-insecure-requests; default-src 'self'", upgrade_insecure_requests=True)
    assert get_csp(app) == ["upgrade-insecure-requests; default-src 'self'"]


def test_never_on_plain_http():
    app = csp_app(upgrade_insecure_requests=True, enabled=False)
    assert get_csp(app, base_url="http://localhost") == []


def test_merged_with_flask_talisman():
    from flask_talisman import Talisman

    app = Flask(__name__)
    app.get("/")(lambda: "page")
    Talisman(app, force_https=False, content_security_policy={"default-src": "'self'"})
    HTTPSGuard(app, upgrade_insecure_requests=True)
    policies = get_csp(app)
    assert len(policies) == 1
    assert policies[0].startswith("default-src 'self'")
    assert policies[0].endswith("; upgrade-insecure-requests")
