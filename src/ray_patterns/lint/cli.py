"""``ray-patterns lint``, ``ray-patterns rules`` and ``ray-patterns explain``.

Example: ``ray-patterns lint src --select RAY1 --format json --output lint.json``.
Exit status: 0 clean, 1 findings, 2 usage or internal error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ray_patterns.lint.config import ConfigError, find_pyproject, load_config, resolve_selectors
from ray_patterns.lint.core import Finding, rule_url
from ray_patterns.lint.fix import fix_paths, show, summary
from ray_patterns.lint.output import FORMATS, render, statistics
from ray_patterns.lint.rules import all_rules
from ray_patterns.lint.runner import lint_paths


def _fail(message: str) -> None:
    click.echo(f"ray-patterns lint: error: {message}", err=True)
    sys.exit(2)


def _fix_line(f: Finding) -> str:
    return "" if f.fix is None else f"    fix ({f.fix.applicability}): {f.fix.title}\n"


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--select", multiple=True, help="Rules to run: codes, code prefixes or names.")
@click.option("--ignore", multiple=True, help="Rules to skip: codes, code prefixes or names.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of stdout.",
)
@click.option("--statistics", "stats", is_flag=True, help="Count findings per rule instead.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="pyproject.toml to read (default: nearest one).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to use (default: every core).",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Lint every file again, without reading or writing .ray_patterns_cache.",
)
@click.option("--fix", "apply_fixes", is_flag=True, help="Apply the safe fixes to the files.")
@click.option(
    "--unsafe-fixes", is_flag=True, help="With --fix or --diff: apply the unsafe fixes too."
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Print what the fixes would change as a unified diff; exit 1 if anything would.",
)
@click.option("--show-fixes", is_flag=True, help="List the fixes applied (or each finding's fix).")
def lint(
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    fmt: str,
    output: Path | None,
    stats: bool,
    exit_zero: bool,
    config_path: Path | None,
    jobs: int | None,
    no_cache: bool,
    apply_fixes: bool,
    unsafe_fixes: bool,
    show_diff: bool,
    show_fixes: bool,
) -> None:
    """Find Ray design-pattern anti-patterns in PATHS (default: the current folder)."""
    try:
        config = load_config(config_path or find_pyproject(Path.cwd()))
        if select:
            # flags win: what --select names runs even if the file ignores it
            config.select = resolve_selectors(select, "--select")
            config.ignore = config.ignore - config.select
        if ignore:
            config.ignore = config.ignore | resolve_selectors(ignore, "--ignore")
        config.make_rules()
    except ConfigError as exc:
        _fail(str(exc))
        return
    if show_diff or apply_fixes:
        outcomes = fix_paths(
            list(paths) or [Path(".")], config, unsafe=unsafe_fixes, write=not show_diff
        )
        for outcome in outcomes:
            if outcome.error is not None:
                click.echo(f"ray-patterns lint: error: {outcome.error}", err=True)
        if show_diff:
            click.echo("".join(o.diff() for o in outcomes if o.error is None), nl=False)
            pending = [f for o in outcomes for f in o.applied]
            click.echo(summary(outcomes, wrote=False, unsafe=unsafe_fixes), err=True)
            if show_fixes:
                click.echo(show(outcomes), nl=False, err=True)
            sys.exit(2 if any(o.error for o in outcomes) else 1 if pending else 0)
    try:
        result = lint_paths(list(paths) or [Path(".")], config, jobs, cache=not no_cache)
    except (OSError, RuntimeError) as exc:
        _fail(f"internal error: {exc!r}")
        return
    text = statistics(result.findings) if stats else render(result.findings, fmt)
    if show_fixes and not stats and fmt == "text":
        # each finding, then the fix it has
        text = "".join(render([f], fmt) + _fix_line(f) for f in result.findings)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output} ({exc.strerror}); choose another --output")
    else:
        click.echo(text, nl=False)
    if apply_fixes:
        click.echo(summary(outcomes, wrote=True, unsafe=unsafe_fixes), err=True)
        if show_fixes:
            click.echo(show(outcomes), nl=False, err=True)
        if any(o.error for o in outcomes):
            sys.exit(2)
    for error in result.errors:
        click.echo(f"ray-patterns lint: internal error: {error}", err=True)
    if result.errors:
        sys.exit(2)
    sys.exit(1 if result.findings and not exit_zero else 0)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def rules(fmt: str) -> None:
    """List the lint rules: code, name, summary."""
    found = all_rules()
    if fmt == "json":
        data = [
            {
                "code": r.code,
                "name": r.name,
                "page": r.page,
                "summary": r.summary(),
                "url": rule_url(r.name),
                "settings": dict(r.defaults),
            }
            for r in found
        ]
        click.echo(json.dumps(data, indent=2))
        return
    width = max(len(r.name) for r in found)
    for r in found:
        click.echo(f"{r.code}  {r.name:<{width}}  {r.summary()}")
