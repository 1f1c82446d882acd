"""``route_policies``: what a plain-HTTP request to each URL rule gets.

Example requests of each rule (:mod:`.paths`) are decided by the app's own
:class:`~flask_https_guard.guard.Guard` (``Policy.decide``, ``status_for``), so
the listing cannot drift from what requests get. An app without a guard is
judged with the defaults its self-enforcing marks use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from flask import Flask
from werkzeug.routing import Rule

from ..extension import OPTIONS
from ..guard import EXTENSION_KEY, Guard
from ..marks import enforces_itself
from ..policy import Decision, status_for
from .paths import RuleExamples, rule_methods
from .talisman import TalismanSettings

#: Route policies under which some plain-HTTP requests are served.
SERVED_OVER_HTTP = ("exempt", "not guarded", "report only", "partly exempt")


@dataclass(frozen=True)
class RoutePolicy:
    """What a plain-HTTP request to one URL rule gets."""

    rule: str
    endpoint: str
    methods: list[str]
    #: "redirect", "refuse", "redirect+refuse", "partly exempt", "exempt",
    #: "report only" or "not guarded".
    policy: str
    #: The status each method gets over plain HTTP when redirected or refused
    #: (for "partly exempt": outside the skipped paths).
    statuses: dict[str, int]
    reason: str
    #: For "partly exempt": example paths of the rule that a skip serves over plain HTTP.
    exempt_examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def app_guard(app: Flask) -> Guard:
    """The app's guard; without one, the defaults its marks enforce (``extension`` None)."""
    guard = app.extensions.get(EXTENSION_KEY)
    return guard if guard is not None else Guard(app, OPTIONS.resolve({"global_mode": False}, {}))


def sorted_rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


def first_few(items: Sequence[str], shown: int = 3) -> str:
    """The first items, comma-separated, with "..." when some are left out."""
    return ", ".join(items[:shown]) + (", ..." if len(items) > shown else "")


def enforced(app: Flask, endpoint: str) -> bool:
    """Whether a mark on ``endpoint`` holds without a guard: its view's wrapper, or a
    blueprint's hook (copied to the app when the marked blueprint was registered)."""
    if enforces_itself(app.view_functions.get(endpoint)):
        return True
    name = endpoint.rpartition(".")[0]
    while name:
        if any(enforces_itself(hook) for hook in app.before_request_funcs.get(name, ())):
            return True
        name = name.rpartition(".")[0]
    return False


def route_policies(app: Flask) -> list[RoutePolicy]:
    """One entry per URL rule, sorted; a Flask-Talisman's redirects counted on top."""
    talisman = TalismanSettings.of(app)
    routes = guard_routes(app)
    if talisman is None:
        return routes
    return [_with_talisman(app, talisman, route) for route in routes]


def guard_routes(app: Flask) -> list[RoutePolicy]:
    """What the guard (or the marks, without one) does with each rule."""
    guard = app_guard(app)
    return [_route(guard, rule) for rule in sorted_rules(app)]


def statuses(guard: Guard, decision: Decision, methods: list[str]) -> dict[str, int]:
    options = guard.options
    if decision.refuse:
        return dict.fromkeys(methods, 403)
    return {m: status_for(m, options.permanent, options.refuse_insecure_writes) for m in methods}


def _route(guard: Guard, rule: Rule) -> RoutePolicy:
    methods = rule_methods(rule)

    def entry(policy: str, reason: str, codes: Any = None, examples: Any = ()) -> RoutePolicy:
        return RoutePolicy(
            rule.rule, rule.endpoint, methods, policy, codes or {}, reason, list(examples)
        )

    unguarded = guard.extension is None
    if not guard.is_active():
        return entry(
            "not guarded", "no HTTPSGuard" if unguarded else "guard inactive (disabled or debug)"
        )
    examples = RuleExamples(guard, rule)
    samples = examples.typical()
    for skip in guard.options.skips:
        example = examples.under(skip)
        if example is not None and example not in samples:
            samples.append(example)
    decided = [(ex.path, guard.policy.decide(rule.endpoint, ex.path_info)) for ex in samples]
    guarded = [decision for _, decision in decided if decision.guarded]
    if not guarded:
        decision = decided[0][1]
        if unguarded and not decision.explicit:
            return entry("not guarded", "no HTTPSGuard")
        return entry("exempt" if decision.explicit else "not guarded", decision.reason)
    decision = guarded[0]
    if unguarded and not enforced(guard.app, rule.endpoint):
        reason = (
            f"{decision.reason}, not enforced: no HTTPSGuard and the mark does not enforce itself"
        )
        return entry("not guarded", reason)
    reason = f"{decision.reason}, default options" if unguarded else decision.reason
    codes = statuses(guard, decision, methods)
    if guard.options.report_only:
        would = "/".join(str(code) for code in sorted(set(codes.values())))
        return entry("report only", f"{reason}; report_only, would get {would}")
    skipped = [(path, d) for path, d in decided if not d.guarded and d.explicit]
    if skipped:
        by = first_few(list(dict.fromkeys(d.reason for _, d in skipped)))
        paths = [path for path, _ in skipped]
        reason = f"{reason}; exempt by {by} (e.g. {first_few(paths)})"
        return entry("partly exempt", reason, codes, paths)
    kinds = sorted({"refuse" if code == 403 else "redirect" for code in codes.values()})
    return entry("+".join(kinds) or "redirect", reason, codes)


def _with_talisman(app: Flask, talisman: TalismanSettings, route: RoutePolicy) -> RoutePolicy:
    """``route`` with what Talisman adds where the guard serves plain HTTP."""
    if route.policy not in SERVED_OVER_HTTP or not talisman.redirects(app, route.endpoint):
        return route
    if route.policy == "partly exempt":
        reason = (
            f"{route.reason}; Flask-Talisman's force_https redirects those with {talisman.status}"
        )
        codes = route.statuses
    else:
        reason = f"Flask-Talisman force_https (the guard: {route.policy}, {route.reason})"
        codes = dict.fromkeys(route.methods, talisman.status)
    return RoutePolicy(route.rule, route.endpoint, route.methods, "redirect", codes, reason)
