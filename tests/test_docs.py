"""The README is the front door: short, and true to what CI and the docs do."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_fits_on_a_screen_or_two():
    assert len(README.encode()) < 6 * 1024


def test_ci_runs_exactly_the_readme_test_command():
    command = re.search(r"runs the test command\n\n```console\n(.+)\n```", README)
    assert command is not None, "the README no longer names its test command"
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert command.group(1) in ci_lines


def test_ci_builds_the_docs_with_warnings_as_errors_and_runs_the_doctests():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "sphinx-build -W --keep-going -q -b html docs docs/_build/html" in ci
    assert "sphinx-build -W -q -b doctest docs docs/_build/doctest" in ci


def test_every_local_link_in_the_readme_exists():
    links = re.findall(r"\]\(([^)#]+)\)", README)
    local = [link for link in links if "://" not in link]
    assert local, "no links found"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing


def test_every_example_command_in_the_readme_exists():
    scripts = re.findall(r"^python (examples/\S+\.py)", README, flags=re.MULTILINE)
    assert scripts
    assert all((ROOT / script).is_file() for script in scripts)
    listed = {path.name for path in (ROOT / "examples").glob("*.py")}
    # The examples that show themselves on loopback (see examples/loopback.py).
    runnable = {
        name for name in listed if "    import loopback" in (ROOT / "examples" / name).read_text()
    }
    assert runnable == {pathlib.Path(script).name for script in scripts}
