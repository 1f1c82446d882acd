"""Example requests for a URL rule: concrete paths of ``/<section>/submit`` that the
guard's own :meth:`~flask_https_guard.guard.Guard.route` sends to the rule's endpoint."""

from __future__ import annotations

import re
from typing import Any, NamedTuple, Optional

from werkzeug.routing import Rule, parse_converter_args
from werkzeug.test import EnvironBuilder

from ..guard import Guard
from ..location import owned_hosts

# A variable in a rule's text: <name>, <converter:name>, <converter(args):name>.
_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<arguments>.*?)\))?:)?\w+>")
# Values tried for a variable, kept when its converter's pattern takes them.
_VALUES = ("sample", "1", "2", "1.5", "00000000-0000-0000-0000-000000000001", "x", "sample-2")
_CHOICES = 3


class Example(NamedTuple):
    """A path of a rule: as the URL says it, and as ``PATH_INFO`` hands it to the guard."""

    path: str
    path_info: str


class RuleExamples:
    """Concrete paths that the guard routes to ``rule``'s endpoint."""

    def __init__(self, guard: Guard, rule: Rule) -> None:
        self.guard = guard
        self.rule = rule
        self.base_url = base_url(guard.app, rule)
        # HEAD and OPTIONS come with every GET rule; they would find the wrong one.
        self.methods = rule_methods(rule) or ["GET"]
        values = [_values(guard.app, match) for match in _VARIABLE.finditer(rule.rule)]
        self.rendered = list(
            dict.fromkeys(_render(rule.rule, values, choice) for choice in range(_CHOICES))
        )

    def typical(self) -> list[Example]:
        """A few paths with different values; at least one, even if none routes here."""
        found = [example for example in map(self.routed, self.rendered) if example is not None]
        first = self.rendered[0]
        return found or [Example(first, request_environ(self.base_url, first)["PATH_INFO"])]

    def under(self, prefix: str) -> Optional[Example]:
        """A path of the rule that is ``prefix`` (whole segments) or lies below it."""
        wanted = prefix.strip("/").split("/")
        first = self.rule.rule[1:].split("/")[0]
        if "<" not in first and first != wanted[0]:
            return None
        for text in self.rendered:
            parts = text[1:].split("/")
            tails = [parts[len(wanted) :], *(parts[start:] for start in range(len(parts), -1, -1))]
            for tail in tails:
                example = self.routed("/" + "/".join(wanted + tail))
                if example is not None:
                    return example
        return None

    def routed(self, path: str) -> Optional[Example]:
        """``path`` as an example if a request for it reaches the rule's endpoint."""
        for method in self.methods:
            environ = request_environ(self.base_url, path, method)
            if self.base_url is None or self.guard.route(environ)[1] == self.rule.endpoint:
                return Example(path, environ["PATH_INFO"])
        return None


def rule_methods(rule: Rule) -> list[str]:
    """The rule's methods, sorted, without the HEAD and OPTIONS that Flask adds."""
    return sorted(set(rule.methods or ()) - {"HEAD", "OPTIONS"})


def request_environ(base_url: Optional[str], path: str, method: str = "GET") -> dict[str, Any]:
    """The WSGI environ of a plain-HTTP request (to localhost without ``base_url``)."""
    base_url = base_url or "http://localhost"
    return EnvironBuilder(path=path, method=method, base_url=base_url).get_environ()


def base_url(app: Any, rule: Optional[Rule] = None) -> Optional[str]:
    """Where a request for ``rule`` (or the app) is sent: a host the app accepts.

    None when the rule's host or subdomain has variables: its paths are not checked.
    """
    owned = owned_hosts(app)
    host = app.config.get("SERVER_NAME") or (owned[0].lstrip(".") if owned else "localhost")
    if rule is not None and app.url_map.host_matching:
        host = rule.host
    elif rule is not None and rule.subdomain:
        host = f"{rule.subdomain}.{host}"
    return None if not host or "<" in host else f"http://{host}"


def _values(app: Any, variable: re.Match[str]) -> list[str]:
    converter_class = app.url_map.converters[variable["converter"] or "default"]
    arguments = variable["arguments"]
    args, kwargs = parse_converter_args(arguments) if arguments else ((), {})
    pattern = converter_class(app.url_map, *args, **kwargs).regex
    candidates = [str(arg) for arg in args] + list(_VALUES)
    return [value for value in candidates if re.fullmatch(pattern, value)] or ["sample"]


def _render(text: str, values: list[list[str]], choice: int) -> str:
    # Each variable takes its ``choice``-th value, or its last when it has fewer.
    chosen = iter([options[min(choice, len(options) - 1)] for options in values])
    return _VARIABLE.sub(lambda _: next(chosen), text)
