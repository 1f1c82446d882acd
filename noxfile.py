"""The test matrix, the linters and the packaging check (run by .ci/run).

    .venv/bin/nox                       # everything
    .venv/bin/nox -s tests              # the Python x Flask matrix
    .venv/bin/nox -s "tests-3.13(flask='3.1')"
    .venv/bin/nox -s lint package
    .venv/bin/nox -s tests_flask_dev    # Flask 3.2.dev from ../shared/wheels

Interpreters come from PATH (python3.9 ... python3.13); on machines with
pyenv, .ci/run makes its installed versions visible.
"""

from __future__ import annotations

import os
import pathlib
import tempfile

import nox

nox.options.sessions = ["tests", "tests_flask_dev", "lint", "package"]
# CI must run every combination; elsewhere a missing interpreter is skipped.
nox.options.error_on_missing_interpreters = os.environ.get("CI") == "true"

PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]
# Each Flask minor with the Werkzeug it was released with.
FLASKS = {
    "2.3": ["flask~=2.3.0", "werkzeug~=2.3.0"],
    "3.0": ["flask~=3.0.0", "werkzeug~=3.0.0"],
    "3.1": ["flask~=3.1.0", "werkzeug~=3.1.0"],
}


@nox.session(python=PYTHONS)
@nox.parametrize("flask", list(FLASKS))
def tests(session: nox.Session, flask: str) -> None:
    """The whole test suite on one Python and one Flask."""
    session.install("-e", ".[test]", *FLASKS[flask])
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs)


# Flask's development line: a wheel the package index does not have.
FLASK_DEV_WHEELS = sorted(
    pathlib.Path(__file__).parent.parent.glob("shared/wheels/flask-3.2.0.dev*.whl")
)


@nox.session(python="3.11")
def tests_flask_dev(session: nox.Session) -> None:
    """The whole test suite on Flask's development line (3.2.dev) with the newest Werkzeug."""
    if not FLASK_DEV_WHEELS:
        message = "no ../shared/wheels/flask-3.2.0.dev*.whl next to the project"
        if os.environ.get("CI") == "true":
            session.error(message)
        session.skip(message)
    session.install("-e", ".[test]")
    session.install("--upgrade", str(FLASK_DEV_WHEELS[-1]), "werkzeug>=3.1")
    session.run(
        "python", "-c", "import flask, importlib.metadata as m; print('Flask', m.version('flask'))"
    )
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check and mypy --strict."""
    session.install("-e", ".", "mypy>=1.8", "ruff>=0.6", "pytest>=7")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "--strict")


QUICK_START = """
from flask import Flask
import flask_https_guard
from flask_https_guard import HTTPSGuard

assert "site-packages" in flask_https_guard.__file__, flask_https_guard.__file__
app = Flask(__name__)
HTTPSGuard(app)

@app.get("/")
def index():
    return "ok"

response = app.test_client().get("/")
assert response.status_code == 302, response.status_code
assert response.headers["Location"] == "https://localhost/", response.headers
secure = app.test_client().get("/", base_url="https://app.test")  # no HSTS for localhost
assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
print("quick start works against", flask_https_guard.__file__)
"""


@nox.session(python="3.11")
def package(session: nox.Session) -> None:
    """Build the sdist and wheel, twine check them, run the quick start on the wheel."""
    session.install("build", "twine")
    with tempfile.TemporaryDirectory() as directory:
        session.run("python", "-m", "build", "--outdir", directory)
        built = sorted(str(path) for path in pathlib.Path(directory).iterdir())
        session.run("twine", "check", "--strict", *built)
        wheel = next(path for path in built if path.endswith(".whl"))
        session.install(wheel)
        # Run from an empty directory, so the import comes from the wheel.
        with tempfile.TemporaryDirectory() as elsewhere:
            session.chdir(elsewhere)
            session.run("python", "-c", QUICK_START)
            session.run("flask", "--app", "none_such", "https-guard", "--help", silent=True)
