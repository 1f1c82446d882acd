"""Which plain-HTTP requests the guard answers, and with which status.

Precedence: the view's mark, its blueprints' (inner first), ``skips``, the
mode's default. Neither the number of skips nor the path length adds cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .marks import DECORATOR_NAMES, EXEMPT, REFUSE, own_mark, view_mark

#: Redirected with 302/301; every other method gets 307/308 so that the method
#: and the body survive (RFC 9110 15.4).
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: Methods that ``refuse_insecure_writes`` still redirects.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Decision:
    """What a plain-HTTP request to an endpoint gets, and why.

    Receivers of :data:`~flask_https_guard.insecure_request` get one.
    """

    #: True when a plain-HTTP request is redirected (or refused).
    guarded: bool
    #: Why: ``"global mode"``, ``"@require_https"``, ``"blueprint 'api'"``, ...
    reason: str
    #: True when a mark or a skip decided, False for the mode's default.
    explicit: bool = True
    #: True when the answer is 403 instead of a redirect (``refuse=True``).
    refuse: bool = False


GLOBAL_MODE = Decision(True, "global mode", explicit=False)
NOT_MARKED = Decision(False, "unmarked, per-view", explicit=False)


def decision_for_mark(mark: str, reason: str) -> Decision:
    return Decision(mark != EXEMPT, reason, refuse=mark == REFUSE)


def status_for(method: str, permanent: bool, refuse_writes: bool = False) -> int:
    """302/301 for GET and HEAD, 307/308 otherwise; 403 for a write ``refuse_writes`` refuses."""
    if method in SAFE_METHODS:
        return 301 if permanent else 302
    if refuse_writes and method not in READ_METHODS:
        return 403
    return 308 if permanent else 307


class Policy:
    """The decisions of one app."""

    def __init__(self, app: Any, global_mode: bool, skips: tuple[str, ...]) -> None:
        self.app = app
        self.default = GLOBAL_MODE if global_mode else NOT_MARKED
        # PATH_INFO arrives as WSGI gives it, the bytes decoded as latin-1: a
        # skip such as "/café" is compared in that form.
        self.skips = {
            prefix.encode().decode("latin-1"): Decision(False, f"skip prefix '{prefix}'")
            for prefix in skips
        }
        self._longest = max(map(len, self.skips), default=0)
        self._by_endpoint: dict[Optional[str], Optional[Decision]] = {}

    def decide(self, endpoint: Optional[str], path: str) -> Decision:
        """The decision for a request to ``endpoint`` (None if unrouted) at ``path``."""
        try:
            marked = self._by_endpoint[endpoint]
        except KeyError:  # racing threads compute the same value
            marked = self._by_endpoint[endpoint] = self.marked(endpoint)
        if marked is not None:
            return marked
        if self.skips:
            skipped = self._matching_skip(path)
            if skipped is not None:
                return skipped
        return self.default

    def marked(self, endpoint: Optional[str]) -> Optional[Decision]:
        """The decision a mark makes for ``endpoint``: the view's, else its blueprints'."""
        if endpoint is None:
            return None
        mark = view_mark(self.app.view_functions.get(endpoint))
        if mark is not None:
            return decision_for_mark(mark, DECORATOR_NAMES[mark])
        # "outer.inner.view" belongs to "outer.inner", then "outer".
        blueprint = endpoint.rpartition(".")[0]
        while blueprint:
            mark = own_mark(self.app.blueprints.get(blueprint))
            if mark is not None:
                return decision_for_mark(mark, f"blueprint '{blueprint}'")
            blueprint = blueprint.rpartition(".")[0]
        return None

    def _matching_skip(self, path: str) -> Optional[Decision]:
        # "/health/live" is tried as "/health" and "/health/live": whole
        # segments only. Only the head a skip could cover is read, so a 256 KiB
        # path costs what a short one does.
        head = path[: self._longest + 1]
        end = head.find("/", 1)
        while end != -1:
            found = self.skips.get(head[:end])
            if found is not None:
                return found
            end = head.find("/", end + 1)
        if len(path) > self._longest + 1:
            return None
        return self.skips.get(path.rstrip("/") or path)
