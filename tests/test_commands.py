"""`flask https-guard routes` and `flask https-guard check`."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys

import pytest
from flask import Blueprint, Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_https_guard import HTTPSGuard, exempt_https, require_https
from flask_https_guard.cli import https_guard
from flask_https_guard.findings import LEVELS, REGISTRY

ROOT = pathlib.Path(__file__).resolve().parent.parent


def shop_app(guard_options=None, **config) -> Flask:
    """An app with the shapes the examples use: views, blueprints, an exempt probe."""
    app = Flask("shop")
    app.config.update(config)

    @app.get("/")
    def index():
        return "index"

    @app.route("/orders", methods=["GET", "POST"])
    def orders():
        return "orders"

    @app.get("/health")
    @exempt_https
    def health():
        return "ok"

    admin = require_https(Blueprint("admin", __name__, url_prefix="/admin"))
    admin.get("/users")(lambda: "users")
    probes = exempt_https(Blueprint("probes", __name__, url_prefix="/probes"))
    probes.get("/live")(lambda: "live")
    app.register_blueprint(admin)
    app.register_blueprint(probes)

    @app.get("/status/<name>")
    def status(name):
        return name

    if guard_options is not None:
        HTTPSGuard(app, **guard_options)
    return app


def run(app, *args, env=None):
    """Invoke the group directly: works on apps without a guard too."""
    return app.test_cli_runner().invoke(https_guard, list(args), env=env)


def routes_json(app):
    result = run(app, "routes", "--json")
    assert result.exit_code == 0, result.output
    return {route["rule"]: route for route in json.loads(result.output)}


def findings(app, *args):
    result = run(app, "check", "--json", *args)
    report = json.loads(result.output)
    return result.exit_code, report, {f["id"]: f for f in report["findings"]}


class TestRoutes:
    def test_global_mode_policies_and_reasons(self):
        routes = routes_json(shop_app({}))
        assert routes["/"]["policy"] == "redirect"
        assert routes["/"]["statuses"] == {"GET": 302}
        assert routes["/"]["reason"] == "global mode"
        assert routes["/orders"]["statuses"] == {"GET": 302, "POST": 307}
        assert routes["/orders"]["methods"] == ["GET", "POST"]
        assert routes["/health"]["policy"] == "exempt"
        assert routes["/health"]["reason"] == "@exempt_https"
        assert routes["/probes/live"]["reason"] == "blueprint 'probes'"
        assert routes["/admin/users"]["reason"] == "blueprint 'admin'"

    def test_per_view_mode(self):
        routes = routes_json(shop_app({"global_mode": False}))
        assert routes["/"]["policy"] == "not guarded"
        assert routes["/admin/users"]["policy"] == "redirect"
        assert routes["/admin/users"]["reason"] == "blueprint 'admin'"

    def test_skip_prefix_is_the_reason(self):
        routes = routes_json(shop_app({"skips": ["status"]}))
        assert routes["/status/<name>"]["policy"] == "exempt"
        assert routes["/status/<name>"]["reason"] == "skip prefix '/status'"

    @pytest.mark.parametrize("name", ["refuse_insecure_writes", "reject_insecure_writes"])
    def test_permanent_and_refused_writes(self, name):
        # reject_insecure_writes: the deprecated name, still honoured.
        routes = routes_json(shop_app({"permanent": True, name: True}))
        assert routes["/orders"]["statuses"] == {"GET": 301, "POST": 403}
        assert routes["/orders"]["policy"] == "redirect+refuse"

    def test_inactive_guard_guards_nothing(self):
        routes = routes_json(shop_app({"enabled": False}))
        assert {route["policy"] for route in routes.values()} == {"not guarded"}

    @pytest.mark.parametrize(
        "options",
        [
            {},
            {"global_mode": False},
            {"permanent": True, "skips": ["status"]},
            {"refuse_insecure_writes": True},
        ],
    )
    def test_routes_report_what_requests_actually_get(self, options):
        app = shop_app(options)
        client = app.test_client()
        concrete = {"/status/<name>": "/status/db", "/static/<path:filename>": "/static/x.css"}
        for rule, route in routes_json(app).items():
            for method in route["methods"]:
                status = client.open(concrete.get(rule, rule), method=method).status_code
                expected = route["statuses"].get(method)
                if expected is None:
                    assert status not in (301, 302, 307, 308, 403), (rule, method, status)
                else:
                    assert status == expected, (rule, method)

    def long_rule_app(self) -> Flask:
        app = shop_app({})
        app.get("/a/very/long/rule/that/goes/on/<int:and_on>/and/on/forever")(lambda and_on: "x")
        return app

    def test_table_fits_the_terminal_and_is_aligned(self):
        result = run(self.long_rule_app(), "routes", env={"COLUMNS": "80"})
        assert result.exit_code == 0
        lines = result.output.splitlines()
        assert lines[0].split() == [
            "Rule",
            "Endpoint",
            "Methods",
            "Plain",
            "HTTP",
            "gets",
            "Reason",
        ]
        assert all(len(line) <= 80 for line in lines)
        assert any(line.startswith("/health ") and "exempt" in line for line in lines)
        column = lines[0].index("Endpoint")
        assert all(line[column - 2 : column] == "  " for line in lines[1:])

    def test_a_wide_terminal_gets_the_whole_table(self):
        rule = "/a/very/long/rule/that/goes/on/<int:and_on>/and/on/forever"
        narrow = run(self.long_rule_app(), "routes", env={"COLUMNS": "80"}).output
        wide = run(self.long_rule_app(), "routes", env={"COLUMNS": "200"}).output
        assert rule not in narrow
        assert any(line.startswith(rule + " ") for line in wide.splitlines())
        assert "~" not in wide
        assert max(map(len, wide.splitlines())) > 80

    def test_a_tiny_terminal_keeps_a_readable_minimum(self):
        output = run(shop_app({"hsts": False}), "check", env={"COLUMNS": "10"}).output
        findings_lines = [line for line in output.splitlines() if line.startswith(("HG", " "))]
        assert max(map(len, findings_lines)) == 40

    def test_check_wraps_to_the_terminal_too(self):
        app = shop_app({"hsts": False})
        narrow = run(app, "check", env={"COLUMNS": "60"}).output.splitlines()
        wide = run(app, "check", env={"COLUMNS": "300"}).output.splitlines()
        assert max(map(len, narrow)) <= 60
        assert any(
            line.startswith("HG003 warning HSTS is off") and len(line) > 100 for line in wide
        )

    def test_an_app_without_guard_lists_its_routes(self):
        result = run(shop_app(), "routes")
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        routes = routes_json(shop_app())
        assert routes["/admin/users"]["policy"] == "redirect"
        assert routes["/"]["policy"] == "not guarded"
        assert routes["/"]["reason"] == "no HTTPSGuard"


class TestCheck:
    def test_clean_production_app_passes(self):
        app = shop_app(
            {"permanent": True, "trusted_proxies": 1},
            TRUSTED_HOSTS=["shop.example"],
            PREFERRED_URL_SCHEME="https",
        )
        code, report, found = findings(app)
        assert code == 0 and report["passed"] is True
        assert set(found) == {"HG009"}
        assert "trusted_proxies=1" in found["HG009"]["message"]

    def test_no_guard(self):
        app = Flask("bare")
        app.get("/")(lambda: "index")
        code, _, found = findings(app)
        assert code == 1
        assert found["HG000"]["level"] == "error"
        assert "No HTTPSGuard" in found["HG000"]["message"]

    def test_no_guard_but_marks(self):
        # shop_app's admin blueprint is marked @require_https before it is
        # registered, so it redirects by itself.
        code, _, found = findings(shop_app())
        assert code == 0
        assert set(found) == {"HG012"}

    def test_disabled(self):
        code, _, found = findings(shop_app({"enabled": False}))
        assert code == 1 and found["HG001"]["level"] == "error"

    def test_debug_mode(self, monkeypatch):
        # The flask command sets app.debug from FLASK_DEBUG (`flask --debug`).
        monkeypatch.setenv("FLASK_DEBUG", "1")
        app = shop_app({})
        code, _, found = findings(app)
        assert code == 1 and found["HG002"]["level"] == "error"
        assert "inactive" in found["HG002"]["message"]

    def test_debug_mode_with_guard_forced_on_is_a_warning(self, monkeypatch):
        monkeypatch.setenv("FLASK_DEBUG", "1")
        app = shop_app({"enabled": True})
        code, _, found = findings(app)
        assert code == 0 and found["HG002"]["level"] == "warning"

    def test_hsts_off(self):
        _, _, found = findings(shop_app({"hsts": False}))
        assert found["HG003"]["level"] == "warning"

    def test_hsts_max_age_below_a_year(self):
        _, _, found = findings(shop_app({"hsts_max_age": 300}))
        assert "300 seconds" in found["HG004"]["message"]

    def test_preload_with_redirect_to_another_host(self):
        options = {
            "hsts_preload": True,
            "hsts_include_subdomains": True,
            "redirect_host": "www.shop.example",
        }
        code, _, found = findings(shop_app(options))
        assert code == 1
        assert "www.shop.example" in found["HG005"]["message"]

    def test_preload_with_home_page_over_http(self):
        options = {"hsts_preload": True, "hsts_include_subdomains": True, "global_mode": False}
        _, _, found = findings(shop_app(options))
        assert "home page" in found["HG005"]["message"]

    def test_preload_that_meets_the_rules_is_not_reported(self):
        options = {"hsts_preload": True, "hsts_include_subdomains": True}
        _, _, found = findings(shop_app(options))
        assert "HG005" not in found

    def test_session_cookie_not_secure(self):
        _, _, found = findings(shop_app({"secure_cookies": False}))
        assert "SESSION_COOKIE_SECURE" in found["HG006"]["message"]

    def test_redirects_follow_the_clients_host(self):
        _, _, found = findings(shop_app({}))
        assert "Host header" in found["HG007"]["message"]

    def test_trusted_hosts_redirect_host_or_server_name_silence_the_host_finding(self):
        # Each limits the host the redirect goes to (tests/test_bad_input.py).
        assert "HG007" not in findings(shop_app({}, TRUSTED_HOSTS=["shop.example"]))[2]
        assert "HG007" not in findings(shop_app({"redirect_host": "shop.example"}))[2]
        assert "HG007" not in findings(shop_app({}, SERVER_NAME="shop.example"))[2]

    def test_exempt_route_that_accepts_writes(self):
        app = shop_app({})
        app.post("/webhook")(exempt_https(lambda: "ok"))
        _, _, found = findings(app)
        assert "/webhook" in found["HG008"]["message"]
        assert "POST" in found["HG008"]["message"]

    def test_scheme_from_wsgi_alone(self):
        _, _, found = findings(shop_app({}))
        assert "WSGI scheme alone" in found["HG009"]["message"]

    def test_scheme_from_proxy_fix(self):
        app = shop_app({})
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)
        _, _, found = findings(app)
        assert "ProxyFix(x_proto=1)" in found["HG009"]["message"]
        assert "HG010" not in found

    def test_proxy_fix_and_trusted_proxies_disagree(self):
        app = shop_app({"trusted_proxies": 1})
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=2)
        _, _, found = findings(app)
        assert found["HG010"]["level"] == "warning"

    def test_temporary_redirects(self):
        _, _, found = findings(shop_app({}))
        assert found["HG011"]["level"] == "info"
        assert "HG011" not in findings(shop_app({"permanent": True}))[2]

    @pytest.mark.parametrize("fail_level, code", [("error", 0), ("warning", 1), ("info", 1)])
    def test_fail_level_sets_the_exit_status(self, fail_level, code):
        app = shop_app({"hsts_max_age": 300}, TRUSTED_HOSTS=["shop.example"])
        assert run(app, "check", "--fail-level", fail_level).exit_code == code

    def test_human_output(self):
        result = run(shop_app({"hsts": False}), "check")
        assert result.exit_code == 0
        assert "HG003 warning HSTS is off" in result.output
        assert "hint: Remove hsts=False" in result.output
        assert result.output.rstrip().endswith("passed (--fail-level error)")


class TestTestCliRunner:
    """The commands through `app.test_cli_runner()`, as an app's own tests run them."""

    def test_a_guarded_app_has_the_commands_on_app_cli(self):
        app = shop_app({"permanent": True}, TRUSTED_HOSTS=["shop.example"])
        result = app.test_cli_runner().invoke(args=["https-guard", "check", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["passed"] is True
        result = app.test_cli_runner().invoke(args=["https-guard", "routes", "--json"])
        assert {route["rule"] for route in json.loads(result.output)} >= {"/", "/health"}

    def test_an_app_without_guard_invokes_the_group(self):
        # Without HTTPSGuard nothing adds the group to app.cli; invoke it directly.
        app = Flask("bare")
        app.get("/")(lambda: "index")
        result = app.test_cli_runner().invoke(https_guard, ["check", "--json"])
        assert result.exit_code == 1
        assert json.loads(result.output)["findings"][0]["id"] == "HG000"
        result = app.test_cli_runner().invoke(https_guard, ["routes", "--json"])
        assert result.exit_code == 0
        assert json.loads(result.output)[0]["policy"] == "not guarded"

    def test_json_on_every_command(self):
        for command in https_guard.commands.values():
            assert "--json" in [opt for param in command.params for opt in param.opts], command.name


def test_deploy_check_in_your_own_test_suite():
    """How an app's own test suite keeps the deploy check green (docs example)."""

    def create_app():
        app = Flask(__name__)
        app.config["TRUSTED_HOSTS"] = ["shop.example"]
        HTTPSGuard(app, permanent=True, hsts_max_age=63072000)
        return app

    app = create_app()
    result = app.test_cli_runner().invoke(
        args=["https-guard", "check", "--json", "--fail-level", "warning"]
    )
    report = json.loads(result.output)
    assert result.exit_code == 0, [f["message"] for f in report["findings"]]
    assert report["passed"] is True


@pytest.mark.parametrize("command", [["routes"], ["check", "--json"]])
def test_installed_as_a_flask_command(command):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "examples/global_mode.py",
            "https-guard",
            *command,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "global mode" in result.stdout or '"findings"' in result.stdout


class TestFindingRegistry:
    """One registry of finding IDs: the code, the docs and the levels agree with it."""

    def docs_table(self):
        """(ID, level, meaning) for each row; the meaning cell may go on over indented lines."""
        text = (ROOT / "docs" / "cli.rst").read_text(encoding="utf-8")
        return re.findall(
            r"^   \* - (H[GP]\d{3})\n     - (\w+)\n     - (.+(?:\n       .+)*)$",
            text,
            flags=re.MULTILINE,
        )

    def docs_rows(self):
        return [(finding_id, level) for finding_id, level, _ in self.docs_table()]

    @staticmethod
    def plain(text):
        """``code`` becomes code and whitespace one space, as a reader sees the text."""
        return " ".join(re.sub(r"``(.+?)``", r"\1", text).split())

    def test_the_docs_tables_list_every_id_with_its_level(self):
        rows = self.docs_rows()
        assert len(rows) == len(set(rows)), "an ID is listed twice"
        expected = [
            (finding_id, "retired" if entry.retired else entry.level)
            for finding_id, entry in REGISTRY.items()
        ]
        assert sorted(rows) == sorted(expected)

    def test_each_docs_meaning_starts_with_the_registered_one(self):
        meanings = {finding_id: meaning for finding_id, _, meaning in self.docs_table()}
        assert sorted(meanings) == sorted(REGISTRY), "a row's meaning cell was not found"
        for finding_id, entry in REGISTRY.items():
            registered, docs = self.plain(entry.meaning), self.plain(meanings[finding_id])
            assert docs.startswith(registered), (
                f"{finding_id}: the docs' meaning does not start with the registry's\n"
                f"  registry: {registered}\n  docs:     {docs}"
            )

    def test_the_audit_package_has_no_table_of_its_own(self):
        import flask_https_guard.audit

        assert not re.search(r"HG\d{3}", flask_https_guard.audit.__doc__)

    def test_every_id_in_the_code_is_registered_and_current(self):
        package = ROOT / "flask_https_guard"
        used = {
            (match, path.name)
            for path in package.rglob("*.py")
            if path.name != "findings.py" or path.parent != package
            for match in re.findall(r"[\"'](H[GP]\d{3})[\"']", path.read_text(encoding="utf-8"))
        }
        assert used, "no finding IDs found in the code"
        unknown = {(finding_id, name) for finding_id, name in used if finding_id not in REGISTRY}
        retired = {
            (finding_id, name)
            for finding_id, name in used
            if finding_id in REGISTRY and REGISTRY[finding_id].retired
        }
        assert not unknown and not retired

    def test_levels_are_the_registered_ones_unless_the_finding_varies(self):
        for finding_id, entry in REGISTRY.items():
            assert entry.level in LEVELS, finding_id
            assert entry.meaning.endswith("."), finding_id
        # The registered level is what check reports by default.
        _, _, found = findings(shop_app({"hsts": False}))
        assert {f["level"] for f in found.values()} <= set(LEVELS)
        for finding_id, finding in found.items():
            assert finding["level"] == REGISTRY[finding_id].level, finding_id


def test_importing_and_installing_the_guard_loads_no_tooling():
    code = (
        "import sys\n"
        "from flask import Flask\n"
        "from flask_https_guard import HTTPSGuard, require_https\n"
        "app = Flask('x')\n"
        "HTTPSGuard(app)\n"
        "app.test_client().get('/')\n"
        "tooling = ('flask_https_guard.cli', 'flask_https_guard.audit', 'flask_https_guard.probe',"
        " 'flask_https_guard.findings')\n"
        "print(sorted(m for m in sys.modules if m.startswith(tooling)))\n"
        "result = app.test_cli_runner().invoke(args=['https-guard', 'check', '--json'])\n"
        "print(result.exit_code, 'flask_https_guard.cli' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "0 True"]
