"""An app without an HTTPSGuard: what the views' and blueprints' marks do alone.

A ``@require_https`` below ``@app.route`` enforces itself with the default
options, never the app's ``HTTPS_GUARD_*`` config; a mark that nothing
enforces leaves its view on plain HTTP. The route listing for such an app
and findings HG000, HG012 and HG013 come from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple, Optional

from flask import Flask
from werkzeug.routing import Rule

from ..marks import EXEMPT, REQUIRE, blueprint_mark, enforces_itself, own_mark, view_mark
from ..options import resolve_options
from ..state import GuardState
from .findings import Finding
from .route_policy import RoutePolicy, route_methods, sorted_rules


class _Mark(NamedTuple):
    """The mark that decides an endpoint on an app without a guard."""

    kind: str
    #: "@require_https", "@exempt_https" or "blueprint 'name'".
    reason: str
    #: Whether anything enforces it (an exempt mark needs nothing).
    enforced: bool


def unguarded_route(app: Flask, rule: Rule) -> RoutePolicy:
    """What a plain-HTTP request to ``rule`` gets on an app without a guard."""
    methods = route_methods(rule)

    def served(reason: str, policy: str = "not guarded") -> RoutePolicy:
        return RoutePolicy(rule.rule, rule.endpoint, methods, policy, {}, reason)

    mark = _enforced_mark(app, rule.endpoint)
    if mark is None:
        return served("no HTTPSGuard")
    if mark.kind == EXEMPT:
        return served(mark.reason, "exempt")
    if not mark.enforced:
        return served(
            f"{mark.reason}, not enforced: no HTTPSGuard and the mark does not enforce itself"
        )
    defaults = _default_state(app)
    if not defaults.is_active():
        return served(f"{mark.reason}; inactive in debug mode")
    statuses = {method: defaults.status_for(method) for method in methods}
    return RoutePolicy(
        rule.rule, rule.endpoint, methods, "redirect", statuses, f"{mark.reason}, default options"
    )


def check_unguarded(app: Flask) -> list[Finding]:
    """The deploy check of an app without a guard: HG000 or HG012, and HG013."""
    marks = [(rule, _enforced_mark(app, rule.endpoint)) for rule in sorted_rules(app)]
    required = [(rule, mark) for rule, mark in marks if mark is not None and mark.kind == REQUIRE]
    enforced_count = sum(1 for _, mark in required if mark.enforced)
    if enforced_count:
        findings = [_marks_with_defaults(app, enforced_count)]
    else:
        findings = [_no_guard(app, has_marks=any(mark is not None for _, mark in marks))]
    findings += [
        _unenforced_mark(rule, mark.reason, app.view_functions.get(rule.endpoint))
        for rule, mark in required
        if not mark.enforced
    ]
    return findings


def _no_guard(app: Flask, has_marks: bool) -> Finding:
    return Finding(
        "HG000",
        "error",
        f"No HTTPSGuard is installed on app {app.name!r}: plain-HTTP requests"
        " are served as they come" + (", whatever the views' marks say." if has_marks else "."),
        "Add HTTPSGuard(app), or guard.init_app(app) in the app factory.",
    )


def _marks_with_defaults(app: Flask, enforced_count: int) -> Finding:
    defaults = _default_state(app)
    hsts = defaults.options.hsts_policy()
    return Finding(
        "HG012",
        "warning",
        f"App {app.name!r} has {enforced_count} route(s) marked @require_https"
        " but no HTTPSGuard: those redirect by themselves with the default"
        f" options ({defaults.status_for('GET')}/{defaults.status_for('POST')},"
        f" HSTS {hsts if hsts is not None else 'off'}), without the app's"
        " HTTPS_GUARD_* config; every other route is served over plain HTTP.",
        "Add HTTPSGuard(app, global_mode=False) to apply your config to the"
        " marked views, or HTTPSGuard(app) to guard every route.",
    )


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


def _default_state(app: Flask) -> GuardState:
    # The options a self-enforcing @require_https uses: the defaults, never
    # the app's HTTPS_GUARD_* config.
    return GuardState(app, resolve_options({"global_mode": False}, {}))


def _enforced_mark(app: Flask, endpoint: str) -> Optional[_Mark]:
    """The mark that decides ``endpoint`` on an app without a guard, or None."""
    view = app.view_functions.get(endpoint)
    mark = view_mark(view)
    if mark is not None:
        reason = "@require_https" if mark == REQUIRE else "@exempt_https"
        return _Mark(mark, reason, mark == EXEMPT or enforces_itself(view))
    for name in _blueprint_names(endpoint):
        mark = blueprint_mark(app.blueprints.get(name))
        if mark is not None:
            enforced = mark == EXEMPT or _blueprint_enforces(app, name)
            return _Mark(mark, f"blueprint {name!r}", enforced)
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
