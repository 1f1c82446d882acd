"""``flask https-guard probe``: a deployed site checked from the outside.

One nginx on loopback plays many sites, one per host name: ``app.test`` is the
deploy recipe (TLS in nginx, a guarded Flask app behind it); the others are
the mistakes the probe exists to catch. A throwaway CA from trustme signs
the certificates; the probe trusts it through --cafile and reaches every
name through --resolve, as curl would.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask, Response

from flask_https_guard import HTTPSGuard
from flask_https_guard.probe import parse_hsts, probe_command

from .servers import LOOPBACK, free_port, require_module, start_nginx, wsgi_server

CLEAN_HSTS = "max-age=63072000; includeSubDomains; preload"
MIXED_PAGE = """<!doctype html>
<html><head>
<link rel="stylesheet" href="http://cdn.test/site.css">
<link rel="canonical" href="http://app.test/mixed">
<script src="http://cdn.test/app.js"></script>
<script src="//cdn.test/protocol-relative.js"></script>
</head><body>
<img src="http://cdn.test/logo.png">
<img src="/local.png" srcset="/local.png 1x, http://cdn.test/logo@2x.png 2x">
<a href="http://elsewhere.test/">a plain link is not mixed content</a>
<form action="http://app.test/login" method="post"></form>
</body></html>
"""
# Names the certificate for the well-configured sites covers.
GOOD_NAMES = (
    "app.test",
    "plain.test",
    "forged.test",
    "http-hsts.test",
    "cross.test",
    "short.test",
    "preload-short.test",
    "loop.test",
    "api.app.test",
)
# wrong.app.test gets app.test's certificate; nothing listens for down.app.test.
ALL_NAMES = (
    *GOOD_NAMES,
    "expired.test",
    "soon.test",
    "wrong.test",
    "wrong.app.test",
    "down.app.test",
)


def guarded_app(https_port: int, **options: Any) -> Flask:
    """A guarded app with a clean page and pages that load http:// resources."""
    app = Flask("probed")

    @app.get("/")
    def index() -> str:
        return "<!doctype html><p>Hello over HTTPS.</p>"

    @app.get("/mixed")
    def mixed() -> str:
        return MIXED_PAGE

    @app.get("/upgraded")
    def upgraded() -> Response:
        response = Response(MIXED_PAGE, mimetype="text/html")
        response.headers["Content-Security-Policy"] = "upgrade-insecure-requests"
        return response

    @app.get("/based")
    def based() -> str:
        # Relative URLs resolve against <base>, here a plain-HTTP host.
        return '<base href="http://static.test/assets/"><img src="logo.png"><a href="x">x</a>'

    @app.get("/charset/<name>")
    def charset(name: str) -> Response:
        # A charset the page's bytes cannot be decoded with: the scan reads them as UTF-8.
        page = '<!doctype html><p>Caf\u00e9</p><img src="http://cdn.test/logo.png">'
        return Response(page.encode(), content_type=f"text/html; charset={name}")

    HTTPSGuard(app, redirect_port=https_port, **options)
    return app


def redirect_to_https(name: str, https_port: int) -> str:
    return f"return 301 https://{name}:{https_port}$request_uri;"


def site_config(
    http_port: int,
    https_port: int,
    guarded_port: int,
    naive_port: int,
    certificates: dict[str, tuple[Path, Path]],
) -> str:
    """nginx server blocks: the recipe on app.test and one mistake per other name."""
    proxy = (
        "proxy_set_header Host $http_host; proxy_set_header X-Forwarded-Proto $scheme;"
        " proxy_pass http://{upstream};"
    )
    guarded = proxy.format(upstream=f"{LOOPBACK}:{guarded_port}")
    naive = proxy.format(upstream=f"{LOOPBACK}:{naive_port}")
    plain_sites = {
        # app.test is the default server, so unknown names (wrong.test) land there too.
        "app.test": guarded,
        "plain.test": 'default_type text/plain; return 200 "served over plain http\\n";',
        # Copied from the TLS block: the app believes plain HTTP is https.
        "forged.test": guarded.replace("$scheme", "https"),
        "http-hsts.test": 'add_header Strict-Transport-Security "max-age=31536000" always; '
        + redirect_to_https("http-hsts.test", https_port),
        "cross.test": redirect_to_https("app.test", https_port),
        "short.test": redirect_to_https("short.test", https_port),
        "preload-short.test": redirect_to_https("preload-short.test", https_port),
        # The app trusts no proxy: it sees plain HTTP on every request.
        "loop.test": naive,
        "expired.test": redirect_to_https("expired.test", https_port),
        "soon.test": redirect_to_https("soon.test", https_port),
    }
    ok = 'default_type text/html; return 200 "<p>ok</p>";'
    secure_sites = {
        "app.test": guarded,
        "http-hsts.test": ok,
        "short.test": f'add_header Strict-Transport-Security "max-age=300" always; {ok}',
        "preload-short.test": 'add_header Strict-Transport-Security "max-age=86400;'
        f' includeSubDomains; preload" always; {ok}',
        "loop.test": naive,
        "expired.test": ok,
        "soon.test": f'add_header Strict-Transport-Security "max-age=31536000" always; {ok}',
        "api.app.test": f'add_header Strict-Transport-Security "max-age=300" always; {ok}',
    }
    blocks = []
    for name, body in plain_sites.items():
        default = " default_server" if name == "app.test" else ""
        blocks.append(
            f"server {{ listen {LOOPBACK}:{http_port}{default}; server_name {name};"
            f" location / {{ {body} }} }}"
        )
    for name, body in secure_sites.items():
        default = " default_server" if name == "app.test" else ""
        cert, key = certificates.get(name, certificates["app.test"])
        blocks.append(
            f"server {{ listen {LOOPBACK}:{https_port} ssl{default}; server_name {name};"
            f" ssl_certificate {cert}; ssl_certificate_key {key};"
            f" location / {{ {body} }} }}"
        )
    return "\n".join(blocks)


@dataclass(frozen=True)
class Sites:
    http_port: int
    https_port: int
    ca_file: Path

    def http(self, name: str, path: str = "/") -> str:
        return f"http://{name}:{self.http_port}{path}"

    def https(self, name: str, path: str = "/") -> str:
        return f"https://{name}:{self.https_port}{path}"

    def args(self, url: str, *extra: str, cafile: bool = True) -> list[str]:
        """Probe arguments: every test name resolves to loopback, the test CA is trusted."""
        resolve = [f"--resolve={name}:*:{LOOPBACK}" for name in ALL_NAMES]
        trust = [f"--cafile={self.ca_file}"] if cafile else []
        return [url, *resolve, *trust, *extra]


@pytest.fixture(scope="module")
def sites() -> Iterator[Sites]:
    require_module("trustme")
    import trustme

    now = datetime.datetime.now(datetime.timezone.utc)
    ca = trustme.CA()
    issued = {
        "app.test": ca.issue_cert(*GOOD_NAMES),
        "expired.test": ca.issue_cert(
            "expired.test",
            not_before=now - datetime.timedelta(days=30),
            not_after=now - datetime.timedelta(days=1),
        ),
        "soon.test": ca.issue_cert(
            "soon.test", not_after=now + datetime.timedelta(days=5, hours=12)
        ),
    }
    with tempfile.TemporaryDirectory(prefix="https-guard-probe-") as name:
        directory = Path(name)
        ca_file = directory / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        certificates = {}
        for site, leaf in issued.items():
            cert, key = directory / f"{site}.pem", directory / f"{site}.key"
            for pem in leaf.cert_chain_pems:
                pem.write_to_path(str(cert), append=True)
            leaf.private_key_pem.write_to_path(str(key))
            certificates[site] = (cert, key)
        http_port, https_port = free_port(), free_port()
        clean = guarded_app(
            https_port,
            trusted_proxies=1,
            hsts_max_age=63072000,
            hsts_include_subdomains=True,
            hsts_preload=True,
        )
        naive = guarded_app(https_port)
        with wsgi_server(clean) as guarded_port, wsgi_server(naive) as naive_port:
            config = site_config(http_port, https_port, guarded_port, naive_port, certificates)
            nginx = start_nginx(directory, config, [http_port, https_port])
            try:
                yield Sites(http_port, https_port, ca_file)
            finally:
                nginx.stop()


def run(args: list[str]) -> Result:
    result = CliRunner().invoke(probe_command, args)
    # Every outcome is a message and an exit status, never a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def run_json(args: list[str]) -> tuple[int, dict[str, Any]]:
    result = run([*args, "--json"])
    return result.exit_code, json.loads(result.output)


def finding_ids(report: dict[str, Any]) -> list[str]:
    return [finding["id"] for finding in report["findings"]]


def levels(report: dict[str, Any]) -> dict[str, str]:
    return {finding["id"]: finding["level"] for finding in report["findings"]}


# --- The recipe passes ------------------------------------------------------


def test_clean_site_passes_and_shows_each_hop(sites: Sites) -> None:
    result = run(sites.args(sites.http("app.test")))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"1. {sites.http('app.test')}  [{LOOPBACK}]" in lines
    assert f"   status 302, Location: {sites.https('app.test')}" in lines
    assert "   Strict-Transport-Security: (none)" in lines
    assert f"2. {sites.https('app.test')}  [{LOOPBACK}]" in lines
    assert "   status 200" in lines
    assert f"   Strict-Transport-Security: {CLEAN_HSTS}" in lines
    assert any(line.startswith("   certificate: valid for app.test, issued by ") for line in lines)
    assert f"Mixed content on {sites.https('app.test')}: none" in lines
    assert "HSTS preload list requirements for app.test: ready" in lines
    assert lines[-1] == "0 errors, 0 warnings, 0 info: passed (--fail-level warning)"


def test_clean_site_as_json(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.http("app.test")))

    assert status == 0
    assert report["passed"] is True
    assert report["findings"] == []
    first, second = report["hops"]
    assert (first["url"], first["status"], first["location"]) == (
        sites.http("app.test"),
        302,
        sites.https("app.test"),
    )
    assert first["strict_transport_security"] is None
    assert first["certificate"] is None
    assert (second["status"], second["strict_transport_security"]) == (200, CLEAN_HSTS)
    assert "app.test" in second["certificate"]["names"]
    assert second["certificate"]["days_left"] > 365
    assert report["preload"]["ready"] is True
    assert report["preload"]["requested"] is True
    assert [r["met"] for r in report["preload"]["requirements"]] == [True] * 6
    assert report["mixed_content"] == {
        "page": sites.https("app.test"),
        "upgrade_insecure_requests": False,
        "items": [],
    }


def test_probe_runs_without_an_app(sites: Sites) -> None:
    """Both entry points work from a directory with no app and no FLASK_APP."""
    env = {key: value for key, value in os.environ.items() if key != "FLASK_APP"}
    flask = Path(sys.executable).with_name("flask")
    with tempfile.TemporaryDirectory() as empty:
        for command in (
            [sys.executable, "-m", "flask_https_guard.probe"],
            [str(flask), "https-guard", "probe"],
        ):
            completed = subprocess.run(
                [*command, *sites.args(sites.http("app.test")), "--json"],
                cwd=empty,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert completed.returncode == 0, completed.stderr
            assert json.loads(completed.stdout)["passed"] is True


# --- Redirect to https --------------------------------------------------------


def test_plain_http_without_redirect_fails(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.http("plain.test")))

    assert status == 1
    assert levels(report)["HP001"] == "error"
    assert [hop["status"] for hop in report["hops"]] == [200]
    redirect = report["preload"]["requirements"][0]
    assert redirect["met"] is False


def test_plain_http_without_redirect_in_human_output(sites: Sites) -> None:
    result = run(sites.args(sites.http("plain.test")))

    assert result.exit_code == 1
    assert "HP001 error" in result.output
    assert "FAILED (--fail-level warning)" in result.output.splitlines()[-1]


def test_app_that_believes_plain_http_is_secure(sites: Sites) -> None:
    """A proxy that says https for plain HTTP: no redirect, and HSTS where browsers ignore it."""
    status, report = run_json(sites.args(sites.http("forged.test")))

    assert status == 1
    assert report["hops"][0]["status"] == 200
    assert report["hops"][0]["strict_transport_security"] == CLEAN_HSTS
    assert {"HP001", "HP011"} <= set(finding_ids(report))


def test_hsts_on_plain_http_only(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.http("http-hsts.test")))

    assert status == 1
    first, second = report["hops"]
    assert first["strict_transport_security"] == "max-age=31536000"
    assert second["strict_transport_security"] is None
    assert levels(report)["HP011"] == "warning"
    assert levels(report)["HP010"] == "error"


def test_cross_host_first_hop_is_a_warning(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.http("cross.test")))

    assert status == 1
    assert levels(report)["HP003"] == "warning"
    assert report["hops"][0]["location"] == sites.https("app.test")
    assert report["preload"]["host"] == "cross.test"
    assert report["preload"]["ready"] is False
    # Warnings fail only down to --fail-level.
    assert run(sites.args(sites.http("cross.test"), "--fail-level=error")).exit_code == 0


# --- HSTS and the preload list ----------------------------------------------------


def test_short_max_age_is_information(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.http("short.test")))

    assert status == 0
    assert levels(report) == {"HP014": "info", "HP020": "info"}
    unmet = [r["name"] for r in report["preload"]["requirements"] if not r["met"]]
    assert unmet == ["max-age of at least 31536000", "includeSubDomains", "preload"]
    assert run(sites.args(sites.http("short.test"), "--fail-level=info")).exit_code == 1


def test_preload_requested_without_the_requirements_fails(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.http("preload-short.test")))

    assert status == 1
    assert levels(report)["HP020"] == "error"
    assert report["preload"]["requested"] is True
    max_age = report["preload"]["requirements"][3]
    assert (max_age["met"], max_age["detail"]) == (False, "max-age=86400")


def test_hsts_header_parsing() -> None:
    assert parse_hsts('max-age="600"; preload').max_age == 600
    assert parse_hsts("max-age=600; max-age=700").problem == "the directive max-age appears twice"
    assert parse_hsts("max-age=soon").problem == "max-age='soon' is not a whole number of seconds"
    header = parse_hsts("MAX-AGE=0;INCLUDESUBDOMAINS")
    assert (header.max_age, header.include_subdomains, header.preload) == (0, True, False)


# --- Redirect chains ------------------------------------------------------------


def test_redirect_loop_behind_a_proxy_the_app_does_not_trust(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.http("loop.test")))

    assert status == 1
    assert [hop["url"] for hop in report["hops"]] == [
        sites.http("loop.test"),
        sites.https("loop.test"),
    ]
    assert report["hops"][1]["location"] == sites.https("loop.test")
    assert levels(report)["HP060"] == "error"


def test_redirect_loop_in_human_output(sites: Sites) -> None:
    result = run(sites.args(sites.http("loop.test")))

    assert result.exit_code == 1
    assert f"   not followed: {sites.https('loop.test')}" in result.output.splitlines()
    assert "HP060 error   redirect loop" in result.output


def test_too_many_redirects(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.http("app.test"), "--max-redirects=0"))

    assert status == 1
    assert len(report["hops"]) == 1
    assert levels(report)["HP061"] == "error"


# --- Mixed content --------------------------------------------------------------


def test_mixed_content_is_found_by_kind(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.http("app.test", "/mixed")))

    assert status == 1
    items = {
        (i["kind"], i["tag"], i["attribute"], i["url"]) for i in report["mixed_content"]["items"]
    }
    assert items == {
        ("active", "link", "href", "http://cdn.test/site.css"),
        ("active", "script", "src", "http://cdn.test/app.js"),
        ("passive", "img", "src", "http://cdn.test/logo.png"),
        ("passive", "img", "srcset", "http://cdn.test/logo@2x.png"),
        ("form", "form", "action", "http://app.test/login"),
    }
    assert levels(report) == {"HP050": "error", "HP051": "warning", "HP052": "error"}


def test_mixed_content_in_human_output(sites: Sites) -> None:
    result = run(sites.args(sites.http("app.test", "/mixed")))

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"Mixed content on {sites.https('app.test', '/mixed')}: 5 http:// URL(s)" in lines
    assert "  active  <script src> http://cdn.test/app.js" in lines
    assert "elsewhere.test" not in result.output


def test_mixed_content_upgraded_by_csp_is_information(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.http("app.test", "/upgraded")))

    assert status == 0
    assert report["mixed_content"]["upgrade_insecure_requests"] is True
    assert levels(report) == {"HP053": "info"}


def test_relative_urls_resolve_against_a_plain_http_base(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.http("app.test", "/based")))

    assert status == 1
    assert [item["url"] for item in report["mixed_content"]["items"]] == [
        "http://static.test/assets/logo.png"
    ]
    assert levels(report) == {"HP051": "warning"}


@pytest.mark.parametrize("charset", ["idna", "base64", "no-such-charset"])
def test_page_in_an_unknown_or_non_text_charset_is_read_as_utf8(sites: Sites, charset: str) -> None:
    """idna and base64 are codecs but not text encodings: decoding with them raised once."""
    url = sites.http("app.test", f"/charset/{charset}")
    status, report = run_json(sites.args(url))

    assert status == 1
    assert report["mixed_content"]["page"] == sites.https("app.test", f"/charset/{charset}")
    assert [item["url"] for item in report["mixed_content"]["items"]] == [
        "http://cdn.test/logo.png"
    ]
    assert levels(report) == {"HP051": "warning"}
    lines = run(sites.args(url)).output.splitlines()
    assert "  passive <img src> http://cdn.test/logo.png" in lines
    assert lines[-1] == "0 errors, 1 warning, 0 info: FAILED (--fail-level warning)"


# --- Certificates -----------------------------------------------------------------


def test_expired_certificate(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.http("expired.test")))

    assert status == 1
    assert levels(report)["HP031"] == "error"
    assert "expired" in report["hops"][1]["error"]
    assert report["hops"][1]["status"] is None


def test_certificate_for_another_host(sites: Sites) -> None:
    result = run(sites.args(sites.http("wrong.test")))

    assert result.exit_code == 1
    assert "HP030 error   the certificate of wrong.test is not valid for that name" in result.output
    assert f"2. {sites.https('wrong.test')}  [{LOOPBACK}]" in result.output


def test_private_ca_without_cafile_is_untrusted(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.https("app.test"), cafile=False))

    assert status == 1
    assert levels(report)["HP032"] == "error"


def test_https_to_a_plain_http_port_is_a_tls_failure(sites: Sites) -> None:
    status, report = run_json(sites.args(f"https://app.test:{sites.http_port}/"))

    assert status == 1
    assert levels(report)["HP033"] == "error"
    assert report["hops"][0]["error"].startswith("TLS handshake failed")


def test_certificate_expiring_soon(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.http("soon.test")))

    assert status == 1
    assert report["hops"][1]["certificate"]["days_left"] == 5
    assert levels(report)["HP034"] == "warning"


def test_probe_started_on_https_cannot_check_the_redirect(sites: Sites) -> None:
    status, report = run_json(sites.args(sites.https("app.test")))

    assert status == 0
    redirect = report["preload"]["requirements"][0]
    assert redirect["met"] is None
    assert report["preload"]["ready"] is False
    assert levels(report) == {"HP005": "info"}


# --- Subdomains ------------------------------------------------------------------


def subdomain_args(sites: Sites, *names: str) -> list[str]:
    """Probe app.test and the named subdomains, on the test's https port unless a port is given."""
    named = [name if ":" in name else f"{name}:{sites.https_port}" for name in names]
    return sites.args(sites.http("app.test"), *(f"--subdomain={name}" for name in named))


def test_subdomain_that_serves_https_keeps_the_preload_verdict(sites: Sites) -> None:
    status, report = run_json(subdomain_args(sites, "api.app.test"))

    assert status == 0, report["findings"]
    assert report["findings"] == []
    (api,) = report["subdomains"]
    assert (api["url"], api["status"]) == (sites.https("api.app.test"), 200)
    assert api["strict_transport_security"] == "max-age=300"  # its own, information only
    assert "api.app.test" in api["certificate"]["names"]
    assert report["preload"]["ready"] is True
    assert report["preload"]["requirements"][-1] == {
        "name": "the named subdomains answer https",
        "met": True,
        "detail": f"api.app.test:{sites.https_port}",
    }
    include = report["preload"]["include_subdomains"]
    assert include["safe"] is True
    assert include["subdomains"] == [f"api.app.test:{sites.https_port}"]
    assert include["verdict"] == "safe for the 1 subdomain(s) named"
    assert include["covers"].startswith("covers only the subdomains named with --subdomain")


def test_subdomain_with_a_wrong_certificate_or_down_fails(sites: Sites) -> None:
    closed = free_port()
    status, report = run_json(
        subdomain_args(sites, "api.app.test", "wrong.app.test", f"down.app.test:{closed}")
    )

    assert status == 1
    # app.test asks for preload, which the failing subdomains now stand in the way of.
    assert levels(report) == {"HP020": "error", "HP070": "error", "HP071": "error"}
    messages = {finding["id"]: finding["message"] for finding in report["findings"]}
    wrong, down = f"wrong.app.test:{sites.https_port}", f"down.app.test:{closed}"
    assert messages["HP070"].startswith(
        f"subdomain {wrong}: the certificate of wrong.app.test is not valid for that name"
    )
    assert messages["HP071"].startswith(f"subdomain {down}: could not reach {down}")
    assert "Connection refused" in messages["HP071"]
    assert messages["HP020"].endswith("requirements: the named subdomains answer https")
    assert [hop["status"] for hop in report["subdomains"]] == [200, None, None]
    assert report["preload"]["ready"] is False
    include = report["preload"]["include_subdomains"]
    assert (include["safe"], include["failing"]) == (False, [wrong, down])
    assert include["verdict"] == "not safe: 2 of 3 named subdomain(s) fail"
    assert report["preload"]["requirements"][-1]["detail"] == f"failing: {wrong}, {down}"


def test_subdomain_verdict_in_human_output(sites: Sites) -> None:
    result = run([*subdomain_args(sites, "api.app.test", "wrong.app.test"), "--fail-level=error"])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"* {sites.https('api.app.test')}  [{LOOPBACK}]" in lines
    assert "   Strict-Transport-Security: max-age=300 (information only)" in lines
    assert f"* {sites.https('wrong.app.test')}  [{LOOPBACK}]" in lines
    assert "HSTS preload list requirements for app.test: not ready" in lines
    wrong = f"wrong.app.test:{sites.https_port}"
    assert f"  [--] the named subdomains answer https: failing: {wrong}" in lines
    assert "includeSubDomains for app.test: not safe: 1 of 2 named subdomain(s) fail" in lines
    text = " ".join(result.output.split())
    assert "This covers only the subdomains named with --subdomain;" in text
    assert f"HP070 error subdomain {wrong}: the certificate of wrong.app.test" in text


def test_without_subdomains_the_verdict_says_none_was_checked(sites: Sites) -> None:
    result = run(sites.args(sites.http("app.test")))

    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "includeSubDomains for app.test: not checked (--subdomain NAME checks one)" in lines
    assert "covers only" not in result.output


# --- --resolve ---------------------------------------------------------------------

# Nothing listens there: only LOOPBACK has the sites (all of 127/8 is loopback on Linux).
NOWHERE = "127.0.0.2"


def resolve_args(sites: Sites, *entries: str) -> list[str]:
    """Probe app.test over plain HTTP with only these --resolve entries."""
    resolve = [f"--resolve={entry}" for entry in entries]
    return [sites.http("app.test"), f"--cafile={sites.ca_file}", *resolve]


def addresses(report: dict[str, Any]) -> list[str]:
    """Each hop's address: the one it reached, else the --resolve one it could not reach."""
    refused = f"(connecting to {NOWHERE}, from --resolve)"
    return [
        hop["address"] or (NOWHERE if refused in hop["error"] else "?") for hop in report["hops"]
    ]


@pytest.mark.parametrize("exact_first", [True, False])
def test_resolve_port_entry_wins_over_the_wildcard_in_any_order(
    sites: Sites, exact_first: bool
) -> None:
    """As curl: HOST:PORT first, HOST:* only for the ports no entry names."""
    exact = f"app.test:{sites.http_port}:{LOOPBACK}"
    wildcard = f"app.test:*:{NOWHERE}"
    entries = (exact, wildcard) if exact_first else (wildcard, exact)
    status, report = run_json(resolve_args(sites, *entries))

    assert status == 1
    # The http port is named, so LOOPBACK; the https port is not, so the wildcard's address.
    assert addresses(report) == [LOOPBACK, NOWHERE]
    assert [hop["status"] for hop in report["hops"]] == [302, None]
    assert levels(report)["HP040"] == "error"


@pytest.mark.parametrize(("first", "last"), [(NOWHERE, LOOPBACK), (LOOPBACK, NOWHERE)])
def test_resolve_repeated_for_a_port_takes_the_last_entry(
    sites: Sites, first: str, last: str
) -> None:
    status, report = run_json(
        resolve_args(
            sites,
            f"app.test:{sites.http_port}:{first}",
            f"app.test:{sites.http_port}:{last}",
            f"app.test:{sites.https_port}:{LOOPBACK}",
        )
    )

    assert addresses(report)[0] == last
    if last == LOOPBACK:
        assert status == 0, report["findings"]
        assert [hop["status"] for hop in report["hops"]] == [302, 200]
    else:
        assert status == 1
        assert levels(report)["HP040"] == "error"


# --- Unreachable and bad input ------------------------------------------------


def test_unreachable_host(sites: Sites) -> None:
    closed = free_port()
    result = run(sites.args(f"http://app.test:{closed}/"))

    assert result.exit_code == 1
    assert "HP040 error   could not reach app.test:" in result.output
    assert "Connection refused" in result.output


def test_server_that_never_answers_times_out(sites: Sites) -> None:
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        status, report = run_json(sites.args(f"http://app.test:{port}/", "--timeout=0.5"))

    assert status == 1
    assert levels(report)["HP041"] == "error"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://app.test/"], "is not an http:// or https:// URL"),
        (["http://"], "has no valid host name"),
        (["http://exa mple.test/"], "has no valid host name"),
        (["http://app.test:99999/"], "is not a valid URL"),
        (["app.test", "--resolve=app.test:80"], "is not HOST:PORT:ADDRESS"),
        (["app.test", "--resolve=app.test:80:localhost"], "ADDRESS must be an IP address"),
        (["app.test", "--timeout=0"], "--timeout"),
        (["app.test", "--subdomain=other.test"], "other.test is not a subdomain of app.test"),
        (["app.test", "--subdomain=app.test"], "app.test is not a subdomain of app.test"),
        (["app.test", "--subdomain=https://api.app.test/"], "is not a host name"),
    ],
)
def test_bad_input_is_a_usage_error(args: list[str], message: str) -> None:
    result = run(args)

    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cafile_without_certificates_is_a_usage_error(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    result = run(["https://app.test/", f"--cafile={not_pem}"])

    assert result.exit_code == 2
    assert "cannot read CA certificates from" in result.output
