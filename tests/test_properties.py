"""Property-based tests: no input makes the guard crash, leak or misdirect.

Requests are built as a WSGI server would hand them over: the raw target as
the client sent it (RAW_URI), PATH_INFO as its percent-decoded bytes, the
query string as sent. The number of examples is bounded for the normal run;
HYPOTHESIS_PROFILE=deep runs many more (see the README).
"""

from __future__ import annotations

import string
from urllib.parse import unquote_to_bytes, urlsplit

from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from flask_https_guard import HTTPSGuard, exempt_https

HSTS = "Strict-Transport-Security"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "FOO"]
REDIRECTS = {301, 302, 307, 308}
CONTROL = {chr(code) for code in range(0x20)} | {"\x7f"}


def guarded_app(**options) -> Flask:
    app = Flask(__name__)
    # Any exception reaches the test instead of becoming a quiet 500.
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.route("/", defaults={"path": ""}, methods=METHODS)
    @app.route("/<path:path>", methods=METHODS)
    def anything(path):
        return "ok"

    @app.get("/own-hsts")
    def own_hsts():
        return "own", {HSTS: "max-age=5"}

    @app.get("/health")
    @exempt_https
    def health():
        return "ok"

    HTTPSGuard(app, **options)
    return app


# --- strategies ----------------------------------------------------------------

_SAFE = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@"
percent_encoded = st.integers(0, 255).map(lambda byte: f"%{byte:02X}")
raw_unicode = st.text(min_size=1, max_size=3).map(lambda text: text.encode().decode("latin-1"))
segment = st.lists(
    st.one_of(
        st.sampled_from(list(_SAFE)),
        percent_encoded,
        raw_unicode,
        st.sampled_from(["..", ".", "%", "%G", "%2F", "%2f", "%25", "+", " ", "\\", '"']),
    ),
    max_size=6,
).map("".join)
raw_path = st.lists(segment, min_size=1, max_size=6).map(lambda parts: "/" + "/".join(parts))
raw_query = st.lists(
    st.one_of(
        st.sampled_from(list(_SAFE + "/?=&+#%")),
        percent_encoded,
        raw_unicode,
        st.characters(max_codepoint=255),
    ),
    max_size=20,
).map("".join)

label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
dns_name = st.lists(label, min_size=1, max_size=4).map(".".join)
idn_name = (
    st.text(alphabet="abcäöüéßçñ日本中文", min_size=1, max_size=8)
    .flatmap(lambda text: st.just(_idna_or_none(text)))
    .filter(lambda name: name is not None)
    .map(lambda name: f"{name}.example")
)
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(lambda address: f"[{address.compressed}]")
host_name = st.one_of(dns_name, idn_name, ipv4, ipv6, dns_name.map(str.upper))
port = st.one_of(st.none(), st.integers(1, 65535))


def _idna_or_none(text):
    try:
        return text.encode("idna").decode("ascii")
    except UnicodeError:
        return None


options = st.fixed_dictionaries(
    {},
    optional={
        "permanent": st.booleans(),
        "reject_insecure_writes": st.booleans(),
        "redirect_port": st.one_of(st.none(), st.integers(1, 65535)),
        "redirect_host": st.one_of(st.none(), dns_name),
        "hsts_max_age": st.integers(0, 10**9),
    },
)


def wsgi_environ(method, path, query, host, scheme="http", extra=None):
    environ = EnvironBuilder(method=method, base_url=f"{scheme}://localhost").get_environ()
    environ.update(
        PATH_INFO=unquote_to_bytes(path.encode("latin-1")).decode("latin-1"),
        RAW_URI=f"{path}?{query}" if query else path,
        REQUEST_URI=f"{path}?{query}" if query else path,
        QUERY_STRING=query,
        HTTP_HOST=host,
    )
    environ.update(extra or {})
    return environ


def respond(app, environ) -> Response:
    return Response.from_app(app, environ)


# --- properties ----------------------------------------------------------------


@given(
    method=st.sampled_from(METHODS),
    path=raw_path,
    query=raw_query,
    name=host_name,
    host_port=port,
    guard_options=options,
)
def test_redirect_goes_to_the_same_host_path_and_query_on_https(
    method, path, query, name, host_port, guard_options
):
    app = guarded_app(**guard_options)
    host = name if host_port is None else f"{name}:{host_port}"
    response = respond(app, wsgi_environ(method, path, query, host))
    if response.status_code == 403:
        assert guard_options.get("reject_insecure_writes")
        assert "Location" not in response.headers
        return
    if response.status_code == 200:
        assert _routed_path(path) == "/health" and method in ("GET", "HEAD")
        return
    assert response.status_code in REDIRECTS
    location = response.headers["Location"]
    assert not CONTROL.intersection(location)
    assert location.isascii()
    parts = urlsplit(location)
    assert parts.scheme == "https"
    assert parts.hostname == (guard_options.get("redirect_host") or name.strip("[]").lower())
    assert parts.port == _expected_port(guard_options, host_port)
    assert unquote_to_bytes(parts.path) == unquote_to_bytes(path.encode("latin-1"))
    assert unquote_to_bytes(parts.query) == unquote_to_bytes(query.encode("latin-1"))
    assert HSTS not in response.headers


def _routed_path(raw):
    return unquote_to_bytes(raw.encode("latin-1")).decode("latin-1")


def _expected_port(guard_options, host_port):
    if guard_options.get("redirect_host") is not None:
        chosen = guard_options.get("redirect_port")
    else:
        chosen = guard_options.get("redirect_port") or host_port
        if chosen == 80 and guard_options.get("redirect_port") is None:
            chosen = None
    return None if chosen in (None, 443) else chosen


@given(
    method=st.sampled_from(METHODS),
    path=raw_path,
    query=raw_query,
    host=st.text(alphabet=st.characters(max_codepoint=255), max_size=300),
    scheme=st.sampled_from(["http", "https"]),
    forwarded_proto=st.one_of(
        st.none(), st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60)
    ),
    forwarded=st.one_of(
        st.none(), st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60)
    ),
    trusted_proxies=st.integers(0, 3),
)
def test_no_input_raises_or_answers_500(
    method, path, query, host, scheme, forwarded_proto, forwarded, trusted_proxies
):
    extra = {}
    if forwarded_proto is not None:
        extra["HTTP_X_FORWARDED_PROTO"] = forwarded_proto
    if forwarded is not None:
        extra["HTTP_FORWARDED"] = forwarded
    app = guarded_app(trusted_proxies=trusted_proxies)
    response = respond(app, wsgi_environ(method, path, query, host, scheme, extra))
    assert response.status_code < 500
    location = response.headers.get("Location")
    if location is not None:
        assert not CONTROL.intersection(location) and location.startswith("https://")
    if response.status_code == 400:
        assert location is None


@given(
    method=st.sampled_from(METHODS),
    path=raw_path,
    query=raw_query,
    name=host_name,
    scheme=st.sampled_from(["http", "https"]),
)
def test_hsts_on_every_secure_response_and_never_on_an_insecure_one(
    method, path, query, name, scheme
):
    response = respond(guarded_app(), wsgi_environ(method, path, query, name, scheme))
    if scheme == "http":
        assert HSTS not in response.headers
    elif _routed_path(path) == "/own-hsts" and method in ("GET", "HEAD"):
        assert response.headers.getlist(HSTS) == ["max-age=5"]
    else:
        assert response.headers.get(HSTS) == "max-age=31536000"


client_entry = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=30)


@given(
    trusted_proxies=st.integers(1, 3),
    data=st.data(),
    client_entries=st.lists(client_entry, min_size=1, max_size=5),
    headers=st.sampled_from(["x-forwarded-proto", "forwarded", "both"]),
    path=raw_path,
)
def test_client_entries_left_of_the_trusted_ones_change_nothing(
    trusted_proxies, data, client_entries, headers, path
):
    # The proxies append their own entries to the right of whatever the client sent.
    proxy_schemes = data.draw(
        st.lists(
            st.sampled_from(["http", "https"]), min_size=trusted_proxies, max_size=trusted_proxies
        )
    )
    # Forwarded is read only when asked for; then it is the one source.
    opt_in = {} if headers == "x-forwarded-proto" else {"trusted_proxy_headers": ["forwarded"]}
    app = guarded_app(trusted_proxies=trusted_proxies, **opt_in)

    def answer(prefix):
        extra = {}
        if headers in ("x-forwarded-proto", "both"):
            extra["HTTP_X_FORWARDED_PROTO"] = ", ".join([*prefix, *proxy_schemes])
        if headers in ("forwarded", "both"):
            elements = [f"for=10.0.0.{i};proto={scheme}" for i, scheme in enumerate(proxy_schemes)]
            extra["HTTP_FORWARDED"] = ", ".join([*prefix, *elements])
        response = respond(app, wsgi_environ("GET", path, "", "app.example", "http", extra))
        return response.status_code, response.headers.get("Location"), response.headers.get(HSTS)

    assert answer(client_entries) == answer([])
    status, _, hsts = answer([])
    if proxy_schemes[-trusted_proxies] == "https":
        # Served (200, or 404 for a path the router refuses), with HSTS.
        assert status not in REDIRECTS and hsts is not None
    else:
        assert hsts is None
        assert status == 302 or _routed_path(path) == "/health"
