"""What the ``flask https-guard`` commands report, as plain data.

``route_policies`` asks the app's guard for each URL rule's decision, the
same call the request path makes, with example paths of the rule in the
form a request hands them over, so the audit cannot drift from what
requests get. ``check_app`` audits the effective configuration for
production, in the spirit of Django's ``check --deploy``; each finding has a
stable ID that scripts and docs can refer to:

======  =======  ==============================================================
ID      Level    Meaning
======  =======  ==============================================================
HG000   error    No HTTPSGuard and no ``@require_https`` mark that enforces
                 itself: plain HTTP is served as it comes.
HG001   error    The guard is disabled (``enabled=False``).
HG002   error    Debug mode, so the guard is inactive (a warning when
                 ``enabled=True`` keeps it on).
HG003   warning  HSTS is off.
HG004   warning  HSTS max-age below one year (or 0, which makes browsers
                 forget the policy).
HG005   error    HSTS preload asked for, but plain HTTP does not redirect to
                 https on the same host first.
HG006   warning  ``SESSION_COOKIE_SECURE`` is off.
HG007   warning  Neither ``TRUSTED_HOSTS`` nor ``redirect_host``: the redirect
                 follows the client's Host header.
HG008   warning  An exempt route accepts POST, PUT, PATCH or DELETE.
HG009   info     Which layer decides a request's scheme.
HG010   warning  Proxy trust configured twice: the app's own ``ProxyFix``
                 (``x_proto``) and ``trusted_proxies``, so forwarded entries
                 are counted twice.
HG011   info     Redirects are temporary (302/307).
HG012   warning  Views are marked ``@require_https`` but the app has no
                 HTTPSGuard: the marks enforce themselves with default
                 options, without the app's ``HTTPS_GUARD_*`` config.
HG013   error    A ``@require_https`` mark that nothing enforces on an app
                 without a guard (placed above ``@app.route``, or on a
                 blueprint after it was registered).
HG014   warning  Flask-Talisman also forces https or sends HSTS (error when
                 its HSTS blocks the guard's ``hsts_max_age=0`` roll-back).
HG015   info     Templates are served over https without
                 ``upgrade_insecure_requests``.
HG016   warning  ``report_only`` is on: nothing is redirected, no HSTS.
HG017   warning  A ``skips`` entry matches no route.
HG018   info     ``PREFERRED_URL_SCHEME`` is ``http``: URLs built outside a
                 request (e-mails from CLI commands, task queues) say http.
HG019   info     ``app.wsgi_app`` was already wrapped at ``init_app``, so
                 plain HTTP is answered from a before_request function
                 instead of before the app.
======  =======  ==============================================================
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Rule

from .headers import PRELOAD_MIN_MAX_AGE
from .marks import EXEMPT, REQUIRE, blueprint_mark, enforces_itself, own_mark, view_mark
from .options import resolve_options
from .policy import Decision
from .rule_paths import RulePaths, request_path, skip_forms
from .state import GuardState, guard_state

LEVELS = ("info", "warning", "error")
_HIDDEN_METHODS = {"HEAD", "OPTIONS"}
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: Route policies under which some plain-HTTP requests are served.
_SERVED_OVER_HTTP = ("exempt", "not guarded", "report only", "partly exempt")
#: How many example paths of a partly exempt rule are listed.
_EXAMPLES_SHOWN = 3


@dataclass(frozen=True)
class RoutePolicy:
    """What a plain-HTTP request to one URL rule gets."""

    rule: str
    endpoint: str
    methods: list[str]
    #: "redirect", "reject", "redirect+reject", "partly exempt", "exempt",
    #: "report only" or "not guarded".
    policy: str
    #: The status each method gets over plain HTTP, when redirected or
    #: refused (for "partly exempt": outside the skipped paths).
    statuses: dict[str, int]
    reason: str
    #: For "partly exempt": example paths of the rule that a ``skips``
    #: entry serves over plain HTTP.
    exempt_examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Finding:
    """One result of the deploy check."""

    id: str
    level: str
    message: str
    hint: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def reaches(level: str, fail_level: str) -> bool:
    """Whether a finding of ``level`` is at or above ``fail_level``."""
    return LEVELS.index(level) >= LEVELS.index(fail_level)


# --- Routes ------------------------------------------------------------------


def route_policies(app: Flask) -> list[RoutePolicy]:
    """One entry per URL rule, sorted by rule.

    Works on an app without a guard too: there, views whose
    ``@require_https`` enforces itself are redirected with the defaults. A
    Flask-Talisman on the app is counted where it redirects what the guard
    serves.
    """
    talisman = TalismanSettings.of(app)
    routes = _guard_routes(app)
    if talisman is None:
        return routes
    return [talisman.overlay(app, route) for route in routes]


def _guard_routes(app: Flask) -> list[RoutePolicy]:
    """What the guard (or the marks, without one) does with each rule."""
    state = guard_state(app)
    if state is None:
        return [_unguarded_route(app, rule) for rule in _sorted_rules(app)]
    skips = _SkipIndex(state.options.skips)
    return [_guarded_route(app, state, skips, rule) for rule in _sorted_rules(app)]


def _sorted_rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


def _methods(rule: Rule) -> list[str]:
    return sorted(set(rule.methods or ()) - _HIDDEN_METHODS)


def _guarded_route(app: Flask, state: GuardState, skips: _SkipIndex, rule: Rule) -> RoutePolicy:
    methods = _methods(rule)
    if not state.is_active():
        return RoutePolicy(
            rule.rule,
            rule.endpoint,
            methods,
            "not guarded",
            {},
            "guard inactive (disabled or debug)",
        )
    samples = _decisions_for_examples(app, state, skips, rule)
    guarded = [(path, decision) for path, decision in samples if decision.guarded]
    served = [(path, decision) for path, decision in samples if not decision.guarded]
    if not guarded:
        decision = served[0][1]
        policy = "exempt" if decision.exempt else "not guarded"
        return RoutePolicy(rule.rule, rule.endpoint, methods, policy, {}, decision.reason)
    decision = guarded[0][1]
    statuses = {method: state.status_for(method) for method in methods}
    if state.options.report_only:
        would = _describe_statuses(statuses)
        return RoutePolicy(
            rule.rule,
            rule.endpoint,
            methods,
            "report only",
            {},
            f"{decision.reason}; report_only, would get {would}",
        )
    kinds = {"reject" if status == 403 else "redirect" for status in statuses.values()}
    policy = "+".join(sorted(kinds)) or "redirect"
    reason = decision.reason
    exempt_examples: list[str] = []
    if any(decision.exempt for _, decision in served):
        policy = "partly exempt"
        skipped_by = list(dict.fromkeys(d.reason for _, d in served if d.exempt))
        exempt_examples = [path for path, decision in served if decision.exempt]
        reason = (
            f"{reason}; exempt by {_first_few(skipped_by)} (e.g. {_first_few(exempt_examples)})"
        )
    return RoutePolicy(rule.rule, rule.endpoint, methods, policy, statuses, reason, exempt_examples)


def _decisions_for_examples(
    app: Flask, state: GuardState, skips: _SkipIndex, rule: Rule
) -> list[tuple[str, Decision]]:
    """The policy's decision for example paths of ``rule``: a few typical
    ones first, then one below each skip that can fall inside the rule."""
    paths = RulePaths(app, rule)
    examples = paths.typical()
    for _, form in skips.candidates(paths.first_segment):
        example = paths.under(form)
        if example is not None and example not in examples:
            examples.append(example)
    decide = state.policy.decide
    return [(path, decide(rule.endpoint, request_path(path))) for path in examples]


class _SkipIndex:
    """The ``skips`` entries in each URL form they could mean, by first segment."""

    def __init__(self, skips: Sequence[str]) -> None:
        self._all: list[tuple[str, str]] = []
        self._by_first_segment: dict[str, list[tuple[str, str]]] = {}
        for skip in skips:
            for form in skip_forms(skip):
                entry = (skip, form)
                self._all.append(entry)
                first = form.strip("/").split("/")[0]
                self._by_first_segment.setdefault(first, []).append(entry)

    def candidates(self, first_segment: Optional[str]) -> list[tuple[str, str]]:
        """(skip, form) pairs that can fall inside a rule whose first segment
        is ``first_segment`` (None: not fixed text, so any)."""
        if first_segment is None:
            return self._all
        return self._by_first_segment.get(first_segment, [])


def _first_few(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_EXAMPLES_SHOWN])
    return shown + (", ..." if len(items) > _EXAMPLES_SHOWN else "")


def _describe_statuses(statuses: dict[str, int]) -> str:
    return "/".join(str(code) for code in sorted(set(statuses.values())))


def _unguarded_route(app: Flask, rule: Rule) -> RoutePolicy:
    methods = _methods(rule)
    mark = _enforced_mark(app, rule.endpoint)
    if mark is None:
        return RoutePolicy(rule.rule, rule.endpoint, methods, "not guarded", {}, "no HTTPSGuard")
    kind, reason, enforced = mark
    if kind == EXEMPT:
        return RoutePolicy(rule.rule, rule.endpoint, methods, "exempt", {}, reason)
    if not enforced:
        return RoutePolicy(
            rule.rule,
            rule.endpoint,
            methods,
            "not guarded",
            {},
            f"{reason}, not enforced: no HTTPSGuard and the mark does not enforce itself",
        )
    defaults = _default_state(app)
    if not defaults.is_active():
        return RoutePolicy(
            rule.rule,
            rule.endpoint,
            methods,
            "not guarded",
            {},
            f"{reason}; inactive in debug mode",
        )
    statuses = {method: defaults.status_for(method) for method in methods}
    return RoutePolicy(
        rule.rule, rule.endpoint, methods, "redirect", statuses, f"{reason}, default options"
    )


def _default_state(app: Flask) -> GuardState:
    # The options a self-enforcing @require_https uses: the defaults, never
    # the app's HTTPS_GUARD_* config.
    return GuardState(app, resolve_options({"global_mode": False}, {}))


def _enforced_mark(app: Flask, endpoint: str) -> Optional[tuple[str, str, bool]]:
    """The mark that decides ``endpoint`` on an app without a guard:
    (mark, reason, whether it enforces itself), or None."""
    view = app.view_functions.get(endpoint)
    mark = view_mark(view)
    if mark is not None:
        reason = "@require_https" if mark == REQUIRE else "@exempt_https"
        return mark, reason, mark == EXEMPT or enforces_itself(view)
    for name in _blueprint_names(endpoint):
        mark = blueprint_mark(app.blueprints.get(name))
        if mark is not None:
            enforced = mark == EXEMPT or _blueprint_enforces(app, name)
            return mark, f"blueprint {name!r}", enforced
    return None


def _blueprint_names(endpoint: str) -> Iterator[str]:
    # Endpoint "outer.inner.view" belongs to "outer.inner", then "outer".
    name = endpoint.rpartition(".")[0]
    while name:
        yield name
        name = name.rpartition(".")[0]


def _blueprint_enforces(app: Flask, name: str) -> bool:
    # A marked blueprint enforces through its own before_request function,
    # which the app copies when the blueprint is registered: a blueprint
    # marked after registration has none there.
    return any(enforces_itself(function) for function in app.before_request_funcs.get(name, ()))


# --- Flask-Talisman ----------------------------------------------------------


@dataclass(frozen=True)
class TalismanSettings:
    """What a Flask-Talisman installed on the same app does about https.

    Talisman registers no ``app.extensions`` entry; it adds bound methods of
    its instance as before_request and after_request functions.
    """

    force_https: bool
    permanent: bool
    hsts: Optional[str]

    @classmethod
    def of(cls, app: Flask) -> Optional[TalismanSettings]:
        """The settings of the Talisman on ``app``, or None."""
        module = sys.modules.get("flask_talisman")
        talisman_class = getattr(module, "Talisman", None)
        if talisman_class is None:
            return None
        for functions in (app.before_request_funcs, app.after_request_funcs):
            for function in (f for funcs in functions.values() for f in funcs):
                owner = getattr(function, "__self__", None)
                if isinstance(owner, talisman_class):
                    return cls._read(owner)
        return None

    @classmethod
    def _read(cls, talisman: Any) -> TalismanSettings:
        hsts = None
        if talisman.strict_transport_security:
            hsts = f"max-age={talisman.strict_transport_security_max_age}"
            if talisman.strict_transport_security_include_subdomains:
                hsts += "; includeSubDomains"
            if talisman.strict_transport_security_preload:
                hsts += "; preload"
        return cls(bool(talisman.force_https), bool(talisman.force_https_permanent), hsts)

    def redirects(self, app: Flask, endpoint: str) -> bool:
        """Whether Talisman redirects plain-HTTP requests to ``endpoint``."""
        if app.debug:
            return False
        view = app.view_functions.get(endpoint)
        view_options = getattr(view, "talisman_view_options", {})
        return bool(view_options.get("force_https", self.force_https))

    @property
    def status(self) -> int:
        """Talisman's redirect status, the same for every method."""
        return 301 if self.permanent else 302

    def overlay(self, app: Flask, route: RoutePolicy) -> RoutePolicy:
        """``route`` with what Talisman adds where the guard serves plain HTTP."""
        if route.policy not in _SERVED_OVER_HTTP:
            return route
        if not self.redirects(app, route.endpoint):
            return route
        if route.policy == "partly exempt":
            reason = (
                f"{route.reason}; Flask-Talisman's force_https redirects those with {self.status}"
            )
            return RoutePolicy(
                route.rule, route.endpoint, route.methods, "redirect", route.statuses, reason
            )
        statuses = {method: self.status for method in route.methods}
        reason = f"Flask-Talisman force_https (the guard: {route.policy}, {route.reason})"
        return RoutePolicy(route.rule, route.endpoint, route.methods, "redirect", statuses, reason)


# --- The deploy check --------------------------------------------------------


def check_app(app: Flask) -> list[Finding]:
    """Audit ``app``'s effective configuration for production."""
    state = guard_state(app)
    if state is None:
        return _check_unguarded(app)
    options = state.options
    findings: list[Finding] = []
    findings += _check_active(app, state)
    findings += _check_report_only(state)
    findings += _check_hsts(app, state)
    findings += _check_cookies(app)
    findings += _check_hosts(app, options.redirect_host)
    findings += _check_exempt_writes(app)
    findings += _check_unused_skips(app, state)
    findings += _check_scheme_source(app, state)
    if not options.permanent:
        findings.append(
            Finding(
                "HG011",
                "info",
                "Redirects are temporary (302/307).",
                "Browsers cache 301/308; switch to permanent=True only when the"
                " site will stay on HTTPS for good.",
            )
        )
    findings += _check_talisman(app, state)
    findings += _check_templates(app, state)
    findings += _check_url_scheme(app, state)
    findings += _check_placement(state)
    return findings


def _check_url_scheme(app: Flask, state: GuardState) -> list[Finding]:
    if app.config.get("PREFERRED_URL_SCHEME") != "http" or state.options.report_only:
        return []
    return [
        Finding(
            "HG018",
            "info",
            "PREFERRED_URL_SCHEME is 'http': URLs built outside a request"
            " (url_for(..., _external=True) in CLI commands, e-mails, task queues)"
            " start with http:// and cost every reader a redirect.",
            "Set PREFERRED_URL_SCHEME = 'https'. The guard does not set it for you:"
            " Flask's test client takes its default scheme from it, so every"
            " plain-HTTP test request would silently become an https one.",
        )
    ]


def _check_placement(state: GuardState) -> list[Finding]:
    if state.answers_before_app or state.options.enabled is False:
        return []
    return [
        Finding(
            "HG019",
            "info",
            "app.wsgi_app was already wrapped when the guard was installed, so"
            " middleware inside the guard may still change the scheme: plain HTTP"
            " is answered from the app's first before_request function, which costs"
            " more per request and lets the app's request_started receivers run first.",
            "Call init_app before wrapping app.wsgi_app (ProxyFix included), or use"
            " trusted_proxies instead of your own ProxyFix.",
        )
    ]


def _check_unguarded(app: Flask) -> list[Finding]:
    marks = [(rule, _enforced_mark(app, rule.endpoint)) for rule in _sorted_rules(app)]
    required = [(rule, mark) for rule, mark in marks if mark is not None and mark[0] == REQUIRE]
    enforced = [rule for rule, mark in required if mark[2]]
    findings = []
    if not enforced:
        has_marks = any(mark is not None for _, mark in marks)
        findings.append(
            Finding(
                "HG000",
                "error",
                f"No HTTPSGuard is installed on app {app.name!r}: plain-HTTP requests"
                " are served as they come"
                + (", whatever the views' marks say." if has_marks else "."),
                "Add HTTPSGuard(app), or guard.init_app(app) in the app factory.",
            )
        )
    else:
        defaults = _default_state(app)
        hsts = defaults.options.hsts_policy()
        findings.append(
            Finding(
                "HG012",
                "warning",
                f"App {app.name!r} has {len(enforced)} route(s) marked @require_https"
                " but no HTTPSGuard: those redirect by themselves with the default"
                f" options ({defaults.status_for('GET')}/{defaults.status_for('POST')},"
                f" HSTS {hsts if hsts is not None else 'off'}), without the app's"
                " HTTPS_GUARD_* config; every other route is served over plain HTTP.",
                "Add HTTPSGuard(app, global_mode=False) to apply your config to the"
                " marked views, or HTTPSGuard(app) to guard every route.",
            )
        )
    for rule, mark in required:
        if not mark[2]:
            findings.append(_unenforced_mark(rule, mark[1], app.view_functions.get(rule.endpoint)))
    return findings


def _unenforced_mark(rule: Rule, reason: str, view: Any) -> Finding:
    if reason.startswith("blueprint"):
        what = f"belongs to {reason}, marked @require_https after it was registered"
        hint = (
            "Mark the blueprint before app.register_blueprint(), or add"
            " HTTPSGuard(app, global_mode=False)."
        )
    elif own_mark(view) is None:
        # The mark is on the View class, set after as_view() built the view.
        what = "comes from a View class marked @require_https after as_view()"
        hint = (
            "Decorate the class with @require_https where it is defined, or add"
            " HTTPSGuard(app, global_mode=False)."
        )
    else:
        what = "is marked @require_https above @app.route, where the mark cannot enforce itself"
        hint = (
            "Put @require_https below @app.route (route decorators go on top), or add"
            " HTTPSGuard(app, global_mode=False)."
        )
    return Finding(
        "HG013",
        "error",
        f"{rule.rule} ({rule.endpoint}) {what}; the app has no HTTPSGuard, so it is"
        " served over plain HTTP.",
        hint,
    )


def _check_active(app: Flask, state: GuardState) -> list[Finding]:
    options = state.options
    if options.enabled is False:
        return [
            Finding(
                "HG001",
                "error",
                "The guard is disabled (enabled=False): nothing is redirected and no HSTS is sent.",
                "Remove enabled=False / HTTPS_GUARD_ENABLED for production.",
            )
        ]
    if app.debug:
        level = "warning" if options.enabled else "error"
        return [
            Finding(
                "HG002",
                level,
                "The app runs in debug mode"
                + ("." if options.enabled else ", so the guard is inactive."),
                "Never run production with debug on (FLASK_DEBUG / app.debug).",
            )
        ]
    return []


def _check_report_only(state: GuardState) -> list[Finding]:
    if not state.options.report_only:
        return []
    return [
        Finding(
            "HG016",
            "warning",
            "report_only is on: plain-HTTP requests are logged and signalled, but"
            " none is redirected and no HSTS is sent.",
            "Once the insecure traffic you counted is gone, remove report_only"
            " (HTTPS_GUARD_REPORT_ONLY) to enforce.",
        )
    ]


def _check_hsts(app: Flask, state: GuardState) -> list[Finding]:
    options = state.options
    findings = []
    if not options.hsts:
        findings.append(
            Finding(
                "HG003",
                "warning",
                "HSTS is off: browsers will try plain HTTP first on every visit,"
                " where an attacker can intercept the redirect.",
                "Remove hsts=False / HTTPS_GUARD_HSTS.",
            )
        )
    elif options.hsts_max_age == 0:
        findings.append(
            Finding(
                "HG004",
                "warning",
                "HSTS max-age is 0: browsers that see it forget the site's HSTS"
                " policy (a roll-back).",
                "Keep max-age=0 until returning visitors have seen it; then set a max-age again.",
            )
        )
    elif options.hsts_max_age < PRELOAD_MIN_MAX_AGE:
        findings.append(
            Finding(
                "HG004",
                "warning",
                f"HSTS max-age is {options.hsts_max_age} seconds, below one year.",
                f"Set hsts_max_age to {PRELOAD_MIN_MAX_AGE} or more once HTTPS is"
                " known to work everywhere on the site.",
            )
        )
    if options.hsts and options.hsts_preload:
        problems = []
        other_hosts = _hosts_redirected_away(app, options.redirect_host)
        if other_hosts:
            problems.append(
                f"plain HTTP to {', '.join(other_hosts)} redirects to another host"
                f" ({options.redirect_host})"
            )
        if not state.policy.decide(_endpoint_of(app, "/"), "/").guarded:
            problems.append("the home page / is served over plain HTTP")
        if problems:
            findings.append(
                Finding(
                    "HG005",
                    "error",
                    "HSTS preload is asked for, but the preload list requires every"
                    " http:// URL to redirect to https on the same host first: "
                    + "; ".join(problems)
                    + ".",
                    "Redirect / to https on the same host, or drop hsts_preload.",
                )
            )
    return findings


def _hosts_redirected_away(app: Flask, redirect_host: Optional[str]) -> list[str]:
    """The hosts a request can arrive on and be redirected from to another host.

    With ``TRUSTED_HOSTS`` naming ``redirect_host`` alone, every request that
    is answered at all arrives on that host: the redirect stays on it.
    """
    if redirect_host is None:
        return []
    trusted = _trusted_hosts(app)
    if trusted is None:
        return ["any other Host"]
    return [host for host in trusted if _bare_host(host) != redirect_host]


def _trusted_hosts(app: Flask) -> Optional[list[str]]:
    configured = app.config.get("TRUSTED_HOSTS")
    if not configured:
        return None
    if isinstance(configured, str):
        return [configured]
    return [str(host) for host in configured]


def _bare_host(host: str) -> str:
    # A port does not make another host for HSTS; Werkzeug ignores it too.
    host = host.lower()
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.partition(":")[0]


def _endpoint_of(app: Flask, path: str) -> Optional[str]:
    adapter = app.url_map.bind(app.config.get("SERVER_NAME") or "localhost")
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except Exception:
        return None
    return endpoint if isinstance(endpoint, str) else None


def _check_cookies(app: Flask) -> list[Finding]:
    if app.config.get("SESSION_COOKIE_SECURE"):
        return []
    return [
        Finding(
            "HG006",
            "warning",
            "SESSION_COOKIE_SECURE is off: the session cookie is also sent over plain HTTP.",
            "Keep secure_cookies=True (the default) or set SESSION_COOKIE_SECURE = True.",
        )
    ]


def _check_hosts(app: Flask, redirect_host: Optional[str]) -> list[Finding]:
    if redirect_host is not None or app.config.get("TRUSTED_HOSTS"):
        return []
    server_name = app.config.get("SERVER_NAME")
    hint = "Set TRUSTED_HOSTS to the app's host names, or redirect_host."
    if server_name:
        hint = (
            f"SERVER_NAME ({server_name}) does not limit the Host the redirect"
            f" uses; set TRUSTED_HOSTS = [{server_name!r}] or redirect_host."
        )
    return [
        Finding(
            "HG007",
            "warning",
            "No TRUSTED_HOSTS and no redirect_host: redirects go to whatever host"
            " the client's Host header names.",
            hint,
        )
    ]


def _check_exempt_writes(app: Flask) -> list[Finding]:
    findings = []
    for route in route_policies(app):
        writes = sorted(_WRITE_METHODS.intersection(route.methods))
        if route.policy not in ("exempt", "partly exempt") or not writes:
            continue
        findings.append(
            Finding(
                "HG008",
                "warning",
                f"{route.rule} ({route.endpoint}) is {route.policy} ({route.reason}) and"
                f" accepts {', '.join(writes)}: form or API data is sent over"
                " plain HTTP.",
                "Exempt only read-only endpoints such as health checks.",
            )
        )
    return findings


def _check_unused_skips(app: Flask, state: GuardState) -> list[Finding]:
    """Skips under which no route has a path that the policy serves over HTTP."""
    if not state.options.skips:
        return []
    skips = _SkipIndex(state.options.skips)
    used: set[str] = set()
    # A path of some route below the skip, which the guard redirects anyway.
    ignored: dict[str, str] = {}
    for rule in _sorted_rules(app):
        paths = RulePaths(app, rule)
        for skip, form in skips.candidates(paths.first_segment):
            if skip in used:
                continue
            example = paths.under(form)
            if example is None:
                continue
            # No endpoint: the skips alone decide, whatever the view's marks.
            if state.policy.decide(None, request_path(example)).exempt:
                used.add(skip)
            else:
                ignored.setdefault(skip, example)
    findings = []
    for skip in state.options.skips:
        if skip in used:
            continue
        if skip in ignored:
            message = (
                f"The skip {skip!r} never takes effect: {ignored[skip]} lies below it,"
                " yet a plain-HTTP request to it is redirected."
            )
        else:
            message = f"The skip {skip!r} matches no route."
        findings.append(
            Finding(
                "HG017",
                "warning",
                message,
                "Skips are whole path segments of the request path (skips=['health']"
                " covers /health and /health/live, not /healthz); fix the entry or"
                " remove it.",
            )
        )
    return findings


def _check_scheme_source(app: Flask, state: GuardState) -> list[Finding]:
    options = state.options
    proxy_fixes = [layer for layer in _middleware(app) if isinstance(layer, ProxyFix)]
    user_proxy_fixes = [
        layer for layer in proxy_fixes if layer is not state.proxy_fix and layer.x_proto
    ]
    findings = []
    if user_proxy_fixes and options.trusted_proxies:
        findings.append(_doubled_trust(options.trusted_proxies, proxy_fixes, state.proxy_fix))
    count = options.trusted_proxies
    if count:
        if "forwarded" in options.trusted_proxy_headers:
            entry = f"the {_ordinal(count)} Forwarded element from the right (proto=)"
        else:
            entry = f"the {_ordinal(count)} X-Forwarded-Proto entry from the right"
        source = f"trusted_proxies={count}: {entry}, through the ProxyFix the guard installed"
        extra = [name for name in options.trusted_proxy_headers if name != "forwarded"]
        if extra:
            source += f" (which also trusts {', '.join(extra)})"
        if options.https_header is not None:
            source += f", or the platform header {str(options.https_header)!r}"
    elif user_proxy_fixes:
        source = (
            f"Werkzeug's ProxyFix(x_proto={user_proxy_fixes[-1].x_proto}) that wraps"
            " app.wsgi_app, through the WSGI scheme"
        )
    else:
        source = "the WSGI scheme alone (no proxy header is trusted)"
    findings.append(
        Finding(
            "HG009",
            "info",
            f"The scheme of a request is decided by {source}.",
            "Behind TLS-terminating proxies, set trusted_proxies to the number of"
            " X-Forwarded-Proto entries they add (unless the server, such as"
            " gunicorn with forwarded_allow_ips, already trusts them); otherwise"
            " every request looks insecure and redirects loop.",
        )
    )
    return findings


def _doubled_trust(
    trusted_proxies: int, proxy_fixes: list[ProxyFix], guards_own: Optional[ProxyFix]
) -> Finding:
    # Every ProxyFix reads the same, unchanged X-Forwarded-* headers and sets
    # the scheme again: the innermost layer, which runs last, has the last word.
    innermost = proxy_fixes[-1]
    yours = ", ".join(
        f"ProxyFix(x_for={layer.x_for}, x_proto={layer.x_proto})"
        for layer in proxy_fixes
        if layer is not guards_own and layer.x_proto
    )
    if innermost is guards_own:
        outcome = (
            f"trusted_proxies={trusted_proxies} decides the scheme (its ProxyFix is"
            " the innermost) and yours only changes what the outer layers see"
        )
    else:
        outcome = (
            f"your ProxyFix(x_proto={innermost.x_proto}) is the innermost, so it decides"
            f" the scheme and trusted_proxies={trusted_proxies} has no effect on it"
        )
    return Finding(
        "HG010",
        "warning",
        f"Proxy trust is configured twice: app.wsgi_app is wrapped in {yours}, and"
        f" trusted_proxies={trusted_proxies} installs another ProxyFix. Both read the"
        f" same X-Forwarded-* entries; {outcome}.",
        "Count the entries in one place: remove your ProxyFix and keep trusted_proxies"
        " (trusted_proxy_headers adds x_host, x_port, x_prefix), or set"
        " trusted_proxies=0 and keep your ProxyFix.",
    )


def _middleware(app: Flask) -> Iterator[Any]:
    """The layers of ``app.wsgi_app``, outermost first.

    Each layer keeps the next in ``.app`` (ProxyFix, most WSGI middleware) or
    ``.wsgi_app`` (the guard's own wrapper).
    """
    layer: Any = app.wsgi_app
    seen: set[int] = set()
    while layer is not None and id(layer) not in seen and len(seen) < 50:
        seen.add(id(layer))
        yield layer
        inner = getattr(layer, "app", None)
        if inner is None or isinstance(inner, Flask):
            inner = getattr(layer, "wsgi_app", None)
        layer = inner


def _ordinal(number: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number if number < 20 else number % 10, "th")
    return f"{number}{suffix}"


def _check_talisman(app: Flask, state: GuardState) -> list[Finding]:
    talisman = TalismanSettings.of(app)
    if talisman is None or not (talisman.force_https or talisman.hsts):
        return []
    options = state.options
    problems = []
    level = "warning"
    if talisman.force_https:
        overruled = [
            route.rule
            for route in _guard_routes(app)
            if route.policy in _SERVED_OVER_HTTP and talisman.redirects(app, route.endpoint)
        ]
        listed = ", ".join(overruled[:_EXAMPLES_SHOWN]) + (
            ", ..." if len(overruled) > _EXAMPLES_SHOWN else ""
        )
        problems.append(
            f"its force_https redirects plain-HTTP requests with {talisman.status},"
            " for POST too (clients may turn it into GET)"
            + (f", including routes the guard serves over plain HTTP ({listed})" if listed else "")
        )
    if talisman.hsts:
        if not options.hsts:
            problems.append(
                f"it sends Strict-Transport-Security ({talisman.hsts}) although the"
                " guard's hsts=False"
            )
        else:
            problems.append(
                f"it sends its own Strict-Transport-Security ({talisman.hsts}), which the"
                " guard keeps instead of its own"
            )
        rolling_back = options.hsts and options.hsts_max_age == 0
        if rolling_back and not talisman.hsts.startswith("max-age=0"):
            level = "error"
            problems.append("so the guard's hsts_max_age=0 roll-back never reaches browsers")
    return [
        Finding(
            "HG014",
            level,
            "Flask-Talisman is also installed on the app: " + "; ".join(problems) + ".",
            "Let one of them own https: Talisman(app, force_https=False,"
            " strict_transport_security=False) keeps Talisman for CSP and the other"
            " headers while the guard redirects and sends HSTS.",
        )
    ]


def _check_templates(app: Flask, state: GuardState) -> list[Finding]:
    if state.options.upgrade_insecure_requests or state.options.report_only:
        return []
    templates = _template_names(app)
    if not templates:
        return []
    shown = ", ".join(templates[:_EXAMPLES_SHOWN]) + (", ..." if len(templates) > 3 else "")
    return [
        Finding(
            "HG015",
            "info",
            f"The app serves templates over https ({shown}): an http:// image, script"
            " or stylesheet in them is blocked or flagged by browsers as mixed content.",
            "upgrade_insecure_requests=True sends Content-Security-Policy:"
            " upgrade-insecure-requests, so browsers fetch them over https; it merges"
            " with a CSP header the app already sends.",
        )
    ]


def _template_names(app: Flask) -> Sequence[str]:
    try:
        return sorted(app.jinja_env.list_templates())
    except TypeError:
        # A loader that cannot list its templates.
        return []
