"""``ray-patterns lint / rules / explain``: formats, exit codes, selection, config, noqa."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from lint_samples import RAY_GET_LOOP

from ray_patterns.lint.cli import lint
from ray_patterns.lint.rules import all_rules


def test_text_output_and_exit_codes(tmp_path: Path, run_lint) -> None:
    (tmp_path / "bad.py").write_text(RAY_GET_LOOP)
    (tmp_path / "good.py").write_text("import ray\nray.get([f.remote(i) for i in range(3)])\n")
    result = run_lint()
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines == [f"bad.py:4:5: RAY105 {lines[0].split('RAY105 ', 1)[1]}"]
    assert run_lint("good.py").exit_code == 0
    assert run_lint("--exit-zero").exit_code == 0


def test_usage_errors_exit_2(tmp_path: Path, run_lint) -> None:
    (tmp_path / "a.py").write_text(RAY_GET_LOOP)
    result = run_lint("--select", "NOPE123")
    assert result.exit_code == 2
    assert "unknown rule 'NOPE123'" in result.output
    assert run_lint("missing-folder").exit_code == 2
    assert run_lint("--format", "xml").exit_code == 2


def test_select_and_ignore_by_code_prefix_or_name(tmp_path: Path, run_lint) -> None:
    (tmp_path / "a.py").write_text(RAY_GET_LOOP)
    assert run_lint("--select", "RAY2").exit_code == 0
    assert run_lint("--select", "ray-get-loop").exit_code == 1
    assert run_lint("--select", "RAY105,RAY202").exit_code == 1
    assert run_lint("--ignore", "ray-get-loop").exit_code == 0
    assert run_lint("--ignore", "RAY1").exit_code == 0


def test_json_output(tmp_path: Path, run_lint) -> None:
    (tmp_path / "a.py").write_text(RAY_GET_LOOP)
    result = run_lint("--format", "json")
    [item] = json.loads(result.output)
    assert {
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "code",
        "name",
        "message",
        "url",
    } <= set(item)
    assert (item["path"], item["line"], item["column"], item["code"]) == ("a.py", 4, 5, "RAY105")
    assert item["name"] == "ray-get-loop"
    assert item["url"] == "https://ray-patterns.readthedocs.io/en/latest/rules/ray-get-loop/"


def test_github_output(tmp_path: Path, run_lint) -> None:
    (tmp_path / "a.py").write_text(RAY_GET_LOOP)
    out = run_lint("--format", "github").output
    assert out.startswith(
        "::error title=ray-patterns (RAY105 ray-get-loop),file=a.py,line=4,col=5,"
    )
    assert out.count("\n") == 1


def test_output_file_and_statistics(tmp_path: Path, run_lint) -> None:
    (tmp_path / "a.py").write_text(RAY_GET_LOOP + RAY_GET_LOOP.replace("import ray\n", ""))
    result = run_lint("--output", "report.json", "--format", "json")
    assert result.exit_code == 1 and result.output == ""
    assert len(json.loads((tmp_path / "report.json").read_text())) == 2
    stats = run_lint("--statistics").output
    assert stats.split() == ["2", "RAY105", "ray-get-loop"]


def test_noqa_by_code_name_bare_and_file(tmp_path: Path, run_lint) -> None:
    base = "import ray\nfor i in range(3):\n    ray.get(f.remote(i)){}\n"
    cases = {
        "code.py": "  # noqa: RAY105",
        "name.py": "  # noqa: ray-get-loop",
        "bare.py": "  # noqa",
        "other.py": "  # noqa: RAY202",
    }
    for name, comment in cases.items():
        (tmp_path / name).write_text(base.format(comment))
    (tmp_path / "file.py").write_text("# ray-patterns: noqa\n" + base.format(""))
    result = run_lint()
    assert [line.split(":")[0] for line in result.output.splitlines()] == ["other.py"]


def test_pyproject_config_and_flags_win(tmp_path: Path, run_lint) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.ray-patterns.lint]\n"
        'ignore = ["ray-get-loop"]\n'
        'exclude = ["generated/"]\n'
        'per-file-ignores = { "tests/*" = ["RAY202"] }\n'
        "[tool.ray-patterns.lint.fine-grained-tasks]\n"
        "large-iterable = 2\n"
    )
    (tmp_path / "a.py").write_text(RAY_GET_LOOP)
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "b.py").write_text(RAY_GET_LOOP)
    fine = (
        "import ray\n@ray.remote\ndef f(x):\n    return x\n"
        "refs = [f.remote(i) for i in range(3)]\n"
        "for r in refs:\n    print(ray.get(r))\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.py").write_text(fine)
    result = run_lint()
    assert [line.split(": ")[1][:6] for line in result.output.splitlines()] == ["RAY102"]
    # command-line --select wins over the file's ignore
    assert "a.py:4:5: RAY105" in run_lint("--select", "RAY105").output


def test_bad_config_is_a_usage_error(tmp_path: Path, run_lint) -> None:
    (tmp_path / "a.py").write_text(RAY_GET_LOOP)
    (tmp_path / "pyproject.toml").write_text(
        "[tool.ray-patterns.lint.fine-grained-tasks]\nlarge-iterabel = 2\n"
    )
    result = run_lint()
    assert result.exit_code == 2
    assert "large-iterabel" in result.output and "large-iterable" in result.output


def test_gitignore_venv_and_build_dirs_skipped(tmp_path: Path, run_lint) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("ignored/\n*.gen.py\n")
    for rel in ["ignored/a.py", "x.gen.py", "build/a.py", "env/lib/a.py", "pkg/keep.py"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(RAY_GET_LOOP)
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    result = run_lint()
    assert [line.split(":")[0] for line in result.output.splitlines()] == ["pkg/keep.py"]


def test_rules_and_explain(run_cmd) -> None:
    listing = run_cmd("rules").output.splitlines()
    assert len(listing) == len(all_rules())
    assert listing[0].startswith("RAY101  global-variables")
    data = json.loads(run_cmd("rules", "--format", "json").output)
    assert {d["name"] for d in data} == {r.name for r in all_rules()}
    for key in ("RAY105", "ray-get-loop"):
        text = run_cmd("explain", key).output
        assert text.startswith("RAY105 ray-get-loop")
        assert "## Why is this bad?" in text and "/rules/ray-get-loop/" in text
    missing = run_cmd("explain", "nope")
    assert missing.exit_code == 2 and "ray-patterns pages" in missing.output


def test_console_script_for_real(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(RAY_GET_LOOP)
    exe = Path(sys.executable).with_name("ray-patterns")
    proc = subprocess.run(
        [str(exe), "lint", "a.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("a.py:4:5: RAY105 ")


def test_linter_itself_never_imports_ray(tmp_path: Path) -> None:
    """The lint modules work without Ray: load them with the package __init__ bypassed."""
    (tmp_path / "a.py").write_text(RAY_GET_LOOP)
    src = Path(__file__).resolve().parents[2] / "src" / "ray_patterns"
    code = (
        "import sys, types\n"
        "pkg = types.ModuleType('ray_patterns'); pkg.__path__ = [sys.argv[1]]\n"
        "sys.modules['ray_patterns'] = pkg\n"
        "from pathlib import Path\n"
        "from ray_patterns.lint.config import LintConfig\n"
        "from ray_patterns.lint.runner import lint_paths\n"
        "import ray_patterns.lint.cli, ray_patterns.lint.flake8_plugin\n"
        "result = lint_paths([Path(sys.argv[2])], LintConfig(), jobs=1)\n"
        "print([f.code for f in result.findings], 'ray' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(src), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['RAY105'] False"


def test_a_crashing_rule_exits_2_and_keeps_other_findings(
    tmp_path: Path, run_lint, monkeypatch
) -> None:
    from ray_patterns.lint.rules.submission_order import SubmissionOrder

    def boom(self, mod):
        raise RuntimeError("rule bug")
        yield  # pragma: no cover

    monkeypatch.setattr(SubmissionOrder, "check", boom)
    (tmp_path / "a.py").write_text(RAY_GET_LOOP)
    result = CliRunner().invoke(lint, ["a.py"])
    assert result.exit_code == 2
    assert result.stdout.startswith("a.py:4:5: RAY105")
    assert "rule RAY202 crashed" in result.stderr and "rule bug" in result.stderr
