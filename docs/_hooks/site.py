"""MkDocs hook: lint-rule pages from the rule docstrings, bench plots beside their pages.

The rule pages are generated at build time (never committed), so they cannot drift
from ``ray-patterns explain RULE``: both print ``Rule.doc()``.

``ray-patterns bench --plot docs/figures`` writes ``figures/<slug>.md`` whose image
line is ``![...](<slug>.png)``, relative to the figures folder. A handbook page
includes that markdown with pymdownx.snippets, so the link is resolved relative to
the page (``<group>/<slug>.md``): the hook therefore also serves each existing
``figures/<slug>.png`` as ``<group>/<slug>.png``. A PNG that was never generated
is simply not there, and neither is its image line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# The handbook's four groups (its index.rst), each a folder of docs/.
GROUPS: dict[str, list[str]] = {
    "basic-patterns": ["tree-of-actors", "tree-of-tasks", "map-reduce", "limit-tasks"],
    "basic-anti-patterns": [
        "global-variables",
        "fine-grained-tasks",
        "unnecessary-ray-get",
        "closure-capture",
        "ray-get-loop",
    ],
    "advanced-patterns": [
        "overlapping-computation-communication",
        "fault-tolerance-actor-checkpointing",
        "concurrent-operations-async-actor",
    ],
    "advanced-anti-patterns": ["redefine-task-actor-loop", "submission-order", "too-many-results"],
}
GROUP_OF = {slug: group for group, slugs in GROUPS.items() for slug in slugs}


def rule_page(rule: Any) -> str:
    """The markdown page of one lint rule; its body is exactly ``rule.doc()``."""
    settings = ", ".join(f"`{k.replace('_', '-')} = {v}`" for k, v in rule.defaults.items())
    if rule.page in GROUP_OF:
        origin = f"[{rule.page}](../{GROUP_OF[rule.page]}/{rule.page}.md)"
    else:
        origin = "beyond the handbook's pages (a Ray best practice)"
    lines = [
        f"# {rule.code} {rule.name}",
        "",
        f"Handbook page: {origin}. "
        f"Settings: {settings or 'none'}. "
        f"Print this page in a terminal: `ray-patterns explain {rule.code}`.",
        "",
        rule.doc(),
        "",
    ]
    return "\n".join(lines)


def rules_index(rules: Any) -> str:
    lines = [
        "# Lint rules",
        "",
        "`ray-patterns lint` (and the flake8 plugin) checks these rules. Each page below is "
        "the rule's docstring, the same text `ray-patterns explain CODE` prints. Codes "
        "RAY1xx come from the basic anti-patterns, RAY2xx from the advanced anti-patterns, "
        "RAY3xx from the patterns, RAY4xx are Ray best practices beyond the handbook.",
        "",
        "| code | rule | what it flags | handbook page |",
        "|---|---|---|---|",
    ]
    for r in rules:
        page = f"[{r.page}](../{GROUP_OF[r.page]}/{r.page}.md)" if r.page in GROUP_OF else "-"
        summary = r.summary().replace("|", "\\|")
        lines.append(f"| {r.code} | [{r.name}]({r.name}.md) | {summary} | {page} |")
    return "\n".join(lines) + "\n"


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    from ray_patterns.lint.rules import all_rules

    rules = all_rules()
    files.append(File.generated(config, "rules/index.md", content=rules_index(rules)))
    for rule in rules:
        files.append(File.generated(config, f"rules/{rule.name}.md", content=rule_page(rule)))
    docs = Path(config["docs_dir"])
    for slug, group in GROUP_OF.items():
        png = docs / "figures" / f"{slug}.png"
        if png.is_file():
            files.append(File.generated(config, f"{group}/{slug}.png", abs_src_path=str(png)))
    return files
