"""MkDocs hook: the handbook nav and the check pages from the catalog, bench plots beside pages.

The handbook's sections in the nav come from ``ray_patterns.catalog`` (mkdocs.yml
lists only the other pages). The check pages are generated at build time (never
committed), so they cannot drift from ``ray-patterns explain CODE``: a lint rule's
page is ``Rule.doc()``, a run-time-only check's page is its catalog summary.

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

from ray_patterns import catalog

# The handbook's four groups (its index.rst), each a folder of docs/; from the catalog.
GROUPS: dict[str, list[str]] = {
    group: [p.slug for p in catalog.pages_in(group)] for group in catalog.GROUPS
}
GROUP_OF = {slug: group for group, slugs in GROUPS.items() for slug in slugs}
# where the handbook sections and the rule pages go in the nav: after this page
_NAV_AFTER = "ray-cluster.md"


def _page_link(slug: str) -> str:
    return f"[{slug}](../{GROUP_OF[slug]}/{slug}.md)"


def rule_page(check: catalog.Check, rule: Any | None) -> str:
    """The markdown page of one check; for a lint rule its body is exactly ``rule.doc()``."""
    where = " and ".join(s for s, on in (("lint", check.lint), ("doctor", check.doctor)) if on)
    lines = [f"# {check.code} {check.name}", "", f"Handbook page: {_page_link(check.page)}. "]
    if rule is not None:
        settings = ", ".join(f"`{k.replace('_', '-')} = {v}`" for k, v in rule.defaults.items())
        lines[-1] += (
            f"Found by: {where}. Settings: {settings or 'none'}. "
            f"Print this page in a terminal: `ray-patterns explain {check.code}`."
        )
        body = rule.doc()
    else:
        lines[-1] += f"Found by: {where}. `ray-patterns explain {check.code}` prints it."
        body = f"{check.summary}.\n\n## Use instead\n{check.fix_title}."
    if check.old_codes:
        lines += ["", f"Earlier doctor code: {', '.join(check.old_codes)} (deprecated alias)."]
    refs = "\n".join(f"- [{label}]({url})" for label, url in catalog.references(check))
    lines += ["", body, "", "## References", refs, ""]
    return "\n".join(lines)


def rules_index(rules: dict[str, Any]) -> str:
    lines = [
        "# Checks and lint rules",
        "",
        "One code per anti-pattern, the same from `ray-patterns lint` (source code) and "
        "`ray-patterns doctor` (a run). Each page below is the rule's docstring, the same "
        "text `ray-patterns explain CODE` prints. Codes RAY1xx come from the basic "
        "anti-patterns, RAY2xx from the advanced anti-patterns, RAY3xx from the patterns, "
        "RAY4xx from the pages Ray's handbook added later. Ray's page names and the doctor's "
        "old RPD codes are accepted wherever a code is.",
        "",
        "| code | check | what it flags | found by | handbook page |",
        "|---|---|---|---|---|",
    ]
    for c in catalog.all_checks():
        rule = rules.get(c.code)
        summary = (rule.summary() if rule is not None else c.summary).replace("|", "\\|")
        where = ", ".join(s for s, on in (("lint", rule is not None), ("doctor", c.doctor)) if on)
        lines.append(
            f"| {c.code} | [{c.name}]({c.name}.md) | {summary} | {where} | {_page_link(c.page)} |"
        )
    return "\n".join(lines) + "\n"


def handbook_nav() -> list[Any]:
    """The nav's handbook sections (one per group) and its rule pages, from the catalog."""
    nav: list[Any] = [
        {catalog.GROUPS[g]: [f"{g}/{s}.md" for s in slugs]} for g, slugs in GROUPS.items()
    ]
    rules = ["rules/index.md", *(f"rules/{c.name}.md" for c in catalog.all_checks())]
    nav.append({"Checks and lint rules": rules})
    return nav


def on_config(config: Any) -> Any:
    nav = config["nav"]
    at = next(i for i, item in enumerate(nav) if _NAV_AFTER in str(item)) + 1
    config["nav"] = nav[:at] + handbook_nav() + nav[at:]
    return config


# docs/index.md holds this line where the table of pages goes
PAGES_TABLE_MARKER = "<!-- pages table: generated from ray_patterns.catalog -->"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if PAGES_TABLE_MARKER in markdown:
        from ray_patterns._catalog_cli import pages_markdown

        markdown = markdown.replace(PAGES_TABLE_MARKER, pages_markdown(links=True))
    return markdown


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    from ray_patterns._catalog_cli import api_markdown
    from ray_patterns.lint.rules import all_rules

    files.append(File.generated(config, "api.md", content=api_markdown()))

    rules = {r.code: r for r in all_rules()}
    files.append(File.generated(config, "rules/index.md", content=rules_index(rules)))
    for check in catalog.all_checks():
        content = rule_page(check, rules.get(check.code))
        files.append(File.generated(config, f"rules/{check.name}.md", content=content))
    docs = Path(config["docs_dir"])
    for slug, group in GROUP_OF.items():
        png = docs / "figures" / f"{slug}.png"
        if png.is_file():
            files.append(File.generated(config, f"{group}/{slug}.png", abs_src_path=str(png)))
    return files
