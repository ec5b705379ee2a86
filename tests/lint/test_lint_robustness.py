"""Bad input never stops a run: unparsable, unreadable, looping, huge or random files."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lint_samples import RAY_GET_LOOP

from ray_patterns.lint.config import LintConfig
from ray_patterns.lint.engine import decode, lint_file, lint_source
from ray_patterns.lint.runner import lint_paths

CONFIG = LintConfig()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"import ray\nprint 'hello'\nf.remote()\n", "cannot parse: Missing parentheses"),
        (b"x = 1\x00\n", "cannot parse: source contains NUL bytes"),
        (b"x = '\xff\xfe\xfa'\n", "cannot parse: cannot decode as utf-8"),
        (b"# -*- coding: nope -*-\nx = 1\n", "cannot parse: bad encoding declaration"),
        (b"import ray\nf.remote()\ndef f(:\n", "cannot parse: invalid syntax"),
        (
            b"import ray\nf.remote()\nx = " + b"(" * 300 + b")" * 300,
            "cannot parse: too many nested",
        ),
    ],
)
def test_unparsable_file_is_one_finding(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.py"
    path.write_bytes(content)
    findings, errors = lint_file(path, CONFIG)
    assert errors == []
    [finding] = findings
    assert finding.code == "RAY001" and finding.name == "cannot-parse"
    assert finding.message.startswith(reason), finding.message


def test_files_no_rule_looks_at_are_not_parsed(tmp_path: Path) -> None:
    """A Ray file without any word a rule needs (``remote``, ``async`` ...) cannot hold a
    finding, so it is not parsed and its syntax error is left to Python; with only
    RAY001 selected it is parsed."""
    path = tmp_path / "bad.py"
    path.write_bytes(b"import ray\ndef f(:\n")
    assert lint_file(path, CONFIG) == ([], [])
    path.write_bytes(b'import ray\n"""Starts a remote actor."""\ndef f(:\n')  # prose only
    assert lint_file(path, CONFIG) == ([], [])
    path.write_bytes(b"import ray\nh = a.remote\ndef f(:\n")  # code: a remote call
    assert [f.code for f in lint_file(path, CONFIG)[0]] == ["RAY001"]
    [finding], errors = lint_file(path, LintConfig(select=frozenset({"RAY001"})))
    assert finding.code == "RAY001" and errors == []


def test_latin1_cookie_and_bom_decode() -> None:
    assert decode(b"# coding: latin-1\nx = '\xe9'\n").endswith("x = '\xe9'\n")
    assert decode(b"\xef\xbb\xbfx = 1\n") == "x = 1\n"


def test_run_goes_on_past_bad_files(tmp_path: Path) -> None:
    (tmp_path / "a_bad.py").write_bytes(b"import ray\nprint 'x'\nf.remote()\n")
    (tmp_path / "a_no_ray.py").write_bytes(b"print 'x'\n")  # not analysed: no Ray
    (tmp_path / "b_good.py").write_text(RAY_GET_LOOP)
    unreadable = tmp_path / "c_secret.py"
    unreadable.write_text(RAY_GET_LOOP)
    unreadable.chmod(0)
    (tmp_path / "d_broken_link.py").symlink_to(tmp_path / "missing.py")
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "again").symlink_to(tmp_path)
    (tmp_path / "self").symlink_to(tmp_path / "self")
    try:
        result = lint_paths([tmp_path], CONFIG, jobs=1)
    finally:
        unreadable.chmod(0o644)
    assert result.errors == []
    by_file = {(Path(f.path).name, f.code) for f in result.findings}
    assert ("a_bad.py", "RAY001") in by_file
    assert not any(name == "a_no_ray.py" for name, _ in by_file)
    assert ("b_good.py", "RAY105") in by_file
    if os.geteuid() != 0:  # root reads anything
        assert ("c_secret.py", "RAY001") in by_file
    # the symlinked loop is walked once: b_good.py is not reported twice
    assert sum(1 for f in result.findings if f.path.endswith("b_good.py")) == 1


def test_ten_thousand_files_in_parallel(tmp_path: Path) -> None:
    for i in range(100):
        folder = tmp_path / f"d{i}"
        folder.mkdir()
        for j in range(100):
            content = RAY_GET_LOOP if (i, j) == (7, 7) else f"x = {j}\n"
            (folder / f"m{j}.py").write_text(content)
    result = lint_paths([tmp_path], CONFIG, jobs=2)
    assert result.files == 10_000
    assert result.errors == []
    assert [(Path(f.path).parent.name, Path(f.path).name) for f in result.findings] == [
        ("d7", "m7.py")
    ]


def test_five_megabyte_generated_file(tmp_path: Path) -> None:
    path = tmp_path / "generated.py"
    lines = ["import ray", "TABLE = {"]
    lines += [f"    {i}: 'value number {i} padded to make it longer'," for i in range(90_000)]
    lines += ["}", "for i in range(3):", "    ray.get(f.remote(i))", ""]
    path.write_text("\n".join(lines))
    assert path.stat().st_size > 5_000_000
    findings, errors = lint_file(path, CONFIG)
    assert errors == []
    assert [f.code for f in findings] == ["RAY105"]


# Few examples, each small (no auto-targeting towards bigger programs): generating
# programs costs far more than linting them, and the suite's time is scarce. The
# deadline is per example, generous for a loaded machine, and catches a rule gone slow.
FUZZ = settings(
    max_examples=30,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@settings(FUZZ, max_examples=20)
@given(hypothesmith.from_grammar(auto_target=False))
def test_fuzz_valid_programs(source: str) -> None:
    # prefix a ray import so that every rule really analyses the program
    findings, errors = lint_source("import ray\n" + source, "fuzz.py", CONFIG)
    assert errors == []
    assert all(f.line >= 1 for f in findings)


@settings(FUZZ, max_examples=4)
@given(hypothesmith.from_node(auto_target=False))
def test_fuzz_valid_syntax_trees(source: str) -> None:
    findings, errors = lint_source(
        "import ray\nfrom ray import get, put\n" + source, "f.py", CONFIG
    )
    assert errors == []


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "random.py"
    path.write_bytes(b"import ray\n" + data)
    findings, errors = lint_file(path, CONFIG)
    assert errors == []
    assert all(f.code.startswith("RAY") for f in findings)


FIXTURE_LINES = [
    variant
    for path in sorted((Path(__file__).parent / "fixtures").glob("*.py"))
    for line in path.read_text().splitlines()
    for variant in (line, line.strip())
]


@FUZZ
@given(st.lists(st.sampled_from(FIXTURE_LINES), min_size=1, max_size=60))
def test_fuzz_shuffled_ray_code(lines: list[str]) -> None:
    """Random mixes of real Ray lines: parse errors or findings, never a crash."""
    source = "import ray\nimport numpy as np\n" + "\n".join(lines) + "\n"
    findings, errors = lint_source(source, "mix.py", CONFIG)
    assert errors == []
    assert all(1 <= f.line <= source.count("\n") for f in findings)


def test_spawned_workers_give_the_same_findings(tmp_path: Path) -> None:
    """A live Ray driver must not fork (its threads): the spawn path works too.

    Run alone this file has no Ray (fork); in the whole suite an earlier test may
    have left the shared Ray up (spawn).
    """
    import ray

    from ray_patterns.lint.runner import _start_method

    assert _start_method() == ("spawn" if ray.is_initialized() else "fork")
    for i in range(40):
        (tmp_path / f"m{i}.py").write_text(RAY_GET_LOOP if i == 3 else "x = 1\n")
    result = lint_paths([tmp_path], CONFIG, jobs=2, start_method="spawn")
    assert result.errors == []
    assert [Path(f.path).name for f in result.findings] == ["m3.py"]


def _remote_defs_and_gets(n: int) -> str:
    """n tasks each reading 20 globals, then n gets in one loop."""
    lines = ["import ray"] + [f"G{i} = {i}" for i in range(300)]
    for j in range(n):
        body = " + ".join(f"G{i}" for i in range(j % 50, j % 50 + 20))
        lines += ["@ray.remote", f"def f{j}(x):", f"    return {body}"]
    lines.append("for i in range(10):")
    lines += [f"    r{j} = f{j}.remote(i)\n    ray.get(r{j})" for j in range(n)]
    return "\n".join(lines) + "\n"


def test_many_remote_defs_and_gets_stay_linear() -> None:
    """Rules that re-walked the loop per ``ray.get`` took minutes on 800 tasks. Four
    times the tasks must cost well under 16 times the time (quadratic), best of two
    runs each, in CPU time so other processes on the machine do not count."""
    import time

    def cost(n: int) -> float:
        source = _remote_defs_and_gets(n)
        best = float("inf")
        for _ in range(2):
            start = time.process_time()
            findings, errors = lint_source(source, "gen.py", CONFIG)
            best = min(best, time.process_time() - start)
            assert errors == []
            assert len(findings) == n and {f.code for f in findings} == {"RAY105"}
        return best

    small, large = cost(60), cost(240)
    assert large < 8 * small, f"{small:.3f} s -> {large:.3f} s for 4x the tasks: quadratic"
