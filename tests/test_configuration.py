"""Options: arguments, HTTPS_GUARD_* config, defaults, and errors at init_app."""

from __future__ import annotations

import pytest
from flask import Flask

from flask_https_guard import HTTPSGuard
from flask_https_guard.guard import Guard

from .helpers import HTTPS


def fresh_app(**config) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    app.route("/", methods=["GET", "POST"])(lambda: "ok")
    return app


def test_registers_itself_in_app_extensions():
    app = fresh_app()
    guard = HTTPSGuard(app)
    state = app.extensions["https_guard"]
    assert isinstance(state, Guard)
    assert state.extension is guard


def test_argument_wins_over_config_and_config_over_default():
    app = fresh_app(HTTPS_GUARD_PERMANENT=True, HTTPS_GUARD_HSTS_MAX_AGE=600)
    HTTPSGuard(app, hsts_max_age=1200)
    options = app.extensions["https_guard"].options
    assert options.hsts_max_age == 1200
    assert options.permanent is True
    assert options.trusted_proxies == 0
    assert options.sources["hsts_max_age"] == "argument"
    assert options.sources["permanent"] == "config"
    assert options.sources["trusted_proxies"] == "default"
    client = app.test_client()
    assert client.get("/").status_code == 301
    assert client.get("/", base_url=HTTPS).headers["Strict-Transport-Security"] == "max-age=1200"


def test_one_guard_serves_several_apps_each_with_its_own_config():
    guard = HTTPSGuard()
    first = fresh_app(HTTPS_GUARD_PERMANENT=True)
    second = fresh_app()
    guard.init_app(first)
    guard.init_app(second)
    assert first.test_client().get("/").status_code == 301
    assert second.test_client().get("/").status_code == 302
    first_guard, second_guard = first.extensions["https_guard"], second.extensions["https_guard"]
    assert first_guard.extension is second_guard.extension is guard
    assert first.extensions["https_guard"] is not second.extensions["https_guard"]


def test_app_factory_pattern():
    guard = HTTPSGuard(trusted_proxies=1)

    def create_app():
        app = fresh_app()
        guard.init_app(app)
        return app

    app = create_app()
    assert app.test_client().get("/", headers={"X-Forwarded-Proto": "https"}).status_code == 200


def test_installing_twice_on_one_app_is_refused():
    app = fresh_app()
    HTTPSGuard(app)
    with pytest.raises(RuntimeError, match="already installed"):
        HTTPSGuard(app)


def test_unknown_option_name_is_a_type_error():
    with pytest.raises(TypeError, match=r"unknown option 'trusted_proxy'.*trusted_proxies"):
        HTTPSGuard(trusted_proxy=1)


def test_unknown_config_key_is_refused_at_init_app():
    app = fresh_app(HTTPS_GUARD_PERMANANT=True)
    with pytest.raises(ValueError, match=r"HTTPS_GUARD_PERMANANT.*HTTPS_GUARD_PERMANENT"):
        HTTPSGuard(app)


@pytest.mark.parametrize(
    "option, value, error, message",
    [
        ("global_mode", "yes", TypeError, "option global_mode must be True or False, got 'yes'"),
        ("permanent", 1, TypeError, "option permanent must be True or False, got 1"),
        ("hsts", None, TypeError, "option hsts must be True or False"),
        ("hsts_max_age", -5, ValueError, "option hsts_max_age must be 0 or more, got -5"),
        ("hsts_max_age", "1y", TypeError, "option hsts_max_age must be a whole number, got '1y'"),
        ("trusted_proxies", True, TypeError, "option trusted_proxies must be a whole number"),
        ("trusted_proxies", -1, ValueError, "option trusted_proxies must be 0 or more"),
        (
            "redirect_port",
            0,
            ValueError,
            "option redirect_port must be a port number from 1 to 65535, got 0",
        ),
        ("redirect_port", 70000, ValueError, "from 1 to 65535, got 70000"),
        ("redirect_port", "8443", TypeError, "option redirect_port must be None or a port number"),
        ("redirect_host", "https://example.com", ValueError, "bare host name"),
        ("redirect_host", "example.com:8443", ValueError, "set the port with redirect_port"),
        ("redirect_host", 42, TypeError, "option redirect_host must be None or a host name"),
        ("skips", "health", TypeError, r"list of path prefixes such as \['health'\], got 'health'"),
        ("skips", ["/"], ValueError, "would skip every path"),
        ("skips", ["health?x"], ValueError, "cannot hold '\\?'"),
        ("skips", [1], TypeError, "path prefixes as strings, got 1"),
        ("enabled", "false", TypeError, "option enabled must be None"),
        ("reject_insecure_writes", "no", TypeError, "reject_insecure_writes must be True or False"),
        ("secure_cookies", 0, TypeError, "secure_cookies must be True or False"),
    ],
)
def test_bad_argument_names_option_value_and_what_is_allowed(option, value, error, message):
    with pytest.raises(error, match=message):
        HTTPSGuard(fresh_app(), **{option: value})


@pytest.mark.parametrize(
    "key, value, message",
    [
        (
            "HTTPS_GUARD_TRUSTED_PROXIES",
            "1",
            "config HTTPS_GUARD_TRUSTED_PROXIES must be a whole number, got '1'",
        ),
        ("HTTPS_GUARD_REDIRECT_PORT", 0, "config HTTPS_GUARD_REDIRECT_PORT must be a port number"),
        ("HTTPS_GUARD_HSTS", "off", "config HTTPS_GUARD_HSTS must be True or False, got 'off'"),
    ],
)
def test_bad_config_value_names_the_config_key(key, value, message):
    with pytest.raises((TypeError, ValueError), match=message):
        HTTPSGuard(fresh_app(**{key: value}))


def test_invalid_hsts_combination_names_the_options():
    with pytest.raises(ValueError, match="option hsts_preload requires option hsts_incl"):
        HTTPSGuard(fresh_app(), hsts_preload=True)
    with pytest.raises(ValueError, match=r"option hsts_max_age of at least 31536000.*got 600"):
        HTTPSGuard(fresh_app(), hsts_preload=True, hsts_include_subdomains=True, hsts_max_age=600)


def test_invalid_hsts_from_config_fails_at_init_app():
    app = fresh_app(HTTPS_GUARD_HSTS_PRELOAD=True)
    guard = HTTPSGuard()
    with pytest.raises(ValueError, match="config HTTPS_GUARD_HSTS_PRELOAD requires"):
        guard.init_app(app)


def test_config_set_after_construction_but_before_init_app_is_read():
    guard = HTTPSGuard()
    app = fresh_app()
    app.config["HTTPS_GUARD_REDIRECT_PORT"] = 8443
    guard.init_app(app)
    assert app.test_client().get("/").headers["Location"] == "https://localhost:8443/"


class TestRejectInsecureWrites:
    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
    def test_insecure_write_gets_403_without_location(self, method):
        app = fresh_app()
        app.add_url_rule("/form", "form", lambda: "written", methods=[method])
        HTTPSGuard(app, reject_insecure_writes=True)
        response = app.test_client().open("/form", method=method, data="password=x")
        assert response.status_code == 403
        assert "Location" not in response.headers
        assert "HTTPS is required" in response.get_data(as_text=True)

    @pytest.mark.parametrize("method, status", [("GET", 302), ("HEAD", 302), ("OPTIONS", 307)])
    def test_reads_are_still_redirected(self, method, status):
        app = fresh_app()
        HTTPSGuard(app, reject_insecure_writes=True)
        assert app.test_client().open("/", method=method).status_code == status

    def test_secure_writes_are_served(self):
        app = fresh_app()
        HTTPSGuard(app, reject_insecure_writes=True)
        assert app.test_client().post("/", base_url=HTTPS).status_code == 200


def test_two_guards_with_different_options_in_one_process():
    permanent, temporary = fresh_app(), fresh_app()
    HTTPSGuard(permanent, permanent=True, hsts_max_age=60)
    HTTPSGuard(temporary, skips=["health"], hsts=False)
    assert permanent.test_client().get("/").status_code == 301
    assert temporary.test_client().get("/").status_code == 302
    assert (
        permanent.test_client().get("/", base_url=HTTPS).headers["Strict-Transport-Security"]
        == "max-age=60"
    )
    assert (
        "Strict-Transport-Security" not in temporary.test_client().get("/", base_url=HTTPS).headers
    )


def test_an_unguarded_app_is_untouched_by_marks_and_guards_elsewhere():
    from flask_https_guard import require_https

    elsewhere = fresh_app()
    elsewhere.get("/marked", endpoint="marked")(require_https(lambda: "marked"))
    HTTPSGuard(elsewhere)
    elsewhere.test_client().get("/marked")

    plain = fresh_app(HTTPS_GUARD_TRUSTED_PROXIES="not a number")
    response = plain.test_client().get("/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in plain.test_client().get("/", base_url=HTTPS).headers
    assert "https_guard" not in plain.extensions
    assert plain.before_request_funcs == {}


def test_the_state_is_built_at_init_app_and_its_options_cannot_change():
    app = fresh_app()
    HTTPSGuard(app, permanent=True)
    options = app.extensions["https_guard"].options
    with pytest.raises(AttributeError, match="never change"):
        options.permanent = False


def test_the_old_and_the_new_name_together_are_refused():
    with pytest.raises(TypeError, match="one option; set only one"):
        HTTPSGuard(fresh_app(), refuse_insecure_writes=False, reject_insecure_writes=True)
