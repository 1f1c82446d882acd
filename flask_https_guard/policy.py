"""Which requests the guard sends to HTTPS, and why.

The one place that decides a view's policy, used by the request hooks and by
the ``flask https-guard routes`` audit alike. Precedence, strongest first:

1. the view's own mark (``@require_https`` / ``@exempt_https``);
2. the marks of its blueprints, inner before outer;
3. the ``skips`` path prefixes;
4. the default: guarded in global mode, not guarded otherwise.

Marks are looked up once per endpoint and cached. Skips are a set of
prefixes; a path is looked up once per path segment, up to the length of the
longest skip, so the cost grows neither with the number of skips nor with
the length of the path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flask import Flask

from .marks import EXEMPT, REQUIRE, blueprint_mark, view_mark


@dataclass(frozen=True)
class Decision:
    """What an insecure request to an endpoint gets, and the reason."""

    #: True when an insecure request is redirected (or rejected).
    guarded: bool
    #: Why: "global mode", "@require_https", "blueprint 'api'", ...
    reason: str
    #: True when a mark or a skip decided, False for the mode's default.
    explicit: bool = True

    @property
    def exempt(self) -> bool:
        """Served over plain HTTP because a mark or a skip says so."""
        return self.explicit and not self.guarded


GLOBAL_MODE = Decision(True, "global mode", explicit=False)
NOT_MARKED = Decision(False, "unmarked, per-view", explicit=False)
_BY_VIEW_MARK = {
    REQUIRE: Decision(True, "@require_https"),
    EXEMPT: Decision(False, "@exempt_https"),
}


class Policy:
    """The guard's decisions for one app."""

    def __init__(self, app: Flask, global_mode: bool, skips: tuple[str, ...]) -> None:
        self._app = app
        self._default = GLOBAL_MODE if global_mode else NOT_MARKED
        # Requests reach the policy with PATH_INFO as WSGI gives it: the
        # path's bytes decoded as latin-1. A skip such as "/café" is compared
        # in that form too.
        self._skips = {
            _wsgi_form(prefix): Decision(False, f"skip prefix '{prefix}'") for prefix in skips
        }
        # A skip longer than this cannot match, so no longer prefix is built.
        self._longest_skip = max(map(len, self._skips), default=0)
        self._by_endpoint: dict[Optional[str], Optional[Decision]] = {}

    def decide(self, endpoint: Optional[str], path: str) -> Decision:
        """The decision for a request to ``endpoint`` (None if unrouted) at ``path``."""
        try:
            marked = self._by_endpoint[endpoint]
        except KeyError:
            # Racing threads may both compute this; the result is the same.
            marked = self._by_endpoint[endpoint] = self._decide_by_marks(endpoint)
        if marked is not None:
            return marked
        if self._skips:
            skipped = self._matching_skip(path)
            if skipped is not None:
                return skipped
        return self._default

    def _decide_by_marks(self, endpoint: Optional[str]) -> Optional[Decision]:
        if endpoint is None:
            return None
        mark = view_mark(self._app.view_functions.get(endpoint))
        if mark is not None:
            return _BY_VIEW_MARK[mark]
        # Endpoint "outer.inner.view" belongs to blueprints "outer.inner"
        # and "outer", the innermost first.
        blueprint_name = endpoint.rpartition(".")[0]
        while blueprint_name:
            mark = blueprint_mark(self._app.blueprints.get(blueprint_name))
            if mark is not None:
                return Decision(mark == REQUIRE, f"blueprint '{blueprint_name}'")
            blueprint_name = blueprint_name.rpartition(".")[0]
        return None

    def _matching_skip(self, path: str) -> Optional[Decision]:
        # "/health/live" is checked as "/health" and "/health/live": whole
        # segments only, so "/healthz" never matches "/health". Only the head
        # of the path that a skip could cover is read: a client's 256 KiB path
        # costs what a short one does.
        head = path[: self._longest_skip + 1]
        end = head.find("/", 1)
        while end != -1:
            decision = self._skips.get(head[:end])
            if decision is not None:
                return decision
            end = head.find("/", end + 1)
        if len(path) > self._longest_skip + 1:
            return None
        return self._skips.get(path.rstrip("/") or path)


def _wsgi_form(path: str) -> str:
    return path.encode("utf-8").decode("latin-1")
