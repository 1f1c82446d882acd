"""The README is the front door: short, and true to what CI and the docs do."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_fits_on_a_screen_or_two():
    assert len(README.encode()) < 6 * 1024


def readme_commands() -> dict[str, str]:
    """The "Try it" commands by what their comment says they are: "demo", "tests"."""
    block = re.search(r"^## Try it\n.*?```console\n(.*?)```", README, flags=re.M | re.S)
    assert block is not None, "the README no longer has its two commands"
    commands = {}
    for line in block.group(1).splitlines():
        command, _, comment = line.partition("#")
        words = re.findall(r"\w+", comment)
        commands[words[1] if words[:1] == ["the"] else comment.strip()] = command.strip()
    return commands


def test_readme_gives_one_command_for_the_demo_and_one_for_the_tests():
    commands = readme_commands()
    assert commands == {"demo": "bash examples/demo.sh", "tests": "bash .ci/test"}
    for command in commands.values():
        assert (ROOT / command.split()[1]).is_file()


def test_both_commands_install_what_they_need_on_a_fresh_clone():
    # Each makes .venv itself, so they run in either order on a fresh clone.
    test = (ROOT / ".ci" / "test").read_text()
    assert "source .ci/venv.sh test\n" in test
    assert '\nexec .venv/bin/python -m pytest "$@"\n' in test
    demo = (ROOT / "examples" / "demo.sh").read_text()
    assert "source .ci/venv.sh demo\n" in demo


def test_ci_runs_exactly_the_readme_test_command():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()["tests"] in ci_lines


def test_readme_says_what_ci_adds_and_needs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash .ci/run" in README and "CI=true" in README
    # Every package .ci/run may apt-install is named.
    for package in re.findall(r"missing\+=\(([\w-]+)\)", ci):
        assert package.removesuffix("-light") in README, package
    # The matrix as noxfile.py declares it.
    noxfile = (ROOT / "noxfile.py").read_text()
    pythons = re.search(r"^PYTHONS = \[(.*)\]", noxfile, flags=re.M).group(1)
    pythons = re.findall(r'"([\d.]+)"', pythons)
    flasks = re.findall(r'^    "([\d.]+)": \[', noxfile, flags=re.M)
    assert f"Python {pythons[0]}-{pythons[-1]}" in README
    assert f"Flask\n{'/'.join(flasks)}" in README or f"Flask {'/'.join(flasks)}" in README
    assert "3.2.dev" in README and "FLASK_DEV_WHEELS" in noxfile
    for need in ("sudo", "pyenv", "minutes"):
        assert need in README, need


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
