"""The catalog is the one list of pages: everything that lists pages agrees with it."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import ray_patterns
from ray_patterns import catalog
from ray_patterns._catalog_cli import explain, pages, pages_markdown
from ray_patterns.lint.config import ConfigError, resolve_selectors
from ray_patterns.lint.noqa import suppressed
from ray_patterns.lint.rules import all_rules

ROOT = Path(__file__).resolve().parents[1]
SLUGS = [p.slug for p in catalog.PAGES]
CHECKS = catalog.all_checks()


def _load_hook():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("site_hook", ROOT / "docs/_hooks/site.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_codes_names_and_slugs_are_unique_and_well_formed() -> None:
    assert len(set(SLUGS)) == len(SLUGS)
    codes = [c.code for c in CHECKS]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"RAY[1-4]\d\d", c) for c in codes), codes
    assert all(re.fullmatch(r"[a-z0-9-]+", s) for s in SLUGS)
    aliases = [a for p in catalog.PAGES for a in p.aliases]
    assert not set(aliases) & set(SLUGS)
    # every old doctor code maps to exactly one check
    old = [o for c in CHECKS for o in c.old_codes]
    assert len(set(old)) == len(old) == 10


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.code)
def test_every_name_of_a_check_finds_it(check: catalog.Check) -> None:
    for name in (check.code, check.code.lower(), check.name, *check.old_codes):
        assert catalog.check(name) is check
    page = catalog.page(check.page)
    assert check in page.checks
    for name in page.names:
        assert check in catalog.checks_named(name)


def test_unknown_names_suggest_close_ones() -> None:
    with pytest.raises(catalog.UnknownName, match="ray-get-loop"):
        catalog.check("ray-get-lop")


def test_exports_are_the_catalogs_and_type_checking_names_match() -> None:
    assert ray_patterns._exports() == catalog.exports()
    assert sorted(ray_patterns.__all__) == sorted(catalog.exports())
    tree = ast.parse((ROOT / "src/ray_patterns/__init__.py").read_text())
    typed: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module
                for alias in imp.names:
                    assert alias.asname == alias.name, "re-export with `as NAME`"
                    typed[alias.name] = imp.module.removeprefix("ray_patterns.")
    assert typed == catalog.exports()


@pytest.mark.parametrize("page", catalog.PAGES, ids=lambda p: p.slug)
def test_each_page_has_its_module_doc_examples_and_bench_case(page: catalog.Page) -> None:
    assert (ROOT / "docs" / page.doc_path).is_file(), page.doc_path
    examples = ROOT / page.examples_dir
    roles = {"anti", "fixed"} if page.checks else {"fixed"}
    if page.exports:
        roles.add("library")
        assert importlib.util.find_spec(page.module) is not None, page.module
    present = {f.stem for f in examples.glob("*.py")}
    assert roles <= present, f"{page.examples_dir}: missing {sorted(roles - present)}"
    case = ROOT / "src/ray_patterns/bench/cases" / f"{page.snake}.py"
    assert case.is_file(), f"no bench case {case.name}"


def test_lint_rules_are_exactly_the_catalogs_lint_checks() -> None:
    rules = {r.code: r for r in all_rules()}
    wanted = {c.code for c in CHECKS if c.lint}
    assert set(rules) == wanted
    for code, rule in rules.items():
        check = catalog.check(code)
        assert (rule.name, rule.page) == (check.name, check.page)


def test_docs_nav_has_every_page_and_check_once() -> None:
    hook = _load_hook()
    nav = json.dumps(hook.handbook_nav())
    for p in catalog.PAGES:
        assert nav.count(f'"{p.doc_path}"') == 1, p.slug
    for c in CHECKS:
        assert nav.count(f'"rules/{c.name}.md"') == 1, c.name
    # the nav in mkdocs.yml lists no handbook page by hand
    mkdocs_yml = (ROOT / "mkdocs.yml").read_text()
    assert not any(f"/{slug}.md" in mkdocs_yml for slug in SLUGS)
    # every doc page on disk is a catalog page (no orphan page left behind)
    on_disk = {
        f"{d.name}/{f.name}"
        for d in (ROOT / "docs").iterdir()
        if d.name in catalog.GROUPS
        for f in d.glob("*.md")
    }
    assert on_disk == {p.doc_path for p in catalog.PAGES}


def test_check_pages_carry_references() -> None:
    hook = _load_hook()
    rules = {r.code: r for r in all_rules()}
    for c in CHECKS:
        text = hook.rule_page(c, rules.get(c.code))
        assert "## References" in text
        assert catalog.page(c.page).ray_url in text and c.docs_url in text


def test_readme_table_is_the_catalogs() -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- pages table")
    body = readme[readme.index("\n", start) + 1 : readme.index("<!-- end of pages table -->")]
    assert body == pages_markdown(), "run `ray-patterns pages --format markdown` into README.md"
    assert (
        "<!-- pages table: generated from ray_patterns.catalog -->"
        in (ROOT / "docs/index.md").read_text()
    )


def test_pages_command_lists_every_page_as_json() -> None:
    result = CliRunner().invoke(pages, ["--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["slug"] for d in data] == SLUGS
    limit = next(d for d in data if d["slug"] == "limit-tasks")
    assert limit["aliases"] == ["limit-pending-tasks"]
    assert limit["checks"][0]["code"] == "RAY302" and limit["library"] == ["bounded_map"]
    assert limit["ray_url"].endswith("/limit-pending-tasks.html")
    text = CliRunner().invoke(pages, [])
    assert text.exit_code == 0 and all(slug in text.output for slug in SLUGS)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("RAY105", "RAY105"),
        ("RPD107", "RAY202"),
        ("ray-get-submission-order", "RAY202"),
        ("limit-pending-tasks", "RAY302"),
        ("unbounded-submission", "RAY302"),
        ("memory-killed-tasks", "RAY407"),
        ("nested-tasks", "RAY304"),
    ],
)
def test_explain_accepts_codes_old_codes_and_rays_page_names(name: str, code: str) -> None:
    result = CliRunner().invoke(explain, [name])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(code)
    assert "References" in result.output
    assert catalog.check(code).docs_url in result.output
    if name.startswith("RPD"):
        assert "deprecated" in result.output


def test_explain_a_pattern_page_and_an_unknown_name() -> None:
    result = CliRunner().invoke(explain, ["pipelining"])
    assert result.exit_code == 0 and "prefetch" in result.output
    bad = CliRunner().invoke(explain, ["no-such-page"])
    assert bad.exit_code == 2 and "ray-patterns pages" in bad.output


def test_rays_page_names_and_old_codes_select_and_suppress() -> None:
    assert resolve_selectors(["limit-pending-tasks"], "--select") == {"RAY302"}
    assert resolve_selectors(["too-fine-grained-tasks", "RPD105"], "--select") == {
        "RAY102",
        "RAY105",
    }
    with pytest.raises(ConfigError, match="run time"):
        resolve_selectors(["limit-running-tasks"], "--select")
    assert suppressed(frozenset({"ray-get-submission-order"}), "RAY202", "submission-order")
    assert suppressed(frozenset({"rpd107"}), "RAY202", "submission-order")
    assert not suppressed(frozenset({"ray-get-loop"}), "RAY202", "submission-order")


def test_catalog_import_is_light() -> None:
    import subprocess

    code = "import sys, ray_patterns.catalog; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
