"""The lint cache: a hit gives the same findings, a change or a damaged cache is a miss,
``--no-cache`` neither reads nor writes it, and concurrent runs stay correct."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from lint_samples import RAY_GET_LOOP

from ray_patterns.lint.cache import CACHE_DIR
from ray_patterns.lint.config import LintConfig
from ray_patterns.lint.runner import LintResult, lint_paths


def _tree(root: Path) -> LintConfig:
    (root / "a.py").write_text(RAY_GET_LOOP)
    (root / "b.py").write_text("import ray\nx = ray.put(1)\n")
    return LintConfig(root=root)


def _cache_files(root: Path) -> list[Path]:
    return sorted((root / CACHE_DIR).glob("lint-*.json"))


def test_hit_gives_the_same_findings_and_a_change_is_a_miss(tmp_path: Path) -> None:
    config = _tree(tmp_path)
    cold = lint_paths([tmp_path], config, jobs=1, cache=True)
    [cache_file] = _cache_files(tmp_path)
    assert (tmp_path / CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
    warm = lint_paths([tmp_path], config, jobs=1, cache=True)
    assert warm.findings == cold.findings and [f.code for f in warm.findings] == ["RAY105"]
    # the cache is what answered: doctor its entry and the doctored findings come back
    text = cache_file.read_text()
    cache_file.write_text(text.replace("RAY105", "RAY999"))
    assert {f.code for f in lint_paths([tmp_path], config, cache=True).findings} == {"RAY999"}
    # a changed file is linted again
    (tmp_path / "a.py").write_text(RAY_GET_LOOP + "# changed\n")
    again = lint_paths([tmp_path], config, jobs=1, cache=True)
    assert [f.code for f in again.findings] == ["RAY105"]


def test_rule_set_is_part_of_the_key(tmp_path: Path) -> None:
    config = _tree(tmp_path)
    lint_paths([tmp_path], config, jobs=1, cache=True)
    narrow = LintConfig(root=tmp_path, select=frozenset({"RAY202"}))
    assert lint_paths([tmp_path], narrow, jobs=1, cache=True).findings == []
    assert len(_cache_files(tmp_path)) == 2


def test_corrupt_cache_is_a_miss(tmp_path: Path) -> None:
    config = _tree(tmp_path)
    lint_paths([tmp_path], config, jobs=1, cache=True)
    for damage in ("{not json", '{"entries": {"x": 1}}', '{"entries": []}'):
        [cache_file] = _cache_files(tmp_path)
        cache_file.write_text(damage)
        result = lint_paths([tmp_path], config, jobs=1, cache=True)
        assert [f.code for f in result.findings] == ["RAY105"] and result.errors == []
    [cache_file] = _cache_files(tmp_path)
    rows = cache_file.read_text()
    key = str(tmp_path / "a.py")
    cache_file.write_text(rows.replace(f'"{key}":[', f'"{key}":[[1],', 1))  # a bad entry
    assert [f.code for f in lint_paths([tmp_path], config, cache=True).findings] == ["RAY105"]


def test_no_cache_flag(tmp_path: Path, run_lint) -> None:
    (tmp_path / "a.py").write_text(RAY_GET_LOOP)
    assert run_lint("--no-cache", "a.py").exit_code == 1
    assert not (tmp_path / CACHE_DIR).exists()
    assert run_lint("a.py").exit_code == 1
    assert len(_cache_files(tmp_path)) == 1


def test_concurrent_runs(tmp_path: Path) -> None:
    config = _tree(tmp_path)
    results = []

    def run() -> None:
        results.append(lint_paths([tmp_path], config, jobs=1, cache=True))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    assert all([f.code for f in r.findings] == ["RAY105"] for r in results)
    assert not list((tmp_path / CACHE_DIR).glob("*.tmp"))  # no half-written files left
    assert [f.code for f in lint_paths([tmp_path], config, cache=True).findings] == ["RAY105"]


def test_a_run_on_some_files_keeps_the_other_entries(tmp_path: Path) -> None:
    config = _tree(tmp_path)
    lint_paths([tmp_path], config, jobs=1, cache=True)
    lint_paths([tmp_path / "b.py"], config, jobs=1, cache=True)  # e.g. a pre-commit run
    [cache_file] = _cache_files(tmp_path)
    text = cache_file.read_text()
    assert str(tmp_path / "a.py") in text and str(tmp_path / "b.py") in text


def test_cold_warm_parallel_and_serial_runs_agree(tmp_path: Path) -> None:
    """Every fixture twice (36 files to analyse: enough for the process pool) beside
    files no rule looks at: the same findings serial, in parallel, with a cold cache,
    answered from it by (size, mtime), and by content after a touch."""
    import shutil

    fixtures = Path(__file__).parent / "fixtures"
    for copy in ("one", "two"):
        shutil.copytree(fixtures, tmp_path / copy)
    for i in range(40):
        (tmp_path / f"plain{i}.py").write_text(f"import ray\nx = {i}\n")
    config = LintConfig(root=tmp_path)

    def seen(result: LintResult) -> list[tuple[str, int, int, str, str]]:
        assert result.errors == [] and result.files == 76
        return [(f.path, f.line, f.column, f.code, f.message) for f in result.findings]

    serial = seen(lint_paths([tmp_path], config, jobs=1))
    assert len({code for _, _, _, code, _ in serial}) == 18  # every rule found something
    assert seen(lint_paths([tmp_path], config, jobs=2)) == serial
    assert seen(lint_paths([tmp_path], config, jobs=2, cache=True)) == serial  # cold
    assert seen(lint_paths([tmp_path], config, jobs=2, cache=True)) == serial  # warm: stat
    for path in (tmp_path / "one").glob("*.py"):
        path.write_bytes(path.read_bytes())  # new mtime, same bytes: the hash answers
    assert seen(lint_paths([tmp_path], config, jobs=1, cache=True)) == serial


IMPORTS = Path(__file__).parent / "fixtures_imports"
EXPECT = re.compile(r"#\s*expect:\s*(RAY\d+)")


def _expected(root: Path) -> set[tuple[str, int, str]]:
    return {
        (path.relative_to(root).as_posix(), number, match.group(1))
        for path in sorted(root.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        for match in [EXPECT.search(line)]
        if match
    }


def test_tasks_imported_from_other_files_of_the_run(tmp_path: Path) -> None:
    """``from helpers import f``, ``import helpers as h`` and ``from .tasks import f``:
    the task is judged as if it were local when its file is linted in the same run;
    linting the importing file alone knows nothing of it."""
    import shutil

    root = tmp_path / "project"
    shutil.copytree(IMPORTS, root)
    config = LintConfig(root=tmp_path, select=frozenset({"RAY102", "RAY203"}))

    def found(*paths: Path, **kw: object) -> set[tuple[str, int, str]]:
        result = lint_paths(list(paths), config, **kw)  # type: ignore[arg-type]
        assert result.errors == []
        return {
            (Path(f.path).relative_to(root).as_posix(), f.line, f.code) for f in result.findings
        }

    expected = _expected(root)
    assert len(expected) == 5
    assert found(root, jobs=1) == expected
    assert found(root / "pipeline.py", jobs=1) == set()  # helpers.py is not in this run
    assert found(root / "pipeline.py", root / "helpers.py", jobs=1) == {
        e for e in expected if e[0] == "pipeline.py"
    }
    # the cache: a change in helpers.py is a change of pipeline.py's result
    assert found(root, jobs=1, cache=True) == expected
    assert found(root, jobs=1, cache=True) == expected
    helpers = root / "helpers.py"
    helpers.write_text(helpers.read_text().replace("return x * 2", "return sum(range(x))"))
    assert found(root, jobs=1, cache=True) == {
        e for e in expected if "double" not in _line(root, e)
    }


def _line(root: Path, entry: tuple[str, int, str]) -> str:
    return (root / entry[0]).read_text().splitlines()[entry[1] - 1]
