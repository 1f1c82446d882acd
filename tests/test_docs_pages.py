"""Every docs page runs as pasted, and so do the README's Python snippets.

A reader copies a page's examples top to bottom into a fresh interpreter.
This test does the same: for each ``docs/*.rst`` page it takes the runnable
examples (``.. testcode::`` with its ``.. testoutput::``, ``.. doctest::``,
and the ``>>>`` examples of the docstrings that ``.. autoclass::`` and its
kin put on the page) in page order and runs them in one new Python process,
in one namespace that starts empty (``__name__ == "__main__"``, as in a
REPL).
Nothing the reader does not see runs: no ``doctest_global_setup``, no
``.. testsetup::``/``.. testcleanup::`` blocks, no ``:hide:`` blocks, and
Sphinx's doctest groups are ignored (the page is read as one). So a page
that uses a name it never imports fails here.

Output is checked as Sphinx's doctest builder checks it (its default flags:
ELLIPSIS, IGNORE_EXCEPTION_DETAIL, DONT_ACCEPT_TRUE_FOR_1): a ``testcode``
without ``testoutput`` must print nothing.

``.. code-block:: python`` blocks are illustrative fragments (they use names
such as your own ``app``); they are not run, and each starts with a comment
that says what it is a fragment of.

Each README ```python snippet goes to a different file of the reader's
project, so each runs on its own, in its own fresh process.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import json
import pathlib
import re
import subprocess
import sys
import textwrap
from dataclasses import asdict, dataclass, field
from typing import Optional

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.rst"))

# docs/conf.py's doctest_default_flags: an error message a page shows is checked too.
DEFAULT_FLAGS = doctest.ELLIPSIS | doctest.DONT_ACCEPT_TRUE_FOR_1

_DIRECTIVE = re.compile(
    r"^(?P<indent>\s*)\.\.\s+(?P<kind>testsetup|testcleanup|testcode|testoutput|doctest|code-block|code|sourcecode)::\s*(?P<arg>.*?)\s*$"
)
_AUTODOC = re.compile(
    r"^\.\.\s+auto(?P<kind>class|function|module|method|attribute|exception|data)::\s*(?P<target>\S+)"
)
_OPTION = re.compile(r"^\s*:(?P<name>[\w-]+):\s*(?P<value>.*?)\s*$")


@dataclass
class Block:
    kind: str  # testcode, testoutput, doctest, testsetup, testcleanup, code-block
    arg: str  # the group (test directives) or the language (code-block)
    line: int  # 1-based line of the directive
    code: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def hidden(self) -> bool:
        return self.kind in ("testsetup", "testcleanup") or "hide" in self.options

    def flags(self) -> int:
        flags = 0
        for word in re.findall(r"[+-]\w+", self.options.get("options", "")):
            flag = doctest.OPTIONFLAGS_BY_NAME[word[1:]]
            flags = flags | flag if word[0] == "+" else flags & ~flag
        return flags


def directive_blocks(text: str) -> list[Block]:
    """The directives of interest in ``text``, in order, bodies dedented."""
    lines = text.splitlines()
    blocks = []
    number = 0
    while number < len(lines):
        match = _DIRECTIVE.match(lines[number])
        number += 1
        if not match:
            continue
        indent = len(match["indent"])
        options: dict[str, str] = {}
        while number < len(lines) and (option := _OPTION.match(lines[number])):
            options[option["name"]] = option["value"]
            number += 1
        start = number
        body: list[str] = []
        while number < len(lines):
            line = lines[number]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            body.append(line)
            number += 1
        code = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        blocks.append(Block(match["kind"], match["arg"], start, code, options))
    return blocks


@dataclass
class Step:
    """One thing the reader runs: a testcode (with the output it should print) or a doctest."""

    kind: str  # "testcode" or "doctest"
    line: int
    code: str
    want: str = ""
    flags: int = 0


def _import(target: str) -> object:
    """The object a dotted autodoc target names."""
    parts = target.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            if split == 1:
                raise
            continue
        for name in parts[split:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(target)


def _own_doc(obj: object) -> str:
    # autodoc_inherit_docstrings = False: only the object's own docstring.
    doc = obj.__doc__ if isinstance(getattr(obj, "__doc__", None), str) else None
    return inspect.cleandoc(doc) if doc else ""


def _source_line(obj: object) -> int:
    try:
        return inspect.getsourcelines(inspect.unwrap(obj))[1]  # type: ignore[arg-type]
    except (TypeError, OSError):
        return 0


def autodoc_docstrings(target: str, options: dict[str, str]) -> list[str]:
    """The docstrings an autodoc directive puts on the page, in the order it puts them."""
    obj = _import(target)
    docs = [_own_doc(obj)]
    if "members" not in options:
        return docs
    if options["members"]:
        names = [name.strip() for name in options["members"].split(",")]
    elif inspect.ismodule(obj):
        names = getattr(obj, "__all__", None) or [
            name
            for name, member in vars(obj).items()
            if not name.startswith("_") and getattr(member, "__module__", None) == obj.__name__
        ]
    else:
        names = [name for name in vars(obj) if not name.startswith("_")]
    members = [(name, inspect.getattr_static(obj, name)) for name in names]
    # autodoc_member_order = "bysource"
    members.sort(key=lambda item: _source_line(getattr(item[1], "fget", item[1])))
    for _, member in members:
        docs.append(_own_doc(getattr(member, "fget", None) or getattr(member, "__func__", member)))
    return docs


def _autodoc_steps(text: str) -> list[tuple[int, Step]]:
    steps = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = _AUTODOC.match(line)
        if not match:
            continue
        options: dict[str, str] = {}
        for following in lines[number + 1 :]:
            option = _OPTION.match(following)
            if not option or not following.startswith(" "):
                break
            options[option["name"]] = option["value"]
        for doc in autodoc_docstrings(match["target"], options):
            if ">>>" in doc:
                steps.append((number + 1, Step("doctest", number + 1, doc)))
    return steps


def runnable_steps(text: str) -> list[Step]:
    """What a reader of the page runs, in page order: visible testcode and doctest blocks,
    and the examples in the docstrings autodoc shows."""
    steps: list[Step] = []
    blocks = directive_blocks(text)
    for index, block in enumerate(blocks):
        if block.hidden:
            continue
        if block.kind == "testcode":
            following: Optional[Block] = blocks[index + 1] if index + 1 < len(blocks) else None
            if following is not None and following.kind == "testoutput":
                steps.append(
                    Step("testcode", block.line, block.code, following.code, following.flags())
                )
            else:
                steps.append(Step("testcode", block.line, block.code))
        elif block.kind == "doctest":
            steps.append(Step("doctest", block.line, block.code, flags=block.flags()))
    ordered = [(step.line, step) for step in steps] + _autodoc_steps(text)
    ordered.sort(key=lambda item: item[0])
    return [step for _, step in ordered]


# Runs in the child process: stdlib only, so the namespace and the imported
# modules are the reader's own.
RUNNER = r"""
import contextlib, doctest, io, json, sys, traceback

page = json.load(sys.stdin)
namespace = {"__name__": "__main__"}
checker = doctest.OutputChecker()
failures = []
for step in page["steps"]:
    where = f"{page['name']}:{step['line']}"
    flags = page["default_flags"] | step["flags"]
    if step["kind"] == "testcode":
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(step["code"], where, "exec"), namespace)
        except BaseException:
            failures.append(f"{where}: testcode raised\n{traceback.format_exc()}")
            break
        if not checker.check_output(step["want"], out.getvalue(), flags):
            failures.append(
                f"{where}: testcode printed\n{out.getvalue()!r}\nexpected\n{step['want']!r}"
            )
    else:
        parser = doctest.DocTestParser()
        test = parser.get_doctest(step["code"], {}, where, page["name"], step["line"])
        test.globs = namespace  # get_doctest copies the namespace; share it instead
        report = io.StringIO()
        runner = doctest.DocTestRunner(optionflags=flags)
        runner.run(test, out=report.write, clear_globs=False)
        if runner.failures:
            failures.append(report.getvalue())
if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"{page['name']}: {len(page['steps'])} examples ran")
"""


def run_as_reader(name: str, steps: list[Step], cwd: pathlib.Path) -> subprocess.CompletedProcess:
    page = {"name": name, "default_flags": DEFAULT_FLAGS, "steps": [asdict(step) for step in steps]}
    return subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(page),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_page_examples_run_top_to_bottom_in_a_fresh_interpreter(page, tmp_path):
    steps = runnable_steps(page.read_text(encoding="utf-8"))
    if not steps:
        return  # a page of prose (or of console commands only)
    result = run_as_reader(f"docs/{page.name}", steps, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def readme_snippets() -> list[tuple[int, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start()) + 2, match.group(1))
        for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    ]


@pytest.mark.parametrize(
    "line, code", readme_snippets(), ids=[f"line{line}" for line, _ in readme_snippets()]
)
def test_readme_python_snippet_runs_as_pasted(line, code, tmp_path):
    result = run_as_reader("README.md", [Step("testcode", line, code)], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_readme_has_python_snippets():
    assert len(readme_snippets()) >= 3


def test_illustrative_fragments_say_what_they_are():
    unmarked = [
        f"{page.name}:{block.line}"
        for page in PAGES
        for block in directive_blocks(page.read_text(encoding="utf-8"))
        if block.kind in ("code-block", "code", "sourcecode")
        and block.arg == "python"
        and not block.code.lstrip().startswith("#")
    ]
    assert not unmarked, "start each illustrative python code-block with a comment"


def test_no_hidden_setup_supplies_names():
    """Sphinx runs conf.py's doctest_global_setup before every page: it may give the
    namespace the one global a fresh interpreter has (``__name__``), nothing else."""
    conf = ast.parse((DOCS / "conf.py").read_text(encoding="utf-8"))
    settings = {
        target.id: node.value
        for node in conf.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert "doctest_global_cleanup" not in settings
    setup = settings.get("doctest_global_setup")
    namespace: dict[str, object] = {}
    exec(ast.literal_eval(setup) if setup is not None else "", namespace)
    namespace.pop("__builtins__", None)
    assert namespace in ({}, {"__name__": "__main__"})


# The runner itself: it must catch what a reader would trip over.

MISSING_IMPORT = """\
.. testcode::

   from flask_https_guard import HTTPSGuard

   app = Flask("shop")
   HTTPSGuard(app)
"""

HIDDEN_IMPORT = """\
.. testsetup::

   from flask import Flask

.. doctest::

   >>> Flask("shop").name
   'shop'
"""

ACROSS_GROUPS = """\
.. testcode:: first

   from flask import Flask

.. doctest:: second

   >>> Flask("shop").name
   'shop'
"""


@pytest.mark.parametrize(
    "text, passes",
    [(MISSING_IMPORT, False), (HIDDEN_IMPORT, False), (ACROSS_GROUPS, True)],
    ids=["name-never-imported", "import-only-in-testsetup", "page-read-as-one"],
)
def test_the_runner_fails_a_page_that_uses_a_name_it_never_shows(text, passes, tmp_path):
    result = run_as_reader("page.rst", runnable_steps(text), tmp_path)
    assert (result.returncode == 0) is passes, result.stdout + result.stderr
    if not passes:
        assert "NameError" in result.stdout


def test_the_runner_checks_printed_output(tmp_path):
    text = """\
.. testcode::

   print("one")

.. testoutput::

   two

.. testcode::

   print("unexpected")
"""
    result = run_as_reader("page.rst", runnable_steps(text), tmp_path)
    assert result.returncode == 1
    assert "'one\\n'" in result.stdout and "'unexpected\\n'" in result.stdout
