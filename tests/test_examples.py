"""Every file under examples/ (the code the docs show) runs, small, on real Ray.

Each example's ``main(**small)`` result is compared with plain Python. Every run
happens under ``ray_patterns.doctor.watch()``: an anti-pattern file must be
reported under its page's doctor finding (where the doctor has a detector for
it), and a fixed or library file must be reported for nothing at all. The lint
rule of the page must flag the anti-pattern file, and no rule may flag a fixed
or library file. Finally, every code block in docs/*.md must be a snippet
include of a file that exists, so the docs show nothing these tests did not run.
"""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ray_patterns.lint.config import LintConfig
from ray_patterns.lint.runner import lint_paths

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs"
MIB = 1 << 20


def _score(x: int) -> int:
    return sum(i * i for i in range(x % 100))


def _sorted_sample(n: int) -> list[int]:
    return sorted(random.Random(0).sample(range(10 * n), n))


@dataclass
class Page:
    """What the examples of one handbook page must do."""

    kwargs: dict[str, Any]
    # role ("anti", "fixed", ...) -> expected result of main(**kwargs); "*" for any role
    expect: dict[str, Any]
    doctor: str | None = None  # the doctor's finding for the anti-pattern, if it has one
    lint: str | None = None  # the lint rule that flags anti.py, if it can see it statically
    thresholds: dict[str, Any] = field(default_factory=dict)
    # per-role kwargs added to ``kwargs``
    role_kwargs: dict[str, dict[str, Any]] = field(default_factory=dict)
    check: Callable[[str, Any], None] | None = None


def _check_fork(role: str, result: Any) -> None:
    right = [1, 1, 2, 6, 24, 120]
    assert result == right or (role == "anti" and result is None), result


def _check_submission_order(role: str, result: Any) -> None:
    durations = [0.5] + [0.02] * 5
    assert sorted(result) == sorted(durations)
    if role == "anti":
        assert result == durations  # strictly submission order, straggler first


PAGES: dict[str, Page] = {
    "ray_get_loop": Page(
        {"n": 6}, {"*": [i * i for i in range(6)]}, doctor="ray-get-loop", lint="ray-get-loop"
    ),
    "submission_order": Page(
        {"n": 6},
        {},
        doctor="submission-order",
        lint="submission-order",
        check=_check_submission_order,
    ),
    "too_many_results": Page(
        {"n": 8, "size": 1 << 19},
        {"*": float(sum(i * (1 << 19) for i in range(8)))},
        doctor="too-many-results",
        # the default limit is min(1 GiB, 10% of free memory): 32 MiB here, in 4 MiB
        # results, against 16 MiB batches by hand and from the library
        thresholds={"too_many_results_bytes": 20 * MIB},
    ),
    "limit_tasks": Page(
        {"n": 150},
        {"*": float(sum(i * (1 << 14) for i in range(150)))},
        doctor="unbounded-submission",
        thresholds={"unbounded_pending_tasks": 50},  # default 10,000: too slow for a test
    ),
    "fine_grained_tasks": Page(
        {"n": 300}, {"*": [2 * x for x in range(300)]}, doctor="fine-grained-tasks"
    ),
    "unnecessary_ray_get": Page(
        {"size": 1 << 20},
        {"*": float(1 << 20)},
        doctor="unnecessary-ray-get",
        lint="unnecessary-ray-get",
    ),
    "closure_capture": Page(
        {"n": 8},
        {"*": [float(i) for i in range(8)]},
        doctor="closure-capture",
        lint="closure-capture",
    ),
    "global_variables": Page(
        {}, {"anti": 6, "*": 7}, doctor="global-variables", lint="global-variables"
    ),
    "redefine_task_actor_loop": Page(
        {"n": 4},
        {"*": [i * i for i in range(4)]},
        doctor="redefine-task-actor-loop",
        lint="redefine-task-actor-loop",
    ),
    # two levels of tasks: each level of nested ray.get holds workers and starts more
    "tree_of_tasks": Page({"n": 3000, "threshold": 1500}, {"*": _sorted_sample(3000)}),
    "map_reduce": Page(
        {"n": 2000},
        {"*": sum(_score(x) for x in range(2000))},
        role_kwargs={"fixed": {"batch": 500}},
    ),
    "tree_of_actors": Page(
        # one tree of two trainers: every actor is a process of its own to start
        {"hyperparameters": (3,), "data": (1, 2)},
        {"*": {3: [3, 6]}},
    ),
    "overlapping_computation_communication": Page({"n": 10}, {"*": list(range(10))}),
    "fault_tolerance_actor_checkpointing": Page(
        {"calls": 4, "crash_after": 2}, {"anti": 2, "*": 4}
    ),
    # the handbook's anti-pattern is a *sync* actor stuck in its polling loop
    "concurrent_operations_async_actor": Page(
        {},
        {"anti": False, "*": True},
        doctor="sync-actor-polling-loop",
        role_kwargs={"anti": {"seconds": 1.0, "timeout": 0.5}},
    ),
    # --- the pages of Ray's current handbook that the original lacked
    "generators": Page(
        {"n": 4},
        {"*": [float(i << 17) for i in range(4)]},
        doctor="return-large-list",
        lint="return-large-list",
    ),
    # no OOM kill can be caused safely in the shared test session, so the anti
    # example (small here) is not expected to be reported; tests/doctor covers RAY407
    "limit_running_tasks": Page({"n": 4, "mib": 16}, {"*": [float(2 << 20) + i for i in range(4)]}),
    "actor_sync": Page(
        {"n": 3}, {"*": [0, 1, 4]}, doctor="actor-busy-wait", lint="actor-busy-wait"
    ),
    "return_ray_put": Page(
        {"n": 3},
        {"*": [float(i << 17) for i in range(3)]},
        doctor="return-ray-put",
        lint="return-ray-put",
    ),
    "nested_ray_get": Page({"n": 5}, {"*": 30}, doctor="nested-ray-get", lint="nested-ray-get"),
    "pass_large_arg_by_value": Page(
        {"n": 4},
        {"*": [0.0, 1.0, 2.0, 3.0]},
        doctor="pass-large-arg-by-value",
        lint="pass-large-arg-by-value",
    ),
    # the anti-pattern loses its objects: each read times out (the hang, bounded)
    "out_of_band_object_ref_serialization": Page(
        {"n": 2},
        {"anti": [None, None], "*": [[0], [0, 1]]},
        doctor="out-of-band-object-ref-serialization",
        lint="out-of-band-object-ref-serialization",
        role_kwargs={"anti": {"timeout": 0.5}},
    ),
    # the forked pool usually works and sometimes hangs (None: the bounded hang)
    "fork_new_processes": Page(
        {"n": 6},
        {"*": [1, 1, 2, 6, 24, 120]},
        doctor="fork-new-processes",
        lint="fork-new-processes",
        role_kwargs={"anti": {"timeout": 20}},
        check=_check_fork,
    ),
}

RECIPES = EXAMPLES / "recipes"  # the CLI, cluster, config and CI pages
FILES = sorted(p for p in EXAMPLES.glob("*/*.py") if p.parent != RECIPES)
IDS = [f"{p.parent.name}/{p.stem}" for p in FILES]


def _load(path: Path) -> Any:
    name = f"_example_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # not in sys.modules: Ray pickles it by value
    return module


def _expected(page: Page, role: str) -> Any:
    return page.expect[role] if role in page.expect else page.expect["*"]


def test_every_page_has_its_examples() -> None:
    assert set(PAGES) == {p.parent.name for p in FILES}
    for folder in PAGES:
        assert (EXAMPLES / folder / "anti.py").is_file(), folder
        assert (EXAMPLES / folder / "fixed.py").is_file(), folder


# actor_sync, fork_new_processes, nested_ray_get, return_ray_put and the async actor's
# sync loop happen inside workers: the watch joins the session's running Ray and
# observes them through the definitions it wraps before their first export
# (ray_patterns.doctor._worker).


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_example_runs_and_the_doctor_agrees(ray_session: None, path: Path) -> None:
    from ray_patterns.doctor import Thresholds, watch

    page = PAGES[path.parent.name]
    role = path.stem
    kwargs = {**page.kwargs, **page.role_kwargs.get(role, {})}
    with watch(Thresholds(**page.thresholds)) as report:
        result = _load(path).main(**kwargs)
    assert report.complete
    if page.check is not None:
        page.check(role, result)
    else:
        assert result == _expected(page, role)
    found = [(f.slug, f"{Path(f.path).name}:{f.line}") for f in report.findings]
    print(f"{path.parent.name}/{role}: result ok, doctor findings {found}", file=sys.stderr)
    if role == "anti":
        if page.doctor is not None:
            names = {f.name for f in report.findings}
            assert page.doctor in names, report.findings
            own = [f for f in report.by_slug(page.doctor) if Path(f.path) == path]
            assert own, f"{page.doctor} was reported, but not in {path.name}: {found}"
    else:
        assert report.findings == [], found


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_lint_flags_the_anti_pattern_only(path: Path) -> None:
    page = PAGES[path.parent.name]
    result = lint_paths([path], LintConfig(root=ROOT), 1)
    assert result.errors == []
    names = {f.name for f in result.findings}
    if path.stem == "anti":
        if page.lint is not None:
            assert page.lint in names, result.findings
    else:
        assert names == set(), result.findings


def test_cluster_recipe_joins_the_running_ray(ray_session: None) -> None:
    import ray

    job = ray.get_runtime_context().get_job_id()
    assert _load(RECIPES / "cluster.py").main(n=100) == sum(x * x for x in range(100))
    # the same connection: neither the recipe nor the library called ray.init again
    assert ray.get_runtime_context().get_job_id() == job


def test_watch_recipe_reports_its_loop(ray_session: None) -> None:
    values, slugs = _load(RECIPES / "watch.py").main(n=5)
    assert values == list(range(5))
    assert slugs == ["ray-get-loop"]


def test_lint_config_recipe_is_valid(tmp_path: Path) -> None:
    from ray_patterns.lint.config import load_config

    config = load_config(RECIPES / "pyproject-lint.toml")
    rules = {r.name: r for r in config.make_rules()}
    assert "fork-new-processes" not in rules and "pass-large-arg-by-value" in rules
    assert "ray-get-loop" in rules and "return-ray-put" not in rules
    assert rules["fine-grained-tasks"].settings["large_iterable"] == 5000
    assert "RAY105" in config.ignored_for(str(RECIPES / "tests" / "test_x.py"))


def test_ci_recipes_use_real_hooks_and_commands(tmp_path: Path) -> None:
    import json

    import yaml
    from click.testing import CliRunner

    from ray_patterns.lint.cli import lint

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    config = yaml.safe_load((RECIPES / ".pre-commit-config.yaml").read_text())
    ids = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    assert ids == {hook["id"] for hook in hooks}
    workflow = yaml.safe_load((RECIPES / "github-code-scanning.yml").read_text())
    runs = [s["run"] for job in workflow["jobs"].values() for s in job["steps"] if "run" in s]
    lint_runs = [r for r in runs if r.startswith("ray-patterns lint")]
    assert len(lint_runs) == 2
    # the workflow's own command line, on the anti-pattern examples
    sarif_args = lint_runs[0].split()[2:-1] + [str(EXAMPLES / "ray_get_loop")]
    sarif_args[sarif_args.index("--output") + 1] = str(tmp_path / "out.sarif")
    result = CliRunner().invoke(lint, sarif_args)
    assert result.exit_code == 0, result.output  # --exit-zero
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    rule_ids = {r["ruleId"] for run in sarif["runs"] for r in run["results"]}
    assert "RAY105" in rule_ids
    github = CliRunner().invoke(lint, lint_runs[1].split()[2:-1] + [str(EXAMPLES / "ray_get_loop")])
    assert github.exit_code == 1 and "::error" in github.output


def test_shell_recipes_parse_and_name_real_commands() -> None:
    import shlex
    import subprocess

    from ray_patterns.cli import main as cli

    script = RECIPES / "commands.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    known = set(cli.list_commands(None))  # type: ignore[arg-type]
    used = set()
    for line in script.read_text().splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["ray-patterns"]:
            used.add(words[1])
            assert words[1] in known, line
    assert used == {"lint", "explain", "doctor", "bench"}


_FENCE = re.compile(r"^(\s*)(```|~~~)(.*)$")
_INCLUDE = re.compile(r'^--8<-- "([^"]+)"$')


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] | None = None
    fence = ""
    for line in text.splitlines():
        match = _FENCE.match(line)
        if current is None and match:
            current, fence = [], match.group(2)
        elif current is not None and line.strip() == fence:
            blocks.append(current)
            current = None
        elif current is not None:
            current.append(line.strip())
    assert current is None, "an unclosed code fence"
    return blocks


@pytest.mark.parametrize("page", sorted(DOCS.rglob("*.md")), ids=lambda p: str(p.relative_to(DOCS)))
def test_every_code_block_is_an_included_runnable_file(page: Path) -> None:
    for block in _blocks(page.read_text(encoding="utf-8")):
        lines = [line for line in block if line]
        assert lines, f"{page}: an empty code block"
        for line in lines:
            match = _INCLUDE.match(line)
            assert match, f"{page}: code block line {line!r} is not a snippet include"
            target = match.group(1).split(":")[0]
            assert (ROOT / target).is_file(), f"{page}: includes missing {target}"
            assert target.startswith(("examples/", "docs/figures/")), target


def _hook() -> Any:
    spec = importlib.util.spec_from_file_location("_docs_hook", DOCS / "_hooks" / "site.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rule_pages_render_what_explain_prints() -> None:
    from click.testing import CliRunner

    from ray_patterns import catalog
    from ray_patterns._catalog_cli import explain
    from ray_patterns.lint.rules import all_rules

    hook = _hook()
    rules = {r.code: r for r in all_rules()}
    assert set(rules) == {c.code for c in catalog.all_checks() if c.lint}
    index = hook.rules_index(rules)
    for check in catalog.all_checks():
        rule = rules.get(check.code)
        page = hook.rule_page(check, rule)
        printed = CliRunner().invoke(explain, [check.code])
        assert printed.exit_code == 0
        assert page.startswith(f"# {check.code} {check.name}\n")
        assert f"]({check.name}.md)" in index
        if rule is not None:
            # explain prints the docstring the page shows, word for word
            assert rule.doc() in printed.stdout and rule.doc() in page
        # the URL every finding carries points at this page
        assert rule_url_path(check.name) == f"rules/{check.name}/"


def rule_url_path(name: str) -> str:
    from ray_patterns.lint.core import DOCS_BASE_URL, rule_url

    return rule_url(name).removeprefix(DOCS_BASE_URL.removesuffix("rules/"))


def test_nav_follows_the_handbook_and_pages_have_every_part() -> None:
    from ray_patterns import catalog

    hook = _hook()
    listed = [
        entry for section in hook.handbook_nav() for value in section.values() for entry in value
    ]
    for group, slugs in hook.GROUPS.items():
        assert [e for e in listed if e.startswith(f"{group}/")] == [
            f"{group}/{s}.md" for s in slugs
        ]
        for slug in slugs:
            text = (DOCS / group / f"{slug}.md").read_text()
            folder = slug.replace("-", "_")
            for part in ("## The problem", "## The fix by hand", "## With ray-patterns"):
                assert part in text, (slug, part)
            assert "## What catches it" in text and "## Measured" in text, slug
            assert f'--8<-- "examples/{folder}/anti.py"' in text, slug
            assert f'--8<-- "examples/{folder}/fixed.py"' in text, slug
            assert f'--8<-- "docs/figures/{slug}.md"' in text, slug
            assert (DOCS / "figures" / f"{slug}.md").is_file(), slug
    assert sum(len(s) for s in hook.GROUPS.values()) == len(catalog.PAGES)


# What the rule docstrings' fragments assume: the imports, and that make_array and
# process are remote functions (make_array returning large arrays).
_PREAMBLE = """import multiprocessing
import pickle
import time

import numpy as np
import ray


@ray.remote
def make_array(i):
    return np.zeros((1000, 1000))


@ray.remote
def process(x):
    return x


@ray.remote
class Signal:
    def is_set(self):
        return True


signal = Signal.remote()

"""


def _python_blocks(doc: str, heading: str) -> list[str]:
    section = doc.split(heading, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_rule_page_code_blocks_show_what_the_rule_does() -> None:
    # rule pages are the rule docstrings verbatim, code blocks included: the
    # "Example" must be flagged by its rule and the "Use instead" must not
    from ray_patterns.lint.engine import lint_source
    from ray_patterns.lint.rules import all_rules

    config = LintConfig()
    for rule in all_rules():
        for heading, flagged in (("## Example", True), ("## Use instead", False)):
            blocks = _python_blocks(rule.doc(), heading)
            assert blocks, (rule.name, heading)
            for block in blocks:
                findings, errors = lint_source(_PREAMBLE + block, "doc.py", config)
                assert errors == []
                names = {f.name for f in findings}
                assert (rule.name in names) == flagged, (rule.name, heading, block)
