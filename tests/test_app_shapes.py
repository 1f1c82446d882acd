"""Property test: random app shapes, the guard's answer against an oracle.

Hypothesis builds small Flask apps: a guard in global mode, in per-view mode
or none at all; ``skips``; views on the app or on blueprints nested up to
three deep (``parent.register_blueprint(child)``); plain functions, ``View``
and ``MethodView`` classes; each view and each blueprint unmarked,
``@require_https``, ``@require_https(refuse=True)`` or ``@exempt_https``
(marks below the route decorator, or with a guard also above it; blueprints
and classes marked before they are registered, so that marks also hold
without a guard).

The oracle is the documented rule (docs/per-view.rst, "Which mark wins"): the
view's own mark, else its innermost marked blueprint's, else (with a guard) a
matching skip, else the mode's default. It is written here from the docs,
without the library's policy code.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from typing import Optional

from flask import Blueprint, Flask
from flask.views import MethodView, View
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flask_https_guard import HTTPSGuard, exempt_https, require_https

HSTS = "Strict-Transport-Security"
HSTS_VALUE = "max-age=31536000"
HOST = "app.test"  # not localhost: localhost gets no HSTS by design
METHODS = ["GET", "HEAD", "POST"]
MARKS = [None, "require", "refuse", "exempt"]
MODES = ["global", "per-view", "none"]
# Segments chosen so that skips can match whole segments or only a prefix of
# one ("a" must not skip "/ab").
SEGMENTS = ["a", "ab", "p", "pq"]

# The bounded run keeps to 60 shapes (each sends a few dozen requests);
# HYPOTHESIS_PROFILE=deep runs as many as the profile says.
EXAMPLES = (
    60
    if os.environ.get("HYPOTHESIS_PROFILE", "default") == "default"
    else settings.default.max_examples
)


# --- the shape ------------------------------------------------------------------


@dataclass
class BlueprintShape:
    name: str
    parent: Optional[int]  # index of the parent blueprint, None for the app
    prefix: Optional[str]  # "/p" or None
    mark: Optional[str]


@dataclass
class ViewShape:
    name: str
    owner: Optional[int]  # index of its blueprint, None for the app
    rule: str  # "/a" or "/a/pq"
    mark: Optional[str]
    kind: str  # "function", "View", "MethodView"
    # The mark above the route decorator (only with a guard, which reads it
    # wherever it is; without one only a mark below the route enforces itself).
    above: bool = False


@dataclass
class Shape:
    mode: str
    skips: list[str]
    guard_first: bool  # HTTPSGuard(app) before the routes, or after
    blueprints: list[BlueprintShape]
    views: list[ViewShape]
    extra_paths: list[str] = field(default_factory=list)

    def chain(self, owner: Optional[int]) -> list[BlueprintShape]:
        """The blueprints of a view, outermost first."""
        chain = []
        while owner is not None:
            chain.append(self.blueprints[owner])
            owner = self.blueprints[owner].parent
        return chain[::-1]

    def path(self, view: ViewShape) -> str:
        return "".join(bp.prefix or "" for bp in self.chain(view.owner)) + view.rule

    def endpoint(self, view: ViewShape) -> str:
        return ".".join([*(bp.name for bp in self.chain(view.owner)), view.name])

    def depth(self, index: int) -> int:
        return len(self.chain(index))


path_rule = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=2).map(
    lambda parts: "/" + "/".join(parts)
)
# Mostly the short segments, so that "a" meets "/ab" and "p" meets "/pq".
skip = st.tuples(
    st.lists(st.sampled_from(["a", "p", "a", "p", "ab"]), min_size=1, max_size=2),
    st.booleans(),
    st.booleans(),
).map(lambda t: ("/" if t[1] else "") + "/".join(t[0]) + ("/" if t[2] else ""))


@st.composite
def shapes(draw) -> Shape:
    mode = draw(st.sampled_from(MODES))
    skips = draw(st.lists(skip, max_size=2)) if mode != "none" else []
    blueprints: list[BlueprintShape] = []
    for index in range(draw(st.sampled_from([0, 1, 2, 2, 3, 3]))):
        # Parents are earlier blueprints at most two deep: up to three levels.
        # Mostly nested under the one made just before, which makes chains, so
        # that marks meet the marks of outer blueprints.
        parents = [i for i in range(index) if len(_chain(blueprints, i)) < 3]
        choices = [None, *parents, *parents[-1:] * 3]
        blueprints.append(
            BlueprintShape(
                name=f"bp{index}",
                parent=draw(st.sampled_from(choices)),
                prefix=draw(st.one_of(st.none(), st.sampled_from(SEGMENTS).map("/".__add__))),
                mark=draw(st.sampled_from(MARKS)),
            )
        )
    views = []
    paths = set()
    depths = [len(_chain(blueprints, i)) for i in range(len(blueprints))]
    deepest = [i for i, d in enumerate(depths) if d == max(depths, default=0)]
    owners = [None, *range(len(blueprints)), *deepest * 2]
    shape = Shape(mode, skips, draw(st.booleans()), blueprints, views)
    for index in range(draw(st.integers(1, 4))):
        view = ViewShape(
            name=f"v{index}",
            # Innermost blueprints preferred: the precedence of marks is decided there.
            owner=draw(st.sampled_from(owners)),
            rule=draw(path_rule),
            mark=draw(st.sampled_from(MARKS)),
            kind=draw(st.sampled_from(["function", "function", "View", "MethodView"])),
        )
        view.above = view.kind == "function" and mode != "none" and draw(st.booleans())
        if shape.path(view) not in paths:  # one view per URL: no routing ambiguity
            paths.add(shape.path(view))
            views.append(view)
    # A few paths that may be routed or not (404s take the skip or the default).
    shape.extra_paths = draw(st.lists(path_rule, max_size=2))
    return shape


def _chain(blueprints, index):
    chain = []
    while index is not None:
        chain.append(index)
        index = blueprints[index].parent
    return chain


# --- building the app -------------------------------------------------------------


def mark(target, name: Optional[str]):
    """Apply a mark as an app would: the decorator on the function, class or blueprint."""
    if name == "require":
        return require_https(target)
    if name == "refuse":
        return require_https(refuse=True)(target)
    if name == "exempt":
        return exempt_https(target)
    return target


def make_view(view: ViewShape, calls: dict[str, int]):
    body = f"body of {view.name}"

    def run():
        calls[view.name] += 1
        return body

    if view.kind == "View":
        cls = type(
            f"{view.name}_view",
            (View,),
            {
                "methods": ["GET", "POST"],
                "dispatch_request": lambda self, **kwargs: run(),
            },
        )
        return mark(cls, view.mark).as_view(view.name)
    if view.kind == "MethodView":
        cls = type(
            f"{view.name}_view",
            (MethodView,),
            {
                "get": lambda self, **kwargs: run(),
                "post": lambda self, **kwargs: run(),
            },
        )
        return mark(cls, view.mark).as_view(view.name)

    def handler():
        return run()

    handler.__name__ = view.name
    if view.above:
        return handler  # marked once registered, by build()
    return mark(handler, view.mark)  # below the route: applied to the function first


def build(shape: Shape) -> tuple[Flask, dict[str, int]]:
    app = Flask(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = True  # an error reaches the test, not a 500

    def install_guard():
        if shape.mode == "global":
            HTTPSGuard(app, skips=shape.skips or None)
        elif shape.mode == "per-view":
            HTTPSGuard(app, global_mode=False, skips=shape.skips or None)

    if shape.guard_first:
        install_guard()
    # Blueprints are marked as they are made: before anything registers them.
    blueprints = [
        mark(Blueprint(bp.name, __name__, url_prefix=bp.prefix), bp.mark) for bp in shape.blueprints
    ]
    calls = {view.name: 0 for view in shape.views}
    for view in shape.views:
        owner = app if view.owner is None else blueprints[view.owner]
        view_func = make_view(view, calls)
        owner.add_url_rule(
            view.rule, endpoint=view.name, view_func=view_func, methods=["GET", "POST"]
        )
        if view.above:
            mark(view_func, view.mark)  # @mark over @route: marks the registered function
    # Children into parents first (deepest first), then the top level into the app.
    order = sorted(range(len(shape.blueprints)), key=shape.depth, reverse=True)
    for index in order:
        parent = shape.blueprints[index].parent
        (app if parent is None else blueprints[parent]).register_blueprint(blueprints[index])
    if not shape.guard_first:
        install_guard()
    return app, calls


# --- the oracle -------------------------------------------------------------------


def effective_mark(shape: Shape, view: Optional[ViewShape]) -> Optional[str]:
    """The view's own mark, else its innermost marked blueprint's."""
    if view is None:
        return None
    if view.mark is not None:
        return view.mark
    for bp in reversed(shape.chain(view.owner)):
        if bp.mark is not None:
            return bp.mark
    return None


def skipped(shape: Shape, path: str) -> bool:
    """A skip matches whole leading path segments."""
    segments = path.strip("/").split("/")
    for prefix in shape.skips:
        wanted = prefix.strip("/").split("/")
        if segments[: len(wanted)] == wanted:
            return True
    return False


def expected_policy(shape: Shape, view: Optional[ViewShape], path: str) -> str:
    """'served', 'redirect' or 'refuse' for a plain-HTTP request."""
    found = effective_mark(shape, view)
    if found == "exempt":
        return "served"
    if found == "require":
        return "redirect"
    if found == "refuse":
        return "refuse"
    if shape.mode == "none":
        return "served"
    if skipped(shape, path):
        return "served"
    return "redirect" if shape.mode == "global" else "served"


def expects_hsts(shape: Shape, view: Optional[ViewShape]) -> bool:
    """On https: any response of an app with a guard; without one, a marked view's."""
    if shape.mode != "none":
        return True
    return effective_mark(shape, view) in ("require", "refuse")


# --- the property -----------------------------------------------------------------


def check_request(shape, app, calls, view, path, method, scheme):
    client = app.test_client()
    before = dict(calls)
    response = client.open(path, method=method, base_url=f"{scheme}://{HOST}")
    ran = {name for name in calls if calls[name] != before[name]}
    where = f"{method} {scheme}://{HOST}{path} on {shape}"

    assert response.status_code < 500, where
    location = response.headers.get("Location")
    if location is not None:
        # Never to another host (nor another scheme).
        assert location.startswith(f"https://{HOST}/"), (location, where)

    if scheme == "https":
        policy = "served"
    else:
        policy = expected_policy(shape, view, path)
        assert HSTS not in response.headers, where  # never over plain HTTP

    if policy == "served":
        if view is None:
            assert response.status_code == 404, (response.status_code, where)
            assert not ran, where
        else:
            assert response.status_code == 200, (response.status_code, where)
            assert ran == {view.name} and calls[view.name] == before[view.name] + 1, where
            if method != "HEAD":
                assert response.get_data(as_text=True) == f"body of {view.name}", where
        if scheme == "https":
            if expects_hsts(shape, view):
                assert response.headers.get(HSTS) == HSTS_VALUE, where
            else:
                assert HSTS not in response.headers, where
        return

    # Guarded: nothing ran.
    assert not ran, (ran, where)
    if policy == "refuse":
        assert response.status_code == 403, (response.status_code, where)
        assert location is None, where
    else:
        expected = 302 if method in ("GET", "HEAD") else 307
        assert response.status_code == expected, (response.status_code, where)
        assert location == f"https://{HOST}{path}", (location, where)


def _bps(*specs):
    return [BlueprintShape(f"bp{i}", *spec) for i, spec in enumerate(specs)]


def _views(*specs):
    return [ViewShape(f"v{i}", *spec) for i, spec in enumerate(specs)]


# The corners, always run: an inner blueprint's mark against the outer ones',
# a view's mark against its blueprints', skips on whole segments only ("a"
# skips "/a/p", not "/ab"), a mark against a matching skip.
CHAIN = _bps((None, "/p", "require"), (0, "/a", "exempt"), (1, "/ab", "refuse"))


@settings(max_examples=EXAMPLES)
@example(
    Shape(
        "global",
        ["a"],
        False,
        [],
        _views(
            (None, "/ab", None, "function"),
            (None, "/a/p", None, "View"),
            (None, "/p", "exempt", "MethodView"),
        ),
        ["/a/ab", "/ab/a"],
    )
)
@example(
    Shape(
        "per-view",
        ["/p/"],
        True,
        CHAIN,
        _views(
            (1, "/p", None, "function"),
            (2, "/a", None, "function"),
            (0, "/ab", "exempt", "MethodView"),
            (2, "/pq", "require", "View"),
        ),
    )
)
@example(
    Shape(
        "none",
        [],
        True,
        CHAIN,
        _views(
            (1, "/p", None, "function"),
            (2, "/a", None, "View"),
            (1, "/pq", "require", "function"),
            (0, "/a", None, "MethodView"),
        ),
    )
)
@example(
    Shape(
        "global",
        ["p"],
        True,
        _bps((None, None, "exempt"), (0, "/p", "require")),
        _views(
            (1, "/a", None, "function"),
            (None, "/pq", None, "function"),
            (None, "/p/ab", None, "function"),
        ),
        ["/p/a/b", "/pq/p"],
    )
)
@given(shape=shapes())
def test_guard_answers_every_app_shape_as_the_documented_rule_says(shape):
    app, calls = build(shape)
    by_path = {shape.path(view): view for view in shape.views}
    paths = [*by_path, *(p for p in shape.extra_paths if p not in by_path)]
    for path, method, scheme in itertools.product(paths, METHODS, ["http", "https"]):
        check_request(shape, app, calls, by_path.get(path), path, method, scheme)
