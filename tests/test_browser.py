"""What a real browser does with a guarded app: Debian's Chromium, driven by Playwright.

The browser sees ``app.test`` on the default ports, with a certificate it
trusts; behind that are two loopback servers (plain HTTP and HTTPS) that
record every request reaching them (see browser_support.py). Skipped when
Chromium, certutil or Playwright is missing, except under CI=true.

``BROWSER_SCREENSHOT=docs/_static/browser.png`` also saves the final page of
the HSTS test there (the screenshot in the docs).
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import pytest
from flask import Flask, request, session
from markupsafe import Markup, escape

from flask_https_guard import HTTPSGuard, exempt_https

from .browser_support import HOST, Hit, LoopbackSite, launch_browser, make_browser_home, remove_tree
from .servers import require_module, require_program

if TYPE_CHECKING:
    import trustme
    from playwright.sync_api import Page, Playwright

pytestmark = pytest.mark.browser

HSTS = "max-age=31536000"
FORM_BODY = b"message=hello+world+%26+more"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<link rel="icon" href="data:,">
<style>
  body {{ font: 18px/1.5 sans-serif; margin: 40px; color: #1d2330; }}
  h1 {{ font-size: 26px; }}
  code {{ background: #eef1f6; padding: 2px 6px; border-radius: 4px; }}
</style></head>
<body><h1>{title}</h1>
<p>URL: <code id="url">{url}</code></p>
{content}
</body></html>"""

# The status page asks for its own headers: a same-origin response exposes
# Strict-Transport-Security to scripts, so the page shows what the browser got.
SHOW_HSTS = """<p>Strict-Transport-Security: <code id="hsts"></code></p>
<script>
fetch(location.href, {method: "HEAD"}).then(function (response) {
  document.getElementById("hsts").textContent =
    response.headers.get("Strict-Transport-Security") || "(none)";
});
</script>"""


def render_page(title: str, content: str = "") -> str:
    return PAGE.format(title=escape(title), url=escape(request.url), content=Markup(content))


def build_app(enabled: bool = True) -> Flask:
    """A guarded app (or, with ``enabled=False``, one whose guard is off)."""
    app = Flask(__name__)
    app.secret_key = "browser-tests"
    HTTPSGuard(app, enabled=enabled)

    @app.get("/")
    def index() -> str:
        return render_page("Home")

    @app.get("/other")
    def other() -> str:
        return render_page("Other")

    @app.get("/status")
    def status() -> str:
        return render_page("flask_https_guard in Chromium", SHOW_HSTS)

    @app.get("/form")
    @exempt_https
    def form() -> str:
        return render_page(
            "A form on plain HTTP",
            f'<form method="post" action="http://{HOST}/submit">'
            '<input name="message" value="hello world &amp; more">'
            '<button id="send">Send</button></form>',
        )

    @app.post("/submit")
    def submit() -> str:
        return render_page(
            "Received",
            f'<p id="method">{escape(request.method)}</p>'
            f'<p id="message">{escape(request.form["message"])}</p>',
        )

    @app.get("/cookies")
    def cookies() -> object:
        session["user"] = "alice"
        response = app.make_response(render_page("Cookies"))
        response.set_cookie("theme", "dark")  # no secure=True: the guard adds it
        return response

    @app.get("/count")
    def count() -> str:
        session["count"] = session.get("count", 0) + 1
        return render_page("Counter", f'<p id="count">{session["count"]}</p>')

    return app


@pytest.fixture(scope="session")
def chromium() -> str:
    """The browser's path; skip (fail under CI) when a part is missing."""
    require_module("playwright")
    require_module("trustme")
    return require_program("chromium")


@pytest.fixture(scope="session")
def certificate_authority(chromium: str) -> trustme.CA:
    import trustme

    return trustme.CA()


@pytest.fixture(scope="session")
def browser_home(certificate_authority: trustme.CA) -> Iterator[Path]:
    """A HOME whose NSS database trusts the test CA."""
    certutil = require_program("certutil")
    home = Path(tempfile.mkdtemp(prefix="browser-home-"))
    try:
        make_browser_home(certificate_authority, home, certutil)
        yield home
    finally:
        remove_tree(home)


@pytest.fixture(scope="session")
def playwright_driver(chromium: str) -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture
def serve(certificate_authority: trustme.CA) -> Iterator[Callable[[Flask], LoopbackSite]]:
    """Serve an app as http://app.test and https://app.test; stopped after the test."""
    certificate = certificate_authority.issue_cert(HOST)
    sites: list[LoopbackSite] = []

    def start(app: Flask) -> LoopbackSite:
        site = LoopbackSite(app, certificate)
        sites.append(site)
        return site

    yield start
    for site in sites:
        site.stop()


@pytest.fixture
def open_browser(
    playwright_driver: Playwright,
    chromium: str,
    browser_home: Path,
    serve: Callable[[Flask], LoopbackSite],
) -> Iterator[Callable[[LoopbackSite], Page]]:
    """A page in a fresh browser profile (no HSTS stored yet) pointed at a site.

    Depends on ``serve`` so the browser closes before the servers stop.
    """
    profiles: list[Path] = []
    pages: list[Page] = []

    def open_page(site: LoopbackSite) -> Page:
        profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
        profiles.append(profile)
        context = launch_browser(playwright_driver, chromium, browser_home, profile, site)
        page = context.pages[0] if context.pages else context.new_page()
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        page.context.close()
    for profile in profiles:
        remove_tree(profile)


@pytest.fixture
def guarded_site(serve: Callable[[Flask], LoopbackSite]) -> LoopbackSite:
    return serve(build_app())


def test_http_visit_is_redirected_to_https_with_hsts(
    guarded_site: LoopbackSite, open_browser: Callable[[LoopbackSite], Page]
) -> None:
    page = open_browser(guarded_site)

    response = page.goto(f"http://{HOST}/")

    assert page.url == f"https://{HOST}/"
    assert response is not None and response.headers["strict-transport-security"] == HSTS
    # The redirect came from the app over the network, not from the browser.
    assert guarded_site.http.hits == [Hit("GET", "/", b"", 302)]
    assert guarded_site.https.hits == [Hit("GET", "/", b"", 200)]


def test_after_hsts_the_browser_upgrades_by_itself(
    guarded_site: LoopbackSite,
    open_browser: Callable[[LoopbackSite], Page],
    tmp_path: Path,
) -> None:
    page = open_browser(guarded_site)
    page.goto(f"http://{HOST}/")  # stores HSTS for app.test
    guarded_site.clear()

    response = page.goto(f"http://{HOST}/other?x=1&y=%2F")

    assert page.url == f"https://{HOST}/other?x=1&y=%2F"
    assert guarded_site.http.hits == []
    assert guarded_site.https.hits == [Hit("GET", "/other?x=1&y=%2F", b"", 200)]
    assert response is not None and response.request.redirected_from is not None
    upgrade = response.request.redirected_from.response()
    assert upgrade is not None and upgrade.status == 307
    assert upgrade.headers["non-authoritative-reason"] == "HSTS"

    # The page in the docs: reached from an http:// URL, shown over https.
    page.goto(f"http://{HOST}/status")
    page.wait_for_function("document.getElementById('hsts').textContent !== ''")
    assert page.locator("#url").text_content() == f"https://{HOST}/status"
    assert page.locator("#hsts").text_content() == HSTS
    assert guarded_site.http.hits == []
    screenshot = page.screenshot()
    assert screenshot[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", screenshot[16:24]) == (800, 500)
    destination = os.environ.get("BROWSER_SCREENSHOT")
    (Path(destination) if destination else tmp_path / "browser.png").write_bytes(screenshot)


def test_form_post_over_http_arrives_on_https_as_post_with_its_body(
    guarded_site: LoopbackSite, open_browser: Callable[[LoopbackSite], Page]
) -> None:
    page = open_browser(guarded_site)
    page.goto(f"http://{HOST}/form")  # exempt: served over plain HTTP
    assert page.url == f"http://{HOST}/form"

    with page.expect_navigation(url=f"https://{HOST}/submit"):
        page.click("#send")

    assert page.locator("#method").text_content() == "POST"
    assert page.locator("#message").text_content() == "hello world & more"
    assert guarded_site.http.hits == [
        Hit("GET", "/form", b"", 200),
        Hit("POST", "/submit", FORM_BODY, 307),
    ]
    assert guarded_site.https.hits == [Hit("POST", "/submit", FORM_BODY, 200)]


def test_every_cookie_the_app_sets_is_secure_in_the_browser(
    guarded_site: LoopbackSite, open_browser: Callable[[LoopbackSite], Page]
) -> None:
    page = open_browser(guarded_site)
    page.goto(f"http://{HOST}/cookies")
    assert page.url == f"https://{HOST}/cookies"

    devtools = page.context.new_cdp_session(page)
    cookies = devtools.send("Network.getAllCookies")["cookies"]

    assert {cookie["name"]: cookie["secure"] for cookie in cookies} == {
        "session": True,
        "theme": True,
    }


def test_session_works_over_plain_http_when_the_guard_is_disabled(
    serve: Callable[[Flask], LoopbackSite], open_browser: Callable[[LoopbackSite], Page]
) -> None:
    site = serve(build_app(enabled=False))
    page = open_browser(site)

    page.goto(f"http://{HOST}/count")
    assert page.locator("#count").text_content() == "1"
    page.reload()

    assert page.url == f"http://{HOST}/count"
    assert page.locator("#count").text_content() == "2"
    assert [hit.status for hit in site.http.hits] == [200, 200]
    assert site.https.hits == []
