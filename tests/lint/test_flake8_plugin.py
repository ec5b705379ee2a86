"""The flake8 plugin and the pre-commit hook, each run for real in a subprocess."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import yaml
from lint_samples import RAY_GET_LOOP

from ray_patterns.lint.flake8_plugin import RayPatternsChecker

ROOT = Path(__file__).resolve().parents[2]


def test_flake8_reports_ray_codes(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(RAY_GET_LOOP)
    (tmp_path / "b.py").write_text(RAY_GET_LOOP.replace("(i))", "(i))  # noqa: RAY105"))
    # the plugin reads [tool.ray-patterns.lint] like the CLI: c.py's finding is ignored
    (tmp_path / "c.py").write_text(RAY_GET_LOOP)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ray-patterns.lint]\nper-file-ignores = { "c.py" = ["ray-get-loop"] }\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=RAY", "a.py", "b.py", "c.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("a.py:4:5: RAY105 ray.get() waits")


def test_plugin_class_directly() -> None:
    import ast

    checker = RayPatternsChecker(ast.parse(RAY_GET_LOOP), "a.py", RAY_GET_LOOP.splitlines(True))
    [(line, col, text, kind)] = list(checker.run())
    assert (line, col, text[:6], kind) == (4, 4, "RAY105", RayPatternsChecker)


def test_pre_commit_hook_entry_runs(tmp_path: Path) -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "ray-patterns-lint"
    assert set(hook["types_or"]) == {"python", "jupyter"}
    entry = shlex.split(hook["entry"])
    # pre-commit runs the entry from the hook's environment, with file names appended
    exe = Path(sys.executable).with_name(entry[0])
    (tmp_path / "bad.py").write_text(RAY_GET_LOOP)
    (tmp_path / "good.py").write_text("import ray\n")
    bad = subprocess.run(
        [str(exe), *entry[1:], "bad.py", "good.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1, bad.stderr
    assert bad.stdout.startswith("bad.py:4:5: RAY105")
    good = subprocess.run(
        [str(exe), *entry[1:], "good.py"], cwd=tmp_path, capture_output=True, timeout=120
    )
    assert good.returncode == 0
