"""Messages in the user's own words.

An error names the setting as the user wrote it (the drop-in's ``age`` or
``SSLIFY_AGE``, the guard's ``HTTPS_GUARD_HSTS_MAX_AGE``), counts read as
English, and the guard says so when it steps aside in debug mode.
"""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask

from flask_https_guard import HTTPSGuard, SSLify

WRONG = (TypeError, ValueError)


class TestSSLifyErrorsNameWhatYouWrote:
    def test_the_age_argument_is_named_age(self):
        with pytest.raises(WRONG, match=r"^age\b.*'1y'") as raised:
            SSLify(Flask(__name__), age="1y")
        assert "max_age" not in str(raised.value)

    def test_the_config_key_is_named_sslify_age(self):
        app = Flask(__name__)
        app.config["SSLIFY_AGE"] = "1y"
        with pytest.raises(WRONG, match=r"^SSLIFY_AGE\b.*'1y'") as raised:
            SSLify(app)
        assert "max_age" not in str(raised.value)

    def test_the_config_key_wins_over_the_argument_and_is_the_one_named(self):
        app = Flask(__name__)
        app.config["SSLIFY_AGE"] = "1y"
        with pytest.raises(WRONG, match=r"^SSLIFY_AGE\b"):
            SSLify(app, age=600)

    def test_an_age_in_a_string_is_refused_where_flask_sslify_sent_it(self):
        # docs/migrating.rst lists this: Flask-SSLify wrote max-age=31536000
        # from the string; the drop-in asks for the number.
        with pytest.raises(WRONG, match=r"^age\b.*'31536000'"):
            SSLify(Flask(__name__), age="31536000")

    def test_a_negative_age_is_named_too(self):
        with pytest.raises(WRONG, match=r"^age\b.*-1"):
            SSLify(Flask(__name__), age=-1)


class TestGuardErrorsNameWhatYouWrote:
    def test_the_config_key_is_named(self):
        app = Flask(__name__)
        app.config["HTTPS_GUARD_HSTS_MAX_AGE"] = "x"
        with pytest.raises(WRONG, match=r"\bHTTPS_GUARD_HSTS_MAX_AGE\b.*'x'"):
            HTTPSGuard(app)

    def test_the_argument_is_named(self):
        with pytest.raises(WRONG, match=r"\bhsts_max_age\b.*'x'") as raised:
            HTTPSGuard(Flask(__name__), hsts_max_age="x")
        assert "HTTPS_GUARD_" not in str(raised.value)


def counted(number: int, level: str) -> str:
    """'0 errors', '1 warning', '3 info': the count as the summary should say it."""
    return f"{number} {level if number == 1 or level == 'info' else level + 's'}"


def test_the_check_summary_reads_as_english():
    app = Flask(__name__)
    HTTPSGuard(app)
    runner = app.test_cli_runner()
    findings = json.loads(runner.invoke(args=["https-guard", "check", "--json"]).output)["findings"]
    levels = [finding["level"] for finding in findings]
    # The default app has no error, one warning and several infos: 0, 1 and many.
    assert sorted({levels.count("error"), levels.count("warning")}) == [0, 1]
    assert levels.count("info") > 1
    expected = ", ".join(
        counted(levels.count(level), level) for level in ("error", "warning", "info")
    )
    summary = runner.invoke(args=["https-guard", "check"]).output.rstrip().splitlines()[-1]
    assert summary.startswith(f"{expected}: passed"), summary


class TestDebugMode:
    """The development server in debug mode: the guard steps aside, and says so once."""

    @staticmethod
    def debug_app(**options: object) -> Flask:
        app = Flask(__name__)
        app.debug = True
        HTTPSGuard(app, **options)

        @app.get("/")
        def index() -> str:
            return "ok"

        return app

    def test_stepping_aside_is_logged_once_with_the_setting_that_changes_it(self, caplog):
        app = self.debug_app()
        client = app.test_client()
        with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
            assert client.get("/").status_code == 200
            assert client.get("/").status_code == 200
        logged = [r for r in caplog.records if r.name == "flask_https_guard"]
        assert len(logged) == 1, [r.getMessage() for r in logged]
        message = logged[0].getMessage()
        assert logged[0].levelno == logging.WARNING
        assert repr(app.name) in message
        assert "debug mode" in message
        assert "enabled=True" in message and "HTTPS_GUARD_ENABLED" in message

    def test_nothing_is_logged_when_the_guard_enforces_in_debug(self, caplog):
        app = self.debug_app(enabled=True)
        with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
            assert app.test_client().get("/").status_code == 302
        assert not [r for r in caplog.records if "debug mode" in r.getMessage()]

    def test_nothing_is_logged_outside_debug_mode(self, caplog):
        app = Flask(__name__)
        HTTPSGuard(app)
        with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
            assert app.test_client().get("/").status_code == 302
        assert not [r for r in caplog.records if "debug mode" in r.getMessage()]
