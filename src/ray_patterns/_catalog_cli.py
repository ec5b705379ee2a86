"""``ray-patterns pages`` and ``ray-patterns explain``: the catalog seen from outside.

Example: ``ray-patterns explain limit-pending-tasks`` explains RAY302, the check of
the page Ray now calls limit-pending-tasks; ``ray-patterns pages --format json``
lists every page with its library names, codes, bench case and links.
"""

from __future__ import annotations

import json
import shutil
import sys

import click

from ray_patterns import catalog

FORMATS = ("text", "json", "markdown")


def _where(check: catalog.Check) -> str:
    return " and ".join(s for s, on in (("lint", check.lint), ("doctor", check.doctor)) if on)


def pages_markdown(links: bool = False) -> str:
    """The table of pages README.md shows (tested to match); ``links`` for the docs site."""
    lines = [
        "| handbook page | Ray's name | library | checks (code: lint / doctor) |",
        "|---|---|---|---|",
    ]
    for p in catalog.PAGES:
        ray_name = ", ".join(p.aliases) or ("(dropped by Ray)" if p.dropped_by_ray else "same")
        library = ", ".join(f"`{n}`" for n in p.library) or (p.plain_ray_fix or "-")
        checks = "; ".join(
            (f"[{c.code}](rules/{c.name}.md)" if links else c.code) + f" {c.name}: {_where(c)}"
            for c in p.checks
        )
        slug = f"[{p.slug}]({p.doc_path})" if links else p.slug
        lines.append(f"| {slug} | {ray_name} | {library} | {checks or '-'} |")
    return "\n".join(lines) + "\n"


def api_markdown() -> str:
    """The Python API page: every public name, grouped by handbook section and page."""
    lines = [
        "# Python API",
        "",
        "Generated from the docstrings. Every name below is importable from `ray_patterns`; "
        "each implements one handbook page (its module is the page's slug).",
    ]
    for group, title in catalog.GROUPS.items():
        pages = [p for p in catalog.pages_in(group) if p.exports]
        if not pages:
            continue
        lines += ["", f"## {title}"]
        for p in pages:
            lines += ["", f"### {p.slug}", ""]
            lines += [f"::: ray_patterns.{name}\n" for name in p.exports]
    lines += ["", "## Shared", ""]
    lines += [f"::: ray_patterns.{name}\n" for name in catalog.SHARED_EXPORTS]
    lines += [
        "",
        "## Catalog",
        "",
        "::: ray_patterns.catalog.Page\n",
        "::: ray_patterns.catalog.Check\n",
    ]
    lines += ["", "## Doctor", ""]
    lines += [f"::: ray_patterns.doctor.{n}\n" for n in ("watch", "Thresholds", "Report")]
    return "\n".join(lines)


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
def pages(fmt: str) -> None:
    """List the handbook pages: group, library names, check codes, bench case, links."""
    if fmt == "json":
        click.echo(json.dumps([p.as_dict() for p in catalog.PAGES], indent=2))
        return
    if fmt == "markdown":
        click.echo(pages_markdown(), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    table.add_column("page", no_wrap=True)
    table.add_column("library", overflow="fold")
    table.add_column("checks", overflow="fold")
    for group, title in catalog.GROUPS.items():
        table.add_row(f"[bold]{title}[/bold]", "", "")
        for p in catalog.pages_in(group):
            table.add_row(
                "  " + p.slug,
                ", ".join(p.library) or "-",
                ", ".join(c.code for c in p.checks) or "-",
            )
    Console(width=max(100, shutil.get_terminal_size().columns)).print(table)
    click.echo(f"{len(catalog.PAGES)} pages; `ray-patterns explain NAME` for one of them")


def _explain_check(check: catalog.Check) -> None:
    page = catalog.page(check.page)
    click.echo(f"{check.code} {check.name}  ({_where(check)})")
    click.echo(f"handbook page: {page.slug}: {page.title}")
    click.echo(f"fix: {check.fix_title}")
    rule = _lint_rule(check.code)
    if rule is not None:
        settings = ", ".join(f"{k.replace('_', '-')} = {v}" for k, v in rule.defaults.items())
        if settings:
            click.echo(f"settings: {settings}")
        click.echo("")
        click.echo(rule.doc())
    else:
        click.echo("")
        click.echo(check.summary + ". Seen at run time by `ray-patterns doctor`.")
    click.echo("")
    click.echo(references_text(check))


def references_text(check: catalog.Check) -> str:
    """The References section of a check's docs: Ray's page, our page, the rule page."""
    return "References\n" + "\n".join(
        f"- {label}: {url}" for label, url in catalog.references(check)
    )


def _lint_rule(code: str):  # type: ignore[no-untyped-def]
    from ray_patterns.lint.rules import all_rules

    return next((r for r in all_rules() if r.code == code), None)


@click.command()
@click.argument("name")
def explain(name: str) -> None:
    """Explain NAME: a code (RAY105, or an old RPD code), a check name, or a page name."""
    if name.strip().upper() == catalog.PARSE_ERROR_CODE or name.strip() == catalog.PARSE_ERROR_NAME:
        click.echo(f"{catalog.PARSE_ERROR_CODE} {catalog.PARSE_ERROR_NAME}  (lint)")
        click.echo(
            "The file (or notebook cell) does not parse as Python; nothing in it was checked."
        )
        return
    try:
        checks = catalog.checks_named(name)
    except catalog.UnknownName as exc:
        click.echo(f"ray-patterns explain: error: {exc}", err=True)
        sys.exit(2)
    if catalog.is_deprecated_code(name.strip()):
        click.echo(
            f"note: {name.strip().upper()} is deprecated: the doctor now reports "
            f"{checks[0].code}, the same code as the lint (old codes go in the next release)",
            err=True,
        )
    if not checks:  # a pattern page with no anti-pattern check
        page = catalog.page(name)
        click.echo(f"{page.slug}: {page.title}")
        click.echo(f"library: {', '.join(page.library) or page.plain_ray_fix or '-'}")
        click.echo("no anti-pattern check: this page is a pattern to follow")
        click.echo("")
        click.echo(f"References\n- Ray: {page.ray_url}\n- ray-patterns: {page.docs_url}")
        return
    for i, check in enumerate(checks):
        if i:
            click.echo("\n" + "-" * 72 + "\n")
        _explain_check(check)
