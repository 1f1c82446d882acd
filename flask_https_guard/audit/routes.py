"""``route_policies``: what a plain-HTTP request to each URL rule gets, decided by the
app's own :class:`~flask_https_guard.guard.Guard` on example requests (:mod:`.paths`),
so the listing cannot drift from what requests get; a Flask-Talisman's redirects on top.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from itertools import chain
from typing import Any, Optional

from flask import Flask
from werkzeug.routing import Rule

from ..extension import default_guard
from ..guard import EXTENSION_KEY, Guard
from ..headers import hsts_value
from ..marks import enforces_itself
from ..policy import status_for
from .paths import RuleExamples, rule_methods

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


@dataclass(frozen=True)
class TalismanSettings:
    """What a Flask-Talisman installed on the same app does about https.

    Talisman registers no ``app.extensions`` entry; it adds bound methods of
    its instance as before_request and after_request functions.
    """

    force_https: bool
    #: Talisman's redirect status, the same for every method.
    status: int
    hsts: Optional[str]

    @classmethod
    def of(cls, app: Flask) -> Optional[TalismanSettings]:
        """The settings of the Talisman on ``app``, or None."""
        # Only a Talisman the app already imported can be installed on it; else (),
        # which isinstance() matches with nothing.
        talisman_class = getattr(sys.modules.get("flask_talisman"), "Talisman", ())
        hooks = chain(*app.before_request_funcs.values(), *app.after_request_funcs.values())
        owners = (getattr(hook, "__self__", None) for hook in hooks)
        talisman = next((owner for owner in owners if isinstance(owner, talisman_class)), None)
        if talisman is None:
            return None
        hsts = None
        if talisman.strict_transport_security:
            hsts = hsts_value(
                talisman.strict_transport_security_max_age,
                talisman.strict_transport_security_include_subdomains,
                talisman.strict_transport_security_preload,
            )
        return cls(bool(talisman.force_https), 301 if talisman.force_https_permanent else 302, hsts)

    def overrules(self, app: Flask, route: RoutePolicy) -> bool:
        """Whether Talisman redirects plain-HTTP requests that the guard serves."""
        if app.debug or route.policy not in SERVED_OVER_HTTP:
            return False
        view_options = getattr(app.view_functions.get(route.endpoint), "talisman_view_options", {})
        return bool(view_options.get("force_https", self.force_https))


def app_guard(app: Flask) -> Guard:
    """The app's guard; without one, the defaults its marks enforce (``extension`` None)."""
    return app.extensions.get(EXTENSION_KEY) or default_guard(app)


def sorted_rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


def first_few(items: Sequence[str], shown: int = 3) -> str:
    """The first items, comma-separated, with "..." when some are left out."""
    return ", ".join(items[:shown]) + (", ..." if len(items) > shown else "")


def status_codes(statuses: dict[str, int]) -> str:
    """The distinct statuses, sorted: "302/307" ("" for none)."""
    return "/".join(str(code) for code in sorted(set(statuses.values())))


def enforced(app: Flask, endpoint: str) -> bool:
    """Whether a mark on ``endpoint`` holds without a guard: its view's wrapper, or a
    blueprint's hook (copied to the app when the marked blueprint was registered)."""
    parts = endpoint.split(".")[:-1]  # "outer.inner.view" is in "outer.inner" and "outer"
    blueprints = (".".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    hooks = [hook for name in blueprints for hook in app.before_request_funcs.get(name, ())]
    return any(map(enforces_itself, [app.view_functions.get(endpoint), *hooks]))


def route_policies(app: Flask) -> list[RoutePolicy]:
    """One entry per URL rule, sorted; a Flask-Talisman's redirects counted on top."""
    talisman = TalismanSettings.of(app)
    routes = guard_routes(app)
    return routes if talisman is None else [_with_talisman(app, talisman, r) for r in routes]


def guard_routes(app: Flask) -> list[RoutePolicy]:
    """What the guard (or the marks, without one) does with each rule."""
    guard = app_guard(app)
    return [_route(guard, rule) for rule in sorted_rules(app)]


def _route(guard: Guard, rule: Rule) -> RoutePolicy:
    methods = rule_methods(rule)
    # The rest in RoutePolicy's order: policy, statuses, reason, exempt examples.
    entry = partial(RoutePolicy, rule.rule, rule.endpoint, methods)
    unguarded = guard.extension is None
    if not guard.is_active():
        reason = "no HTTPSGuard" if unguarded else "guard inactive (disabled or debug)"
        return entry("not guarded", {}, reason)
    examples = RuleExamples(guard, rule)
    under_skips = [examples.under(skip) for skip in guard.options.skips]
    samples = list(dict.fromkeys([*examples.typical(), *filter(None, under_skips)]))
    decided = {ex.path: guard.policy.decide(rule.endpoint, ex.path_info) for ex in samples}
    guarded = [decision for decision in decided.values() if decision.guarded]
    if not guarded:
        decision = next(iter(decided.values()))
        reason = "no HTTPSGuard" if unguarded and not decision.explicit else decision.reason
        return entry("exempt" if decision.explicit else "not guarded", {}, reason)
    decision = guarded[0]
    if unguarded and not enforced(guard.app, rule.endpoint):
        reason = (
            f"{decision.reason}, not enforced: no HTTPSGuard and the mark does not enforce itself"
        )
        return entry("not guarded", {}, reason)
    reason = f"{decision.reason}, default options" if unguarded else decision.reason
    options = guard.options
    codes = (
        dict.fromkeys(methods, 403)
        if decision.refuse
        else {m: status_for(m, options.permanent, options.refuse_insecure_writes) for m in methods}
    )
    if options.report_only:
        return entry("report only", {}, f"{reason}; report_only, would get {status_codes(codes)}")
    skipped = {path: d for path, d in decided.items() if not d.guarded and d.explicit}
    if skipped:
        by = first_few(list(dict.fromkeys(d.reason for d in skipped.values())))
        reason = f"{reason}; exempt by {by} (e.g. {first_few(list(skipped))})"
        return entry("partly exempt", codes, reason, list(skipped))
    kinds = sorted({"refuse" if code == 403 else "redirect" for code in codes.values()})
    return entry("+".join(kinds) or "redirect", codes, reason)


def _with_talisman(app: Flask, talisman: TalismanSettings, route: RoutePolicy) -> RoutePolicy:
    """``route`` with what Talisman adds where the guard serves plain HTTP."""
    if not talisman.overrules(app, route):
        return route
    status = talisman.status
    if route.policy == "partly exempt":
        reason = f"{route.reason}; Flask-Talisman's force_https redirects those with {status}"
        codes = route.statuses
    else:
        reason = f"Flask-Talisman force_https (the guard: {route.policy}, {route.reason})"
        codes = dict.fromkeys(route.methods, status)
    return RoutePolicy(route.rule, route.endpoint, route.methods, "redirect", codes, reason)
