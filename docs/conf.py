"""Sphinx configuration for the flask_https_guard documentation.

Build: .venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html
Doctests: .venv/bin/sphinx-build -W -b doctest docs docs/_build/doctest
"""

from __future__ import annotations

import doctest
import logging
import re

import flask_https_guard

project = "flask_https_guard"
author = "flask_https_guard contributors"
copyright = "flask_https_guard contributors, MIT License"
release = flask_https_guard.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx_click",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
# Warnings are errors in CI: a broken reference must fail the build.
nitpicky = True
# Names in signatures that have no page here (no network for intersphinx):
# Flask's and Werkzeug's classes, and the decorators' type variable.
nitpick_ignore_regex = [
    ("py:class", r"(flask\.|werkzeug\.)?(Flask|FlaskClient|Request|Response|TestResponse)"),
    ("py:class", r"(flask\.|werkzeug\.).*"),
    ("py:class", r"ProxyFix"),
    ("py:class", r"(collections\.abc\.|typing\.|t\.)\w+"),
    ("py:class", r"(flask_https_guard\.decorators\.)?Markable"),
    ("py:class", r"(flask_https_guard\.options\.)?HTTPSHeader"),
    ("py:class", r"(flask_https_guard\.proxies\.)?WSGIApp"),
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
# FlaskClient.open's docstring is Werkzeug's, about Werkzeug's own types.
autodoc_inherit_docstrings = False

# No network in the build: intersphinx maps only what is cached locally.
intersphinx_mapping: dict[str, tuple[str, object]] = {}

# Every page's examples run as pasted: they import what they use, and nothing
# here adds a name to their namespace (tests/test_docs_pages.py runs each page
# in a fresh interpreter and checks this). Sphinx starts a page from an empty
# namespace; a fresh interpreter has one global, __name__, which docstrings'
# Flask(__name__) needs (without it the name would be "builtins").
doctest_global_setup = '__name__ = "__main__"'

# Sphinx ignores the message of an exception an example shows by default;
# the messages are part of what the pages promise, so they are compared too.
doctest_default_flags = doctest.ELLIPSIS | doctest.DONT_ACCEPT_TRUE_FOR_1

# Warnings an example triggers on purpose would go to stderr, into the build
# log; the pages that show a warning attach a handler of their own. This runs
# in the build process, outside the examples' namespace.
logging.getLogger("flask_https_guard").addHandler(logging.NullHandler())

html_theme = "alabaster"
html_static_path = ["_static"]
html_title = f"flask_https_guard {release}"
html_theme_options = {
    "description": "Keep Flask apps on HTTPS.",
    "fixed_sidebar": True,
}
myst_heading_anchors = 2


def _escape_lone_asterisks(app: object, ctx: object, lines: list[str]) -> None:
    """Click help is plain text; a lone ``*`` (as in "PORT may be *") would
    start reStructuredText emphasis."""
    lines[:] = [_LONE_ASTERISK.sub(r"\\*", line) for line in lines]


_LONE_ASTERISK = re.compile(r"(?<=[\s(])\*(?=[\s),.]|$)")


def setup(app: object) -> None:
    for event in ("options", "arguments", "description", "epilog"):
        app.connect(f"sphinx-click-process-{event}", _escape_lone_asterisks)  # type: ignore[attr-defined]
