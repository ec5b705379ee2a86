"""The fix engine and ``lint --fix/--unsafe-fixes/--diff/--show-fixes`` (no Ray needed).

That the fixed programs still compute the same thing on real Ray: test_fix_runs.py.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import jsonschema
import pytest

from ray_patterns._findings import Edit, Fix
from ray_patterns.lint.config import LintConfig
from ray_patterns.lint.engine import lint_source
from ray_patterns.lint.fix import apply_fixes, fix_file, fix_notebook, fix_source
from ray_patterns.lint.rules.unnecessary_ray_get import UnnecessaryRayGet

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

UNNECESSARY = """import ray


@ray.remote
def load():
    return 1


@ray.remote
def use(x):
    return x + 1


data = ray.get(load.remote())
print(ray.get(use.remote(data)))
"""

TWO_IN_LOOP = """import ray


def main(n):
    out = []
    for i in range(n):
        @ray.remote
        def a(x):
            return x

        @ray.remote
        def b(x):
            return 2 * x

        out.append((a.remote(i), b.remote(i)))
    return out
"""

GET_LOOP = """import ray


@ray.remote
def sq(x):
    return x * x


print([ray.get(sq.remote(x)) for x in range(3)])
"""


def codes(source: str) -> list[str]:
    return [f.code for f in lint_source(source, "a.py", LintConfig())[0]]


def only(source: str, code: str) -> Fix:
    [finding] = [f for f in lint_source(source, "a.py", LintConfig())[0] if f.code == code]
    assert finding.fix is not None
    return finding.fix


def test_apply_fixes_skips_overlapping_edits() -> None:
    text = "abcdef\n"
    first = Fix("1", (Edit(1, 1, 1, 3, "X"),))
    overlaps = Fix("2", (Edit(1, 2, 1, 4, "Y"),))
    same_point = Fix("3", (Edit(1, 1, 1, 1, "Z"),))
    after = Fix("4", (Edit(1, 3, 1, 3, "W"), Edit(1, 5, 1, 6, "")))
    backwards = Fix("5", (Edit(1, 5, 1, 4, "V"),))
    before_start = Fix("6", (Edit(0, 0, 0, 0, "U"),))
    new, applied = apply_fixes(text, [first, overlaps, same_point, after, backwards, before_start])
    assert (new, applied) == ("aXWde\n", [0, 3])


def test_apply_fixes_counts_utf8_columns_and_keeps_crlf() -> None:
    # ast columns are UTF-8 bytes: "é" is two of them
    source = "x = 'é'; y = ray.get(r)\r\nz = 1\r\n"
    edit = Edit(1, 14, 1, 24, "r")
    assert apply_fixes(source, [Fix("t", (edit,))])[0] == "x = 'é'; y = r\r\nz = 1\r\n"
    insert = Fix("t", (Edit(2, 0, 2, 0, "import a\n"),))
    assert apply_fixes(source, [insert])[0].endswith("\r\nimport a\r\nz = 1\r\n")


def test_lines_added_after_a_last_line_without_line_break() -> None:
    source = "import ray\nout = []\nfor i in range(3):\n    out.append(ray.get(f.remote(i)))"
    fixed = fix_source(source, "a.py", LintConfig(), unsafe=True).fixed
    assert fixed.endswith("    out.append(f.remote(i))\nout = ray.get(out)\n")


def test_safe_fix_applies_and_the_finding_goes() -> None:
    assert codes(UNNECESSARY) == ["RAY103"]
    outcome = fix_source(UNNECESSARY, "a.py", LintConfig())
    assert "data = load.remote()\n" in outcome.fixed
    assert [f.code for f in outcome.applied] == ["RAY103"]
    assert codes(outcome.fixed) == []
    assert outcome.diff().startswith("--- a/a.py\n+++ b/a.py\n")


def test_overlapping_fixes_take_several_passes() -> None:
    # both hoists insert above the same loop: one per pass
    outcome = fix_source(TWO_IN_LOOP, "a.py", LintConfig())
    assert len(outcome.applied) == 2
    assert codes(outcome.fixed) == []
    body = outcome.fixed.split("for i in range(n):")[1]
    assert "@ray.remote" not in body and "out.append" in body
    compile(outcome.fixed, "a.py", "exec")


def test_unsafe_fixes_only_on_request() -> None:
    assert only(GET_LOOP, "RAY105").applicability == "unsafe"
    assert not fix_source(GET_LOOP, "a.py", LintConfig()).changed
    fixed = fix_source(GET_LOOP, "a.py", LintConfig(), unsafe=True).fixed
    assert "print(ray.get([sq.remote(x) for x in range(3)]))" in fixed
    assert codes(fixed) == []


def test_a_fix_that_breaks_the_file_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "job.py"
    path.write_text(UNNECESSARY)
    rule = UnnecessaryRayGet()
    rule.fix = lambda mod, node: Fix("break it", (Edit(1, 0, 1, 0, "def (:\n"),))  # type: ignore[method-assign]
    outcome = fix_file(path, LintConfig(), rules=[rule])
    assert outcome.error is not None and "unparsable" in outcome.error
    assert "break it" in outcome.error and not outcome.applied
    assert path.read_text() == UNNECESSARY


def test_a_crashing_fix_is_no_fix_and_keeps_the_finding() -> None:
    rule = UnnecessaryRayGet()
    rule.fix = lambda mod, node: 1 / 0  # type: ignore[method-assign,assignment,return-value]
    [finding], errors = lint_source(UNNECESSARY, "a.py", LintConfig(), [rule])
    assert finding.code == "RAY103" and finding.fix is None and not errors


@pytest.mark.parametrize(
    ("source", "code", "expected"),
    [
        # the def reads the loop variable: every iteration's task differs
        (
            "import ray\nfor i in range(3):\n    @ray.remote\n    def f():\n        return i\n"
            "    f.remote()\n",
            "RAY201",
            None,
        ),
        # the decorator's options come from the loop
        (
            "import ray\nfor i in range(3):\n    @ray.remote(num_cpus=i)\n    def f():\n"
            "        return 1\n    f.remote()\n",
            "RAY201",
            None,
        ),
        # ray.remote's options change with the loop
        (
            "import ray\ndef f(x):\n    return x\nfor i in range(3):\n"
            "    ray.remote(num_cpus=i)(f).remote(i)\n",
            "RAY201",
            None,
        ),
        # callers elsewhere may still ray.get twice: not certainly safe
        (
            "import ray\n@ray.remote\ndef f():\n    return ray.put(1)\n",
            "RAY402",
            "unsafe",
        ),
        # a caller here gets the inner ref and gets it later: the fix would break it
        (
            "import ray\n@ray.remote\ndef f():\n    return ray.put(1)\n"
            "inner = ray.get(f.remote())\nprint(ray.get(inner))\n",
            "RAY402",
            None,
        ),
        # the object is changed between the calls: the put would snapshot it
        (
            "import ray\nimport numpy as np\n@ray.remote\ndef f(w, i):\n    return i\n"
            "def main():\n    w = np.zeros(1_000_000)\n    for i in range(3):\n"
            "        w[i] = 1\n        f.remote(w, i)\n",
            "RAY401",
            "unsafe",
        ),
        # an await in a generator expression would make it asynchronous
        (
            "import ray\n@ray.remote\nclass A:\n    async def m(self, refs):\n"
            "        return sum(ray.get(r) for r in [g.remote(1), g.remote(2)])\n",
            "RAY301",
            None,
        ),
        # the task's options would be lost in batched_map's own tasks
        (
            "import ray\n@ray.remote(num_cpus=1)\ndef f(x):\n    return x\n"
            "out = ray.get([f.remote(x) for x in range(5000)])\n",
            "RAY102",
            None,
        ),
        # the task is also handed on as a value: its callers cannot all be rewritten
        (
            "import ray\nimport numpy as np\nt = np.zeros(1_000_000)\n@ray.remote\n"
            "def f(i):\n    return t[i]\nrefs = [f.remote(i) for i in range(3)]\ng = f\n",
            "RAY104",
            None,
        ),
        # the loop does more with each value: no automatic rewrite
        (
            "import ray\nout = []\nfor i in range(3):\n    v = ray.get(f.remote(i))\n"
            "    out.append(v)\n",
            "RAY105",
            None,
        ),
    ],
)
def test_fixes_only_where_their_condition_holds(
    source: str, code: str, expected: str | None
) -> None:
    [finding] = [f for f in lint_source(source, "a.py", LintConfig())[0] if f.code == code]
    assert (finding.fix.applicability if finding.fix else None) == expected


def test_blocking_get_gets_await_and_gather() -> None:
    source = (
        "from __future__ import annotations\nimport ray\n@ray.remote\nclass A:\n"
        "    async def one(self):\n        return ray.get(g.remote()) + 1\n"
        "    async def many(self):\n        refs = [g.remote(i) for i in range(3)]\n"
        "        return ray.get(refs)\n"
    )
    fixed = fix_source(source, "a.py", LintConfig()).fixed
    assert fixed.startswith("from __future__ import annotations\nimport asyncio\nimport ray\n")
    assert "return (await g.remote()) + 1" in fixed
    assert "return await asyncio.gather(*refs)" in fixed
    assert "RAY301" not in codes(fixed)


def _notebook(cells: list[tuple[str, str]]) -> str:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": kind,
                    "metadata": {"tags": [f"t{i}"]},
                    "source": text.splitlines(keepends=True),
                    **(
                        {"outputs": [{"output_type": "stream", "text": ["kept\n"]}]}
                        if kind == "code"
                        else {}
                    ),
                }
                for i, (kind, text) in enumerate(cells)
            ],
            "metadata": {"kernelspec": {"name": "python3"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


def test_notebooks_are_fixed_cell_by_cell(tmp_path: Path) -> None:
    defs, uses = UNNECESSARY.split("data = ")
    text = _notebook(
        [
            ("markdown", "# data = ray.get(load.remote())\n"),
            ("code", defs),
            ("code", "%time x = 1\ny = ray.get(use.remote(ray.get(load.remote())))\n"),
            ("code", "data = " + uses),
        ]
    )
    path = tmp_path / "nb.ipynb"
    path.write_text(text)
    outcome = fix_file(path, LintConfig())
    assert outcome.error is None and [f.cell for f in outcome.applied] == [3]
    data = json.loads(path.read_text())
    before = json.loads(text)
    cells = data["cells"]
    assert "".join(cells[3]["source"]).startswith("data = load.remote()\n")
    # the cell with a magic is left exactly as it was, and so is everything else
    assert cells[2] == before["cells"][2]
    assert cells[0] == before["cells"][0] and data["metadata"] == before["metadata"]
    assert [c.get("outputs") for c in cells] == [c.get("outputs") for c in before["cells"]]
    assert [c["metadata"] for c in cells] == [c["metadata"] for c in before["cells"]]
    assert fix_notebook(path.read_text(), "nb.ipynb", LintConfig()).applied == []


def test_cli_diff_fix_and_show_fixes(tmp_path: Path, run_lint) -> None:
    (tmp_path / "a.py").write_text(UNNECESSARY)
    (tmp_path / "b.py").write_text(GET_LOOP)
    text = run_lint()
    assert text.exit_code == 1
    assert "a.py:14:8: RAY103 [*] " in text.output and "b.py:9:8: RAY105 [~] " in text.output
    shown = run_lint("--show-fixes").output
    assert "    fix (safe): pass the ObjectRef itself" in shown

    diff = run_lint("--diff")
    assert diff.exit_code == 1
    assert "-data = ray.get(load.remote())\n+data = load.remote()\n" in diff.output
    assert "Would fix 1 finding in 1 file (1 more fix with --unsafe-fixes)." in diff.output
    assert (tmp_path / "a.py").read_text() == UNNECESSARY

    fixed = run_lint("--fix", "--show-fixes")
    assert fixed.exit_code == 1  # b.py's fix is unsafe: its finding remains
    assert "Fixed 1 finding in 1 file (1 remaining; 1 more fix with --unsafe-fixes)." in (
        fixed.output
    )
    assert "a.py:14:8: RAY103 pass the ObjectRef itself" in fixed.output
    assert codes((tmp_path / "a.py").read_text()) == []

    assert run_lint("--fix", "--unsafe-fixes").exit_code == 0
    assert codes((tmp_path / "b.py").read_text()) == []
    assert run_lint("--diff").exit_code == 0


def test_json_and_sarif_carry_the_fix(tmp_path: Path, run_lint) -> None:
    (tmp_path / "a.py").write_text(UNNECESSARY)
    [item] = json.loads(run_lint("--format", "json").output)
    assert item["fix"]["applicability"] == "safe"
    assert item["fix"]["edits"] == [
        {"line": 14, "column": 7, "end_line": 14, "end_column": 29, "text": "load.remote()"}
    ]
    log = json.loads(run_lint("--format", "sarif").output)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    [result] = log["runs"][0]["results"]
    [fix] = result["fixes"]
    assert fix["properties"] == {"applicability": "safe"}
    [change] = fix["artifactChanges"]
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 14, "startColumn": 8, "endLine": 14, "endColumn": 30},
            "insertedContent": {"text": "load.remote()"},
        }
    ]


def test_the_documented_fix_commands_run(tmp_path: Path, run_lint) -> None:
    script = Path(__file__).resolve().parents[2] / "examples" / "recipes" / "editors" / "fix.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "job.py").write_text(UNNECESSARY)
    codes_seen = []
    for line in script.read_text().splitlines():
        words = shlex.split(line, comments=True)
        if words[:2] == ["ray-patterns", "lint"]:
            codes_seen.append(run_lint(*words[2:]).exit_code)
    # --diff: something to fix; --fix: fixed and clean; then nothing is left
    assert codes_seen == [1, 0, 0, 0]
    assert codes((tmp_path / "src" / "job.py").read_text()) == []


ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(
    [*(ROOT / "tests" / "lint" / "fixtures").glob("*.py"), *(ROOT / "examples").glob("*/anti.py")]
)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_fix_on_the_samples_parses_and_removes_its_finding(path: Path) -> None:
    """The lint's own fixtures hold every shape each rule knows: all fixes, unsafe ones
    too, must leave Python that parses and fewer findings of each fixed rule."""
    source = path.read_text()
    outcome = fix_source(source, str(path), LintConfig(), unsafe=True)
    assert outcome.error is None and not outcome.errors
    before = [f.code for f in lint_source(source, str(path), LintConfig())[0]]
    after = [f.code for f in lint_source(outcome.fixed, str(path), LintConfig())[0]]
    for code in {f.code for f in outcome.applied}:
        assert after.count(code) < before.count(code), code
