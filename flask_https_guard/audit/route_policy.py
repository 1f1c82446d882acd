"""One URL rule's entry in the route audit, as plain data, and the view of
the app's URL rules that every part of the audit shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from flask import Flask
from werkzeug.routing import Rule

#: Added by Flask to every rule; listing them would only repeat GET.
_HIDDEN_METHODS = {"HEAD", "OPTIONS"}
#: Route policies under which some plain-HTTP requests are served.
SERVED_OVER_HTTP = ("exempt", "not guarded", "report only", "partly exempt")


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


def sorted_rules(app: Flask) -> list[Rule]:
    """The app's URL rules, by rule text, then endpoint."""
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


def route_methods(rule: Rule) -> list[str]:
    """The rule's methods, sorted, without HEAD and OPTIONS."""
    return sorted(set(rule.methods or ()) - _HIDDEN_METHODS)
