"""The options are declared once, by HTTPSGuard's signature: config keys,
defaults, checks, the docs' table and type checkers all follow it."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from flask_https_guard import HTTPSGuard

DOCS = Path(__file__).parent.parent / "docs"


def declared() -> dict[str, inspect.Parameter]:
    parameters = inspect.signature(HTTPSGuard).parameters.values()
    return {
        p.name: p
        for p in parameters
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "reject_insecure_writes"
    }


def documented() -> list[tuple[str, str]]:
    """(option, default) rows of the table in docs/options.rst, in order."""
    text = (DOCS / "options.rst").read_text()
    table = text[text.index(".. list-table::") : text.index("The table is the signature")]
    return re.findall(r"\* - ``(\w+)``\n\s+- ``([^`]+)``", table)


def test_the_docs_table_lists_every_option_in_order_with_its_default():
    rows = documented()
    assert [name for name, _ in rows] == list(declared())
    for name, default in rows:
        assert default == repr(declared()[name].default), name


@pytest.mark.parametrize("name", list(declared()))
def test_every_option_is_a_config_key_with_the_signatures_default(name):
    app = Flask(__name__)
    HTTPSGuard(app)
    options = app.extensions["https_guard"].options
    assert options.sources[name] == "default"
    default = declared()[name].default
    # Collections come out in their final form (a tuple), None stays None.
    assert getattr(options, name) in (default, () if default is None else default)


def test_a_config_key_is_read_and_an_argument_wins_over_it():
    app = Flask(__name__)
    app.config.update(HTTPS_GUARD_HSTS_MAX_AGE=600, HTTPS_GUARD_PERMANENT=True)
    HTTPSGuard(app, permanent=False)
    options = app.extensions["https_guard"].options
    assert (options.hsts_max_age, options.sources["hsts_max_age"]) == (600, "config")
    assert (options.permanent, options.sources["permanent"]) == (False, "argument")


def test_a_misspelt_option_names_the_likeliest_one_meant():
    with pytest.raises(TypeError, match=r"'hsts_maxage'.*did you mean hsts_max_age"):
        HTTPSGuard(hsts_maxage=1)


def test_a_misspelt_config_key_names_the_likeliest_one_meant():
    app = Flask(__name__)
    app.config["HTTPS_GUARD_TRUSTED_PROXY"] = 1
    with pytest.raises(
        ValueError, match=r"HTTPS_GUARD_TRUSTED_PROXY'.*HTTPS_GUARD_TRUSTED_PROXIES"
    ):
        HTTPSGuard(app)


def test_mypy_checks_a_call_against_the_signature(tmp_path):
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent))
    if mypy is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mypy is not installed (the test extra)")
        pytest.skip("mypy is not installed (pip install -e '.[test]')")
    source = tmp_path / "call.py"
    source.write_text(
        "from flask import Flask\n"
        "from flask_https_guard import HTTPSGuard\n"
        "HTTPSGuard(Flask('x'), hsts_maxage=1)\n"
        "HTTPSGuard(Flask('x'), permanent='yes')\n"
        "HTTPSGuard(Flask('x'), trusted_proxies=1, hsts_preload=False)\n"
    )
    result = subprocess.run(
        [mypy, "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(source)],
        capture_output=True,
        text=True,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["3", "4"], result.stdout
    assert 'Unexpected keyword argument "hsts_maxage"' in errors[0]
