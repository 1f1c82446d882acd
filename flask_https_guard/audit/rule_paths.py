"""Example request paths for a URL rule, for the route audit.

A rule such as ``/<section>/submit`` stands for many paths, and ``skips``
can cover some of them (``/public/submit``) but not others. The audit does
not guess how skips match: it builds concrete paths, checks with the app's
own URL map that each one reaches the rule, and asks the guard's policy
about each, in the form a real request hands it (``PATH_INFO``: the URL's
bytes, percent-decoded, as latin-1 text, per WSGI).

>>> from flask import Flask
>>> app = Flask(__name__)
>>> app.add_url_rule("/<section>/submit", "submit", methods=["POST"])
>>> rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "submit")
>>> paths = RulePaths(app, rule)
>>> paths.typical()[0]
'/sample/submit'
>>> paths.under("/public")
'/public/submit'
>>> paths.under("/public/submit/more") is None
True
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Optional, Union
from urllib.parse import unquote

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter, RoutingException, Rule, parse_converter_args

# A variable in a rule's text: <name>, <converter:name>, <converter(args):name>.
_VARIABLE = re.compile(
    r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<arguments>.*?)\))?:)?"
    r"(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>"
)
# Values tried for a variable, kept when its converter's pattern takes them.
_EXAMPLE_VALUES = (
    "sample",
    "1",
    "2",
    "1.5",
    "00000000-0000-0000-0000-000000000001",
    "x",
    "sample-2",
)
_TYPICAL_CHOICES = 3


@dataclass(frozen=True)
class _Variable:
    pattern: str
    #: True for converters that match "/" too (``path``).
    spans_segments: bool
    examples: tuple[str, ...]

    def example(self, choice: int) -> str:
        return self.examples[min(choice, len(self.examples) - 1)]


_Token = Union[str, _Variable]
_Segment = list[_Token]


def request_path(path: str) -> str:
    """``path`` as a WSGI server puts it in ``PATH_INFO``.

    >>> request_path("/café")
    '/cafÃ©'
    """
    return path.encode("utf-8").decode("latin-1")


def skip_forms(skip: str) -> list[str]:
    """The URL paths a skip could have been meant as: as written,
    percent-decoded, or decoded from the latin-1 text of ``PATH_INFO``."""
    forms = [skip]
    decoders = (
        lambda text: unquote(text, errors="strict"),
        lambda text: text.encode("latin-1").decode("utf-8"),
    )
    for decode in decoders:
        with contextlib.suppress(UnicodeError):
            forms.append(decode(skip))
    return list(dict.fromkeys(forms))


class RulePaths:
    """Concrete paths that the app routes to ``rule``."""

    def __init__(self, app: Flask, rule: Rule) -> None:
        self._rule = rule
        self._segments = _segments(app, rule.rule)
        self._adapter = _adapter_for(app, rule)
        # HEAD and OPTIONS come with every GET rule; they would find the wrong one.
        own_methods = sorted(set(rule.methods or ()) - {"HEAD", "OPTIONS"})
        self._methods = own_methods or sorted(rule.methods or {"GET"})

    @property
    def first_segment(self) -> Optional[str]:
        """The rule's first path segment when it is fixed text, else None."""
        first = self._segments[0]
        if len(first) == 1 and isinstance(first[0], str):
            return first[0]
        return None if first else ""

    def typical(self) -> list[str]:
        """A few paths of the rule, with different values in its variables.

        Paths the URL map routes elsewhere are left out; if none is left, the
        first one is returned anyway, so the caller always has an example.
        """
        paths = list(
            dict.fromkeys(
                "/" + "/".join(_render(segment, choice) for segment in self._segments)
                for choice in range(_TYPICAL_CHOICES)
            )
        )
        routed = [path for path in paths if self._routes_here(path)]
        return routed or paths[:1]

    def under(self, prefix: str) -> Optional[str]:
        """A path of the rule that is ``prefix`` or lies below it, if any.

        ``prefix`` is whole segments (``/health`` covers ``/health`` and
        ``/health/x``, never ``/health5``).
        """
        wanted = prefix.strip("/").split("/")
        segments = self._segments
        for index, prefix_segment in enumerate(wanted):
            if index >= len(segments):
                return None
            segment = segments[index]
            if any(isinstance(t, _Variable) and t.spans_segments for t in segment):
                return self._under_spanning(wanted, index)
            if not re.fullmatch(_segment_pattern(segment), prefix_segment):
                return None
        rest = "".join("/" + _render(segment, 0) for segment in segments[len(wanted) :])
        path = "/" + "/".join(wanted) + rest
        return path if self._routes_here(path) else None

    def _under_spanning(self, wanted: list[str], index: int) -> Optional[str]:
        # From a `path` variable on, one rule segment may take several of
        # the prefix's; try the tails the rest of the rule can end with.
        segments = self._segments
        pattern = "/".join(_segment_pattern(segment) for segment in segments[index:])
        inside = "/".join(wanted[index:])
        tails = [""]
        if index + 1 < len(segments):
            tails.append("".join("/" + _render(s, 0) for s in segments[index + 1 :]))
        tails.append("".join("/" + _render(s, 0) for s in segments[index:]))
        for tail in tails:
            if re.fullmatch(pattern, inside + tail):
                path = "/" + "/".join(wanted) + tail
                if self._routes_here(path):
                    return path
        return None

    def _routes_here(self, path: str) -> bool:
        """Whether a request for ``path`` with one of the rule's methods reaches it."""
        if self._adapter is None:
            return True
        for method in self._methods:
            try:
                matched, _ = self._adapter.match(path, method=method, return_rule=True)
            except (HTTPException, RoutingException):
                continue
            if matched is self._rule:
                return True
        return False


def _adapter_for(app: Flask, rule: Rule) -> Optional[MapAdapter]:
    # None when the rule's host or subdomain has variables: the paths are
    # then used without checking them against the URL map.
    url_map = app.url_map
    if url_map.host_matching:
        host = rule.host or ""
        return None if "<" in host else url_map.bind(host)
    if "<" in (rule.subdomain or ""):
        return None
    server_name = app.config.get("SERVER_NAME") or "localhost"
    return url_map.bind(server_name, subdomain=rule.subdomain or None)


def _segments(app: Flask, text: str) -> list[_Segment]:
    """The rule's path split into segments of fixed text and variables."""
    segments: list[_Segment] = []
    current: _Segment = []
    position = 0

    def add_text(fixed: str) -> None:
        nonlocal current
        parts = fixed.split("/")
        if parts[0]:
            current.append(parts[0])
        for part in parts[1:]:
            segments.append(current)
            current = [part] if part else []

    for match in _VARIABLE.finditer(text):
        add_text(text[position : match.start()])
        current.append(_variable(app, match.group("converter"), match.group("arguments")))
        position = match.end()
    add_text(text[position:])
    segments.append(current)
    # The text starts with "/": the first, empty segment is before it.
    return segments[1:] if len(segments) > 1 and not segments[0] else segments


def _variable(app: Flask, converter_name: Optional[str], arguments: Optional[str]) -> _Variable:
    converter_class = app.url_map.converters[converter_name or "default"]
    args, kwargs = parse_converter_args(arguments) if arguments else ((), {})
    converter = converter_class(app.url_map, *args, **kwargs)
    pattern = converter.regex
    candidates = [str(arg) for arg in args] + list(_EXAMPLE_VALUES)
    examples = tuple(value for value in candidates if re.fullmatch(pattern, value))
    return _Variable(pattern, not converter.part_isolating, examples or ("sample",))


def _segment_pattern(segment: _Segment) -> str:
    return "".join(
        re.escape(token) if isinstance(token, str) else f"(?:{token.pattern})" for token in segment
    )


def _render(segment: _Segment, choice: int) -> str:
    return "".join(token if isinstance(token, str) else token.example(choice) for token in segment)
