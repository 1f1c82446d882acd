"""``route_policies``: what a plain-HTTP request to each URL rule gets.

The guard's policy is asked about example paths of each rule (see
:mod:`.rule_paths`), the same call a request makes, so the listing cannot
drift from what requests get. A rule some of whose paths a ``skips`` entry
covers is "partly exempt"; a Flask-Talisman that redirects what the guard
serves is counted on top.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from flask import Flask
from werkzeug.routing import Rule

from ..policy import Decision
from ..state import GuardState, guard_state
from .findings import first_few
from .route_policy import RoutePolicy, route_methods, sorted_rules
from .rule_paths import RulePaths, request_path, skip_forms
from .talisman import TalismanSettings
from .unguarded import unguarded_route


def route_policies(app: Flask) -> list[RoutePolicy]:
    """One entry per URL rule, sorted by rule.

    Works on an app without a guard too: there, views whose
    ``@require_https`` enforces itself are redirected with the defaults. A
    Flask-Talisman on the app is counted where it redirects what the guard
    serves.
    """
    talisman = TalismanSettings.of(app)
    routes = guard_routes(app)
    if talisman is None:
        return routes
    return [talisman.overlay(app, route) for route in routes]


def guard_routes(app: Flask) -> list[RoutePolicy]:
    """What the guard (or the marks, without one) does with each rule."""
    state = guard_state(app)
    if state is None:
        return [unguarded_route(app, rule) for rule in sorted_rules(app)]
    skips = SkipIndex(state.options.skips)
    return [_guarded_route(app, state, skips, rule) for rule in sorted_rules(app)]


class SkipIndex:
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


def _guarded_route(app: Flask, state: GuardState, skips: SkipIndex, rule: Rule) -> RoutePolicy:
    methods = route_methods(rule)
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
    guarded = [decision for _, decision in samples if decision.guarded]
    served = [(path, decision) for path, decision in samples if not decision.guarded]
    if not guarded:
        decision = served[0][1]
        policy = "exempt" if decision.exempt else "not guarded"
        return RoutePolicy(rule.rule, rule.endpoint, methods, policy, {}, decision.reason)
    reason = guarded[0].reason
    statuses = {method: state.status_for(method) for method in methods}
    if state.options.report_only:
        would = "/".join(str(code) for code in sorted(set(statuses.values())))
        reason = f"{reason}; report_only, would get {would}"
        return RoutePolicy(rule.rule, rule.endpoint, methods, "report only", {}, reason)
    skipped = [(path, decision) for path, decision in served if decision.exempt]
    if skipped:
        skipped_by = list(dict.fromkeys(decision.reason for _, decision in skipped))
        examples = [path for path, _ in skipped]
        reason = f"{reason}; exempt by {first_few(skipped_by)} (e.g. {first_few(examples)})"
        return RoutePolicy(
            rule.rule, rule.endpoint, methods, "partly exempt", statuses, reason, examples
        )
    kinds = {"reject" if status == 403 else "redirect" for status in statuses.values()}
    policy = "+".join(sorted(kinds)) or "redirect"
    return RoutePolicy(rule.rule, rule.endpoint, methods, policy, statuses, reason)


def _decisions_for_examples(
    app: Flask, state: GuardState, skips: SkipIndex, rule: Rule
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
