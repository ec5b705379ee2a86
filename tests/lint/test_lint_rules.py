"""Every rule against its fixture: each ``# expect: CODE`` line is found, nothing else is.

Fixtures hold the true cases and the tricky negatives met on real code (flake8-bugbear
style inline expectations).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ray_patterns import catalog
from ray_patterns.lint.config import LintConfig
from ray_patterns.lint.core import DOCS_BASE_URL
from ray_patterns.lint.engine import lint_source
from ray_patterns.lint.rules import all_rules

FIXTURES = Path(__file__).parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*(RAY\d+)")
RULES = all_rules()


def expectations(source: str) -> set[tuple[int, str]]:
    return {
        (number, match.group(1))
        for number, line in enumerate(source.splitlines(), start=1)
        for match in EXPECT.finditer(line)
    }


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule_fixture(rule: type) -> None:
    path = FIXTURES / f"{rule.name.replace('-', '_')}.py"
    source = path.read_text()
    expected = expectations(source)
    assert expected, f"{path.name} has no true case"
    config = LintConfig(select=frozenset({rule.code}))
    findings, errors = lint_source(source, str(path), config)
    assert errors == []
    got = {(f.line, f.code) for f in findings}
    missing = sorted(expected - got)
    extra = sorted(got - expected)
    assert not missing and not extra, f"missing {missing}, unexpected {extra}"


def test_all_rules_together_on_all_fixtures() -> None:
    """Each fixture under every rule: no crash, and no other rule fires on the negatives
    of a fixture at lines that expect nothing (rules do not overlap by accident)."""
    for path in sorted(FIXTURES.glob("*.py")):
        findings, errors = lint_source(path.read_text(), str(path), LintConfig())
        assert errors == []
        assert all(f.line >= 1 and f.column >= 1 for f in findings)


def test_rules_metadata() -> None:
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    lint_checks = {c.code for c in catalog.all_checks() if c.lint}
    assert len(set(codes)) == len(codes) and set(codes) == lint_checks
    assert len(set(names)) == len(names)
    for rule in RULES:
        assert re.fullmatch(r"RAY\d{3}", rule.code)
        doc = rule.doc()
        for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
            assert section in doc, f"{rule.name}: docstring lacks {section!r}"
        assert rule.summary() and not rule.summary().startswith("#")
    handbook = {
        "ray-get-loop",
        "submission-order",
        "too-many-results",
        "unnecessary-ray-get",
        "closure-capture",
        "global-variables",
        "fine-grained-tasks",
        "redefine-task-actor-loop",
    }
    assert handbook <= set(names)
    assert DOCS_BASE_URL.endswith("/rules/")


def test_finding_points_at_the_call() -> None:
    source = "import ray\nfor i in range(3):\n    x = 1 + ray.get(f.remote(i))\n"
    findings, _ = lint_source(source, "a.py", LintConfig())
    [finding] = findings
    assert (finding.line, finding.column, finding.end_column) == (3, 13, 33)
    assert finding.url.endswith("/rules/ray-get-loop/")


def test_names_resolve_like_python() -> None:
    """A name bound by ``from ray import get`` and also by an assignment is not ray.get."""
    source = "from ray import get\nget = dict.get\nfor i in range(3):\n    get(f.remote(i))\n"
    assert lint_source(source, "a.py", LintConfig())[0] == []
    no_ray = "for i in range(3):\n    ray.get(f.remote(i))\n"
    assert lint_source(no_ray, "a.py", LintConfig())[0] == []


def test_settings_change_thresholds() -> None:
    source = (FIXTURES / "fine_grained_tasks.py").read_text()
    strict = LintConfig(settings={"fine-grained-tasks": {"large-iterable": 1_000_000}})
    assert [f for f in lint_source(source, "a.py", strict)[0] if f.code == "RAY102"] == []
    loose = LintConfig(settings={"fine-grained-tasks": {"large-iterable": 5}})
    found = [f for f in lint_source(source, "a.py", loose)[0] if f.code == "RAY102"]
    assert len(found) > 2
