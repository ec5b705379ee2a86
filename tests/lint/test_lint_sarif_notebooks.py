"""SARIF 2.1.0 validated against the official schema; Jupyter notebooks by cell."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from lint_samples import RAY_GET_LOOP

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def _notebook(cells: list[tuple[str, str]]) -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": kind, "metadata": {}, "source": src.splitlines(keepends=True)}
                | ({"outputs": [], "execution_count": None} if kind == "code" else {})
                for kind, src in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def test_sarif_validates_against_official_schema(tmp_path: Path, run_lint) -> None:
    (tmp_path / "a.py").write_text(RAY_GET_LOOP)
    (tmp_path / "broken.py").write_text("import ray\nprint 'python 2'\nray.get(f.remote())\n")
    (tmp_path / "nb.ipynb").write_text(_notebook([("code", RAY_GET_LOOP)]))
    result = run_lint("--format", "sarif")
    log = json.loads(result.output)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    [run] = log["runs"]
    assert run["tool"]["driver"]["name"] == "ray-patterns"
    assert {r["ruleId"] for r in run["results"]} == {"RAY105", "RAY001"}
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for res in run["results"]:
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
    cells = [r.get("properties", {}).get("cell") for r in run["results"]]
    assert 1 in cells


def test_sarif_schema_rejects_a_broken_log() -> None:
    """The shipped schema really checks: a log without ``runs`` fails."""
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert not validator.is_valid({"version": "2.1.0"})
    assert not validator.is_valid({"version": "2.1.0", "runs": [{"results": []}]})


def test_notebook_findings_name_cell_and_line(tmp_path: Path, run_lint) -> None:
    nb = _notebook(
        [
            ("markdown", "# Title\nfor i in x: ray.get(f.remote(i))\n"),
            ("code", "%matplotlib inline\nimport ray\n!pip install ray\n"),
            ("code", "%%bash\nfor i in 1 2; do echo; done\n"),
            ("code", "x = 1\nfor i in range(3):\n    ray.get(f.remote(i))\nhelp?\n"),
        ]
    )
    (tmp_path / "work.ipynb").write_text(nb)
    result = run_lint("work.ipynb")
    assert result.exit_code == 1
    assert result.output.startswith("work.ipynb:cell 3:3:5: RAY105 ")
    assert result.output.count("\n") == 1
    data = json.loads(run_lint("work.ipynb", "--format", "json").output)
    assert (data[0]["cell"], data[0]["line"]) == (3, 3)


def test_broken_notebook_is_one_finding(tmp_path: Path, run_lint) -> None:
    (tmp_path / "bad.ipynb").write_text("{not json")
    (tmp_path / "syntax.ipynb").write_text(_notebook([("code", "x = 1\n"), ("code", "def (:\n")]))
    result = run_lint()
    lines = sorted(result.output.splitlines())
    assert len(lines) == 2
    assert lines[0].startswith("bad.ipynb:1:1: RAY001 cannot parse: not valid notebook JSON")
    assert lines[1].startswith("syntax.ipynb:cell 2:1:")
    assert "RAY001 cannot parse:" in lines[1]


def test_notebook_cells_parse_one_by_one() -> None:
    """A broken cell is one RAY001 and the other cells are still linted; magics that run
    Python (%%time, %%capture, %time stmt) are stripped and the Python behind them linted."""
    from ray_patterns.lint.config import LintConfig
    from ray_patterns.lint.engine import lint_notebook

    nb = _notebook(
        [
            ("code", "import ray\nrefs = [f.remote(i) for i in range(3)]\n"),
            ("code", "!pip install \\\n  ray\n"),  # continued shell line: not Python
            ("code", "%%bash\necho hi\n"),  # a bash cell: blanked, no finding
            ("code", "%%time\nfor i in range(3):\n    ray.get(f.remote(i))\n"),
            ("code", "%%capture out\nfor i in range(3):\n    ray.get(f.remote(i))\n"),
            ("code", "for i in range(3):\n    %time x = ray.get(f.remote(i))\n"),
            ("code", "def broken(:\n"),
            ("code", "%timeit -n 3 [ray.get(f.remote(i)) for i in range(3)]\n"),
        ]
    )
    findings, errors = lint_notebook(nb, "nb.ipynb", LintConfig())
    assert errors == []
    got = [(f.cell, f.line, f.column, f.code) for f in findings]
    assert got == [
        (2, 2, 2, "RAY001"),
        (4, 3, 5, "RAY105"),
        (5, 3, 5, "RAY105"),
        (6, 2, 15, "RAY105"),
        (7, 1, 12, "RAY001"),
        (8, 1, 15, "RAY105"),
    ], got


def test_notebook_names_rebound_in_later_cells() -> None:
    """Each read sees the binding that reaches it, across cells: a name rebound in a
    later cell is still resolved in the cells before and after."""
    from ray_patterns.lint.config import LintConfig
    from ray_patterns.lint.engine import lint_notebook

    head = "import ray\n\n@ray.remote\ndef work(i):\n    return i\n"
    nb = _notebook(
        [
            ("code", head),
            ("code", "refs = [work.remote(i) for i in range(3)]\n"),
            ("code", "for r in refs:\n    print(ray.get(r))\n"),
            ("code", "refs = ray.get(refs)\n"),
            ("code", "for r in refs:\n    print(ray.get(r))\n"),
            ("code", "refs = [work.remote(i) for i in range(3)]\n"),
            ("code", "for r in refs:\n    print(ray.get(r))\n"),
        ]
    )
    findings, errors = lint_notebook(nb, "nb.ipynb", LintConfig(select=frozenset({"RAY202"})))
    assert errors == []
    assert [(f.cell, f.line) for f in findings] == [(3, 2), (7, 2)]
