"""``check_app``: the app's effective configuration, audited for production.

Hosts are read through :mod:`flask_https_guard.location`, decisions through the
app's guard, the middleware around the app through :mod:`flask_https_guard.proxies`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

from ..extension import OPTIONS
from ..findings import Finding
from ..guard import Guard, describe_layer
from ..headers import PRELOAD_MIN_MAX_AGE
from ..location import host_entries, is_trusted, owned_hosts
from ..marks import own_mark, view_mark
from ..policy import status_for
from ..proxies import layers
from .paths import RuleExamples, base_url, request_environ
from .routes import (
    TalismanSettings,
    app_guard,
    enforced,
    first_few,
    guard_routes,
    route_policies,
    sorted_rules,
)


def check_app(app: Flask) -> list[Finding]:
    """Audit ``app``'s effective configuration for production."""
    guard = app_guard(app)
    checks = _check_unguarded if guard.extension is None else _check_guarded
    return list(checks(app, guard))


def _check_guarded(app: Flask, guard: Guard) -> Iterator[Finding]:
    options = guard.options
    if options.enabled is False:
        yield Finding.of(
            "HG001",
            "The guard is disabled (enabled=False): nothing is redirected and no HSTS is sent.",
            "Remove enabled=False / HTTPS_GUARD_ENABLED for production.",
        )
    elif app.debug:
        yield Finding.of(
            "HG002",
            "The app runs in debug mode"
            + ("." if options.enabled else ", so the guard is inactive."),
            "Never run production with debug on (FLASK_DEBUG / app.debug).",
            level="warning" if options.enabled else "error",
        )
    if options.report_only:
        yield Finding.of(
            "HG016",
            "report_only is on: plain-HTTP requests are logged and signalled, but none is"
            " redirected and no HSTS is sent.",
            "Once the insecure traffic you counted is gone, remove report_only"
            " (HTTPS_GUARD_REPORT_ONLY) to enforce.",
        )
    yield from _check_hsts(app, guard)
    if not app.config.get("SESSION_COOKIE_SECURE"):
        yield Finding.of(
            "HG006",
            "SESSION_COOKIE_SECURE is off: the session cookie is also sent over plain HTTP.",
            "Keep secure_cookies=True (the default) or set SESSION_COOKIE_SECURE = True.",
        )
    yield from _check_hosts(app, guard)
    yield from _check_exempt_writes(app)
    yield from _check_unused_skips(app, guard)
    if options.enabled is not False:
        yield from _check_middleware(app, guard)
    if not options.permanent:
        yield Finding.of(
            "HG011",
            "Redirects are temporary (302/307).",
            "Browsers cache 301/308; switch to permanent=True only when the site will"
            " stay on HTTPS for good.",
        )
    yield from _check_talisman(app, guard)
    if not (options.upgrade_insecure_requests or options.report_only):
        yield from _check_templates(app)
    if app.config.get("PREFERRED_URL_SCHEME") == "http" and not options.report_only:
        yield Finding.of(
            "HG018",
            "PREFERRED_URL_SCHEME is 'http': URLs built outside a request"
            " (url_for(..., _external=True) in CLI commands, e-mails, task queues) start"
            " with http:// and cost every reader a redirect.",
            "Set PREFERRED_URL_SCHEME = 'https'. The guard does not set it for you:"
            " Flask's test client takes its default scheme from it, so every plain-HTTP"
            " test request would silently become an https one.",
        )


def _check_hsts(app: Flask, guard: Guard) -> Iterator[Finding]:
    """HG003, HG004, HG005 and HG025."""
    options = guard.options
    if not options.hsts:
        yield Finding.of(
            "HG003",
            "HSTS is off: browsers will try plain HTTP first on every visit, where an"
            " attacker can intercept the redirect.",
            "Remove hsts=False / HTTPS_GUARD_HSTS.",
        )
        return
    if options.hsts_max_age == 0:
        yield Finding.of(
            "HG004",
            "HSTS max-age is 0: browsers that see it forget the site's HSTS policy (a roll-back).",
            "Keep max-age=0 until returning visitors have seen it; then set a max-age again.",
        )
    elif options.hsts_max_age < PRELOAD_MIN_MAX_AGE:
        yield Finding.of(
            "HG004",
            f"HSTS max-age is {options.hsts_max_age} seconds, below one year.",
            f"Set hsts_max_age to {PRELOAD_MIN_MAX_AGE} or more once HTTPS is known to"
            " work everywhere on the site.",
        )
    if options.hsts_preload:
        yield from _check_preload(app, guard)
    if options.hsts_include_subdomains or options.hsts_preload:
        yield Finding.of(
            "HG025",
            "HSTS includeSubDomains is on: browsers that have the policy reach every"
            " subdomain of the site's hosts over https only, so a subdomain without"
            " https becomes unreachable (for good, once preloaded).",
            "Check each subdomain from the outside before preloading or raising"
            " max-age: flask https-guard probe URL --subdomain NAME.",
        )


def _check_preload(app: Flask, guard: Guard) -> Iterator[Finding]:
    """HG005: the preload list wants http:// redirected to https on the same host first."""
    redirect_host = guard.options.redirect_host
    target = host_entries(redirect_host)  # () without one: plain HTTP stays on its host
    away = [host for host in owned_hosts(app) or ["any other Host"] if target and (host,) != target]
    problems = []
    if away:
        problems.append(
            f"plain HTTP to {', '.join(away)} redirects to another host ({redirect_host})"
        )
    _, home = guard.route(request_environ(base_url(app), "/"))
    if not guard.policy.decide(home, "/").guarded:
        problems.append("the home page / is served over plain HTTP")
    if problems:
        yield Finding.of(
            "HG005",
            "HSTS preload is asked for, but the preload list requires every http:// URL to"
            " redirect to https on the same host first: " + "; ".join(problems) + ".",
            "Redirect / to https on the same host, or drop hsts_preload.",
        )


def _check_hosts(app: Flask, guard: Guard) -> Iterator[Finding]:
    """HG007 (redirects follow any Host), HG023 (capitals), HG024 (canonical_host)."""
    options = guard.options
    owned = owned_hosts(app)
    if options.redirect_host is None and not owned:
        yield Finding.of(
            "HG007",
            "No TRUSTED_HOSTS, SERVER_NAME or redirect_host: redirects go to whatever"
            " host the client's Host header names.",
            "Set TRUSTED_HOSTS to the app's host names, or redirect_host.",
        )
    capitals = [
        f"{where} {value!r}"
        for where, value in _written_hosts(app, guard)
        if value != value.lower()
    ]
    if capitals:
        yield Finding.of(
            "HG023",
            f"Host names are written with capitals: {', '.join(capitals)}. Host names are"
            " compared case-insensitively (the guard lower-cases both sides), so this"
            " works, but it reads as if case mattered.",
            "Write host names in lower case, as URLs and certificates show them.",
        )
    canonical = host_entries(options.canonical_host)
    if canonical and owned and not is_trusted(canonical[0], owned):
        trusted = bool(app.config.get("TRUSTED_HOSTS"))
        outcome = (
            "Flask answers 400 (TRUSTED_HOSTS)"
            if trusted
            else "links the app builds (url_for with _external=True) point back to"
            " SERVER_NAME, one more redirect each"
        )
        yield Finding.of(
            "HG024",
            f"canonical_host {options.canonical_host!r} is not one of the hosts the app"
            f" accepts ({', '.join(owned)}): secure requests are redirected there, where"
            f" {outcome}.",
            "Add the canonical host to TRUSTED_HOSTS (or SERVER_NAME), or fix canonical_host.",
            level="error" if trusted else "warning",
        )


def _written_hosts(app: Flask, guard: Guard) -> list[tuple[str, str]]:
    """Host names as the user wrote them: Flask's config, and the guard's host options."""
    trusted = app.config.get("TRUSTED_HOSTS") or ()
    given = OPTIONS.given(guard.extension.arguments, app.config)
    written: list[tuple[str, Any]] = [
        ("SERVER_NAME", app.config.get("SERVER_NAME")),
        *(
            ("TRUSTED_HOSTS", host)
            for host in (
                [h.strip() for h in trusted.split(",")] if isinstance(trusted, str) else trusted
            )
        ),
        *(given[name][:2] for name in ("redirect_host", "canonical_host") if name in given),
    ]
    return [(where, value) for where, value in written if isinstance(value, str)]


def _check_exempt_writes(app: Flask) -> Iterator[Finding]:
    """HG008 for each exempt or partly exempt route that accepts writes."""
    for route in route_policies(app):
        writes = sorted({"POST", "PUT", "PATCH", "DELETE"}.intersection(route.methods))
        if route.policy in ("exempt", "partly exempt") and writes:
            yield Finding.of(
                "HG008",
                f"{route.rule} ({route.endpoint}) is {route.policy} ({route.reason}) and"
                f" accepts {', '.join(writes)}: form or API data is sent over plain HTTP.",
                "Exempt only read-only endpoints such as health checks.",
            )


def _check_unused_skips(app: Flask, guard: Guard) -> Iterator[Finding]:
    """HG017 for a skip under which no route has a path the skip serves over HTTP."""
    if not guard.options.skips:
        return
    examples = [RuleExamples(guard, rule) for rule in sorted_rules(app)]
    for skip in guard.options.skips:
        found = (rule.under(skip) for rule in examples)
        # No endpoint: the skip alone decides, whatever the views' marks say.
        if not any(ex and guard.policy.decide(None, ex.path_info).explicit for ex in found):
            yield Finding.of(
                "HG017",
                f"The skip {skip!r} matches no route.",
                "Skips are whole path segments of the decoded request path"
                " (skips=['health'] covers /health and /health/live, not /healthz;"
                " write 'café', not 'caf%C3%A9'); fix the entry or remove it.",
            )


def _check_talisman(app: Flask, guard: Guard) -> Iterator[Finding]:
    """HG014 when a Flask-Talisman on the app also forces https or sends HSTS."""
    talisman = TalismanSettings.of(app)
    if talisman is None or not (talisman.force_https or talisman.hsts):
        return
    options = guard.options
    problems = []
    level = "warning"
    if talisman.force_https:
        listed = first_few([r.rule for r in guard_routes(app) if talisman.overrules(app, r)])
        problems.append(
            f"its force_https redirects plain-HTTP requests with {talisman.status}, for POST"
            " too (clients may turn it into GET)"
            + (f", including routes the guard serves over plain HTTP ({listed})" if listed else "")
        )
    if talisman.hsts:
        problems.append(
            f"it sends its own Strict-Transport-Security ({talisman.hsts}), which the"
            " guard keeps instead of its own"
            if options.hsts
            else f"it sends Strict-Transport-Security ({talisman.hsts}) although the"
            " guard's hsts=False"
        )
        if options.hsts and options.hsts_max_age == 0 and not talisman.hsts.startswith("max-age=0"):
            level = "error"
            problems.append("so the guard's hsts_max_age=0 roll-back never reaches browsers")
    yield Finding.of(
        "HG014",
        "Flask-Talisman is also installed on the app: " + "; ".join(problems) + ".",
        "Let one of them own https: Talisman(app, force_https=False,"
        " strict_transport_security=False) keeps Talisman for CSP and the other headers"
        " while the guard redirects and sends HSTS.",
        level=level,
    )


def _check_templates(app: Flask) -> Iterator[Finding]:
    try:
        templates = sorted(app.jinja_env.list_templates())
    except TypeError:  # a loader that cannot list its templates
        return
    if templates:
        yield Finding.of(
            "HG015",
            f"The app serves templates over https ({first_few(templates)}): an http:// image,"
            " script or stylesheet in them is blocked or flagged by browsers as mixed content.",
            "upgrade_insecure_requests=True sends Content-Security-Policy:"
            " upgrade-insecure-requests, so browsers fetch them over https; it merges with a"
            " CSP header the app already sends.",
        )


# --- the middleware around the app, as the guard recorded it at init_app ------------


def _check_middleware(app: Flask, guard: Guard) -> Iterator[Finding]:
    """What the middleware around the app does to the guard's view of requests."""
    outer, _ = layers(app.wsgi_app, stop=guard.outermost)  # set at init_app when enabled
    yield from _check_scheme_source(guard, outer)
    served = [layer for layer in outer if not isinstance(layer, ProxyFix)]
    if served:
        yield Finding.of(
            "HG020",
            "app.wsgi_app was wrapped after HTTPSGuard.init_app, around the guard:"
            f" {_names(served)}. What this middleware answers itself (static files, mounted"
            " apps, websockets) is outside the guard: served over plain HTTP, without HSTS.",
            "Wrap app.wsgi_app before HTTPSGuard(app) (or init_app), so that the guard is in"
            " front of it; only a ProxyFix belongs outside.",
        )
    mounts = [
        prefix
        for layer in guard.inner_layers
        if isinstance(layer, DispatcherMiddleware)
        for prefix, mounted in layer.mounts.items()
        if layers(mounted, app=app)[1]  # the app's own wsgi_app, maybe inside known middleware
    ]
    if mounts:
        there = (
            "every plain-HTTP request under it is redirected"
            if guard.options.global_mode
            else "only views marked @require_https are redirected"
        )
        yield Finding.of(
            "HG022",
            f"The app is mounted under {', '.join(map(repr, mounts))} inside its own"
            " wsgi_app (a DispatcherMiddleware wrapped before init_app): the guard sees those"
            f" requests with the prefix in the path and cannot route them to their views, so"
            f" {there}. @require_https views still hold through their own wrapper; exempt"
            " views and blueprints there are not exempt.",
            f"Mount the app from outside instead (DispatcherMiddleware(other, {{{mounts[0]!r}:"
            " app}) as the WSGI application), so the prefix reaches it as SCRIPT_NAME. Until"
            " then, an exempt view under the mount is served over plain HTTP only if skips"
            f" lists its full path, such as skips=['{mounts[0]}/health'].",
        )
    elif not guard.sees_app:
        yield Finding.of(
            "HG021",
            "app.wsgi_app was wrapped before init_app in middleware the guard cannot see"
            f" through: {_names(guard.inner_layers)}. The guard decides before it runs: if it"
            " sets the scheme, the guard sees https requests as plain HTTP and redirects loop.",
            "If it sets the scheme, use trusted_proxies instead, or wrap it after"
            " HTTPSGuard(app) so that the guard sees what it sets.",
        )


def _names(found: list[Any]) -> str:
    return ", ".join(describe_layer(layer) for layer in found)


def _check_scheme_source(guard: Guard, outer: list[Any]) -> Iterator[Finding]:
    """HG010 when proxy trust is counted twice, then HG009."""
    options = guard.options
    count = options.trusted_proxies
    inner_fixes = [x for x in guard.inner_layers if isinstance(x, ProxyFix) and x.x_proto]
    yours = [x for x in outer if isinstance(x, ProxyFix) and x.x_proto] + inner_fixes
    if yours and count:
        # Each ProxyFix reads the same, unchanged headers: the innermost has the last word.
        outcome = (
            f"your ProxyFix(x_proto={inner_fixes[-1].x_proto}) is inside the guard, so it"
            f" decides the scheme and trusted_proxies={count} has no effect on it"
            if inner_fixes
            else f"trusted_proxies={count} decides the scheme (its ProxyFix is the innermost)"
            " and yours only changes what the outer layers see"
        )
        wrapped = ", ".join(f"ProxyFix(x_for={x.x_for}, x_proto={x.x_proto})" for x in yours)
        yield Finding.of(
            "HG010",
            f"Proxy trust is configured twice: app.wsgi_app is wrapped in {wrapped}, and"
            f" trusted_proxies={count} installs another ProxyFix. Both read the same"
            f" X-Forwarded-* entries; {outcome}.",
            "Count the entries in one place: remove your ProxyFix and keep"
            " trusted_proxies (trusted_proxy_headers adds x_host, x_port, x_prefix), or"
            " set trusted_proxies=0 and keep your ProxyFix.",
        )
    if count:
        entry = (
            f"the {_ordinal(count)} Forwarded element from the right (proto=)"
            if "forwarded" in options.trusted_proxy_headers
            else f"the {_ordinal(count)} X-Forwarded-Proto entry from the right"
        )
        source = f"trusted_proxies={count}: {entry}, through the ProxyFix the guard installed"
        extra = [name for name in options.trusted_proxy_headers if name != "forwarded"]
        source += f" (which also trusts {', '.join(extra)})" if extra else ""
        if options.https_header is not None:
            name, value = options.https_header
            source += f", or the platform header {name + (': ' + value if value else '')!r}"
    elif yours:
        source = f"Werkzeug's ProxyFix(x_proto={yours[-1].x_proto}) that wraps app.wsgi_app"
    else:
        source = "the WSGI scheme alone (no proxy header is trusted)"
    yield Finding.of(
        "HG009",
        f"The scheme of a request is decided by {source}.",
        "Behind TLS-terminating proxies, set trusted_proxies to the number of"
        " X-Forwarded-Proto entries they add (unless the server, such as gunicorn with"
        " forwarded_allow_ips, already trusts them); otherwise every request looks"
        " insecure and redirects loop.",
    )


def _ordinal(number: int) -> str:
    teens = number % 100 in (11, 12, 13)  # 11th, 112th
    suffix = "th" if teens else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


# --- an app without a guard: what its marks do alone --------------------------------


def _check_unguarded(app: Flask, guard: Guard) -> Iterator[Finding]:
    """HG000 or HG012, and HG013 for each mark that nothing enforces."""
    marked = [(rule, guard.policy.marked(rule.endpoint)) for rule in sorted_rules(app)]
    required = [rule for rule, decision in marked if decision is not None and decision.guarded]
    holding = [rule for rule in required if enforced(app, rule.endpoint)]
    if holding:
        codes = "/".join(str(status_for(m, guard.options.permanent)) for m in ("GET", "POST"))
        yield Finding.of(
            "HG012",
            f"App {app.name!r} has {len(holding)} route(s) marked @require_https but no"
            f" HTTPSGuard: those redirect by themselves with the default options ({codes},"
            f" HSTS {guard.options.hsts_policy()}), without the app's HTTPS_GUARD_* config;"
            " every other route is served over plain HTTP.",
            "Add HTTPSGuard(app, global_mode=False) to apply your config to the marked"
            " views, or HTTPSGuard(app) to guard every route.",
        )
    else:
        marks = any(decision is not None for _, decision in marked)
        yield Finding.of(
            "HG000",
            f"No HTTPSGuard is installed on app {app.name!r}: plain-HTTP requests are"
            " served as they come" + (", whatever the views' marks say." if marks else "."),
            "Add HTTPSGuard(app), or guard.init_app(app) in the app factory.",
        )
    for rule in (rule for rule in required if rule not in holding):
        view = app.view_functions.get(rule.endpoint)
        if view_mark(view) is None:
            what = "belongs to a blueprint marked @require_https after it was registered"
            fix = "Mark the blueprint before app.register_blueprint()"
        elif own_mark(view) is None:
            what = "comes from a View class marked @require_https after as_view()"
            fix = "Decorate the class with @require_https where it is defined"
        else:
            what = "is marked @require_https above @app.route, where the mark cannot enforce itself"
            fix = "Put @require_https below @app.route (route decorators go on top)"
        yield Finding.of(
            "HG013",
            f"{rule.rule} ({rule.endpoint}) {what}; the app has no HTTPSGuard, so it is served"
            " over plain HTTP.",
            f"{fix}, or add HTTPSGuard(app, global_mode=False).",
        )
