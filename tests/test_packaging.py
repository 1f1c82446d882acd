"""The source release: one version, a complete sdist whose own tests run.

The sdist is built as a release is (``python -m build --sdist``, in an
isolated environment). It must carry every file the test suite imports or
reads, and its tests must collect and pass from the unpacked folder. Building
needs the ``build`` package: without it this module skips, except under
CI=true, where it fails (CI must check the release).
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import flask_https_guard

ROOT = Path(__file__).resolve().parent.parent
VERSION = flask_https_guard.__version__

# What the sdist must carry besides the package: the test suite and what it
# reads (tests/test_docs.py reads the README, .ci/ and noxfile.py; the docs
# pages run in tests/test_docs_pages.py; examples/ and benchmarks/ are run).
SHIPPED_FOLDERS = (".ci", "tests", "examples", "benchmarks", "docs")
SHIPPED_FILES = (
    "README.md",
    "CHANGELOG.md",
    "BENCHMARKS.md",
    "LICENSE",
    "setup.cfg",
    "pyproject.toml",
    "MANIFEST.in",
    "noxfile.py",
    "ruff.toml",
)
NOT_SOURCE = re.compile(r"(^|/)(__pycache__|\.pytest_cache|\.hypothesis|_build)(/|$)|\.py[cod]$")

# A quick run from the unpacked sdist: the tests that read the shipped files
# (README, .ci/, noxfile.py, docs/, examples/) rather than only the package.
QUICK_TESTS = ("tests/test_docs.py", "tests/test_messages.py", "tests/test_examples.py")


def source_files(root: Path) -> set[str]:
    """The project's files as a release sees them: git's (tracked or not ignored) in a
    checkout, else (in an unpacked sdist) what is on disk."""
    listed = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True
    )
    if listed.returncode == 0 and Path(listed.stdout.strip()).resolve() == root:
        files = subprocess.run(
            ["git", "-C", str(root), "ls-files", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        files = [name for name in files if (root / name).is_file()]  # not deleted in the tree
    else:
        files = [path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()]
    return {name for name in files if not NOT_SOURCE.search(name)}


def files_the_tests_import(root: Path) -> set[str]:
    """tests/<module>.py for every module of the suite that a test file imports."""
    needed = set()
    for test_file in (root / "tests").glob("*.py"):
        for node in ast.walk(ast.parse(test_file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                package = "tests" if node.level == 1 else node.module or ""
                inside = "" if node.level == 1 else package
                if node.level > 1 or not (package == "tests" or package.startswith("tests.")):
                    continue
                if node.level == 1 and node.module:
                    modules = [node.module]
                elif inside.startswith("tests."):
                    modules = [inside.split(".", 1)[1]]
                else:  # from . import x, from tests import x
                    modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                modules = [
                    alias.name.split(".", 1)[1]
                    for alias in node.names
                    if alias.name.startswith("tests.")
                ]
            else:
                continue
            needed.update(f"tests/{module.split('.')[0]}.py" for module in modules)
    return needed


def required_build() -> None:
    try:
        import build  # noqa: F401
    except ImportError:
        reason = "the `build` package is not installed (it belongs in the test extra)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}, and CI must build and check the sdist")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    required_build()
    outdir = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(outdir), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (archive,) = outdir.glob("*.tar.gz")
    return archive


@pytest.fixture(scope="module")
def members(sdist: Path) -> set[str]:
    with tarfile.open(sdist) as archive:
        return {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}


@pytest.fixture(scope="module")
def unpacked(sdist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(sdist) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(target, filter="data")
        else:  # Python before the extraction filters (3.9.16, 3.10.11, 3.11.3)
            archive.extractall(target)  # our own archive
    (folder,) = target.iterdir()
    return folder


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The unpacked package comes first on the path, so its tests run against
    # its own code (the installed pytest plugin included).
    env = {**os.environ, "PYTHONPATH": str(folder)}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_sdist_is_named_after_the_one_version(sdist: Path, unpacked: Path) -> None:
    assert sdist.name == f"flask_https_guard-{VERSION}.tar.gz"
    info = (unpacked / "PKG-INFO").read_text(encoding="utf-8")
    assert f"\nVersion: {VERSION}\n" in info


def test_the_sdist_carries_the_test_suite_and_everything_it_reads(members: set[str]) -> None:
    wanted = {
        name
        for name in source_files(ROOT)
        if name.split("/", 1)[0] in SHIPPED_FOLDERS or name in SHIPPED_FILES
    }
    wanted |= files_the_tests_import(ROOT)
    assert {"tests/conftest.py", "tests/helpers.py", "tests/servers.py"} <= wanted
    missing = sorted(wanted - members)
    assert not missing, f"MANIFEST.in leaves out {missing}"
    assert not [name for name in members if NOT_SOURCE.search(name)]


def test_the_unpacked_sdists_tests_all_collect(unpacked: Path) -> None:
    result = run_pytest(unpacked, "--collect-only", "-q")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    collected = {line.split("::", 1)[0] for line in result.stdout.splitlines() if "::" in line}
    test_files = {f"tests/{path.name}" for path in (unpacked / "tests").glob("test_*.py")}
    assert test_files <= collected, sorted(test_files - collected)


def test_the_unpacked_sdists_quick_tests_pass(unpacked: Path) -> None:
    result = run_pytest(unpacked, "-q", *QUICK_TESTS)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout.splitlines()[-1]


def test_the_version_lives_in_one_place() -> None:
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg", encoding="utf-8")
    assert setup["metadata"]["version"] == "attr: flask_https_guard.__version__"
    assert "version" not in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "release = flask_https_guard.__version__" in (ROOT / "docs" / "conf.py").read_text()
    # The changelog's first section is the coming (or just released) version.
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (.+)$", changelog, flags=re.M)
    assert re.fullmatch(rf"{re.escape(VERSION)} \((unreleased|\d{{4}}-\d\d-\d\d)\)", sections[0])
    assert len(sections) == len(set(sections)), "one section per version"


def test_the_supported_versions_page_states_what_ci_tests() -> None:
    page = (ROOT / "docs" / "releasing.rst").read_text(encoding="utf-8")
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    pythons = re.findall(r'"(3\.\d+)"', re.search(r"^PYTHONS = \[(.*)\]$", noxfile, re.M).group(1))
    flasks = re.findall(r'^    "(\d\.\d+)": \[', noxfile, flags=re.M)
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg", encoding="utf-8")
    classifiers = re.findall(r"Python :: (3\.\d+)$", setup["metadata"]["classifiers"], flags=re.M)
    assert classifiers == pythons
    assert setup["options"]["python_requires"] == f">={pythons[0]}"
    assert f"Flask>={flasks[0]}" in setup["options"]["install_requires"]
    python_table, flask_table = page.split(".. list-table:: Flask", 1)
    page_pythons = re.findall(r"^   \* - (3\.\d+)$", python_table, flags=re.M)
    page_flasks = re.findall(r"^   \* - (\d\.\d+(?:\.dev)?)$", flask_table, flags=re.M)
    assert page_pythons == pythons
    assert page_flasks == [*flasks, "3.2.dev"]
    assert f"``python_requires = >={pythons[0]}``" in page
    assert f"``Flask>={flasks[0]}``" in page
