"""``ray-patterns bench``: every handbook anti-pattern against its fix, side by side."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ray_patterns.bench.core import CaseResult, against_hand, discover_cases, machine_info, run_case
from ray_patterns.bench.report import by_catalog, format_value, write_html, write_plots

SUMMARY_WIDTH = 100


def _peer_phrase(res: CaseResult) -> str:
    """``"best peer joblib loky: 1.2x faster than by hand"``, or ``""`` when no peer ran."""
    if res.caveat:
        return ""  # at a size that cannot show the page, no ratio is printed
    best = res.best_peer()
    if best is not None and res.kind == "correctness" and res.correct:
        # a peer that gets the result wrong is no alternative, however fast
        right = res.by_role("better")
        want = right.extra_median(res.correct) if right is not None else float("nan")
        peers = [
            v
            for v in res.variants
            if v.role == "peer" and v.values and v.extra_median(res.correct) == want
        ]
        best = min(peers, key=lambda v: v.median) if peers else None
    if best is not None and res.kind == "memory":
        # a peer outside Ray holds its data elsewhere (pipes, files): zero in the
        # store is no figure, so only peers that used the store are compared
        peers = [v for v in res.variants if v.role == "peer" and v.values and v.median > 0]
        pick = min if res.lower_is_better else max
        best = pick(peers, key=lambda v: v.median) if peers else None
    if best is None:
        return ""
    return "best peer: " + against_hand(res, best.median, best.name).replace(" than by hand", "")


def summary_table(results: list[CaseResult]) -> list[Table]:
    """One row per page in the catalog's order, then the tool cases; fits 100 columns."""
    pages, tools = by_catalog(results)
    tables = []
    for title, rows, first in (
        ("ray-patterns bench: each page on its own metric (one run)", pages, "page"),
        ("the tools themselves", tools, "case"),
    ):
        if not rows:
            continue
        table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
        table.add_column(first, no_wrap=True)
        table.add_column("verdict")
        for res in rows:
            verdict = "; ".join(p for p in (res.verdict or "-", _peer_phrase(res)) if p)
            if "NOT " in verdict or "too small" in verdict or "no verdict" in verdict:
                verdict = f"[yellow]{verdict}[/yellow]"
            table.add_row(res.slug, verdict)
        tables.append(table)
    return tables


def timing_line(results: list[CaseResult]) -> str:
    """What the run cost, two lines under 100 columns each.

    ``timed work`` is the timed repetitions alone (the runs the medians come
    from); the cases in all also set up actors and data, warm up and compute
    their figures, which is the time a user waits.
    """
    timed = sum(r.timed_s for r in results)
    whole = sum(r.wall_s for r in results)
    line = (
        f"timed work: {timed:.0f} s in the timed runs; {whole:.0f} s for the "
        f"{len(results)} cases with setup, warm-ups and figures"
    )
    if len(results) > 1:
        slowest = sorted(results, key=lambda r: r.wall_s, reverse=True)[:3]
        line += "\nslowest: " + ", ".join(f"{r.slug} {r.wall_s:.0f} s" for r in slowest)
    return line


def detail_table(res: CaseResult) -> Table:
    table = Table(title=f"{res.slug}: {res.summary}", title_justify="left")
    table.add_column("variant")
    table.add_column("role")
    table.add_column(f"median {res.metric}", justify="right")
    table.add_column("min", justify="right")
    table.add_column("max", justify="right")
    keys = sorted({k for v in res.variants for e in v.extras for k in e} - {res.metric})
    for key in keys:
        table.add_column(key, justify="right")
    for v in res.variants:
        if v.error:
            table.add_row(v.name, v.role, f"[red]failed: {v.error}[/red]")
            continue
        row = [v.name, v.role, format_value(v.median, res.metric)]
        row += [format_value(min(v.values), res.metric), format_value(max(v.values), res.metric)]
        row += [format_value(v.extra_median(k), k) for k in keys]
        table.add_row(*row)
    for name, value in res.figures.items():
        table.add_row(f"[dim]{name}[/dim]", "figure", f"{value:.3g}")
    return table


def to_json(results: list[CaseResult], quick: bool) -> dict[str, object]:
    return {
        "machine": machine_info(),
        "quick": quick,
        "cases": [
            {
                "slug": r.slug,
                "summary": r.summary,
                "metric": r.metric,
                "kind": r.kind,
                "label": r.label,
                "lower_is_better": r.lower_is_better,
                "correct": r.correct,
                "verdict": r.verdict,
                "caveat": r.caveat,
                "wall_s": r.wall_s,
                "timed_s": r.timed_s,
                "ratios": {"anti/better": r.ratio("anti"), "library/better": r.ratio("library")},
                "figures": r.figures,
                "variants": [
                    {
                        "name": v.name,
                        "role": v.role,
                        "median": v.median,
                        "values": v.values,
                        "extras": v.extras,
                        "error": v.error,
                    }
                    for v in r.variants
                ],
            }
            for r in results
        ],
    }


@click.command()
@click.argument("slugs", nargs=-1)
@click.option("--quick", is_flag=True, help="Small sizes, few repetitions (under 2 minutes).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--plot",
    "plot_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write DIR/<slug>.png and DIR/<slug>.md (table embedding the plot).",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="One HTML page with every table and plot (quick runs write one to a temporary folder).",
)
@click.option(
    "--case", "case_names", multiple=True, help="A case to run (repeatable); same as SLUGS."
)
@click.option("--list", "list_only", is_flag=True, help="List the cases and exit.")
def bench(
    slugs: tuple[str, ...],
    case_names: tuple[str, ...],
    quick: bool,
    json_path: Path | None,
    plot_dir: Path | None,
    html_path: Path | None,
    list_only: bool,
) -> None:
    """Measure each handbook anti-pattern against its fix on a real Ray.

    Runs on the Ray of RAY_ADDRESS if set, else on a local instance it starts.
    """
    cases = discover_cases()
    if list_only:
        for slug, case in cases.items():
            click.echo(f"{slug:40} {case.summary}")
        return
    slugs = (*slugs, *case_names)
    unknown = [s for s in slugs if s not in cases]
    if unknown:
        raise click.UsageError(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(cases)}")
    selected = [cases[s] for s in slugs] if slugs else list(cases.values())

    import ray

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(include_dashboard=False, log_to_driver=False)
    # rich wraps to 80 columns when not on a terminal: tables need more
    console = Console(width=None if sys.stdout.isatty() else 160)
    info = machine_info()
    console.print(
        f"Ray {info['ray_version']} on {info['cpu_count']} cores "
        f"({info['ray_cpus']:.0f} Ray CPUs), {'quick' if quick else 'full'} run"
    )
    results: list[CaseResult] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} cases"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=len(selected))
        for case in selected:
            result = run_case(
                case, quick=quick, on_step=lambda s: progress.update(task, description=s)
            )
            results.append(result)
            progress.advance(task)
    for res in results:
        console.print(detail_table(res))
    for table in summary_table(results):
        console.print(table, width=min(console.width, SUMMARY_WIDTH))
    console.print(timing_line(results), width=min(console.width, SUMMARY_WIDTH))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(to_json(results, quick), indent=2, default=float))
        console.print(f"wrote {json_path}")
    if plot_dir is not None:
        write_plots(results, info, plot_dir)
        console.print(f"wrote {len(results)} plots and tables to {plot_dir}")
    if html_path is None and quick:
        html_path = Path(tempfile.mkdtemp(prefix="ray-patterns-bench-")) / "bench.html"
    if html_path is not None:
        write_html(results, info, html_path)
        console.print(f"plots of each page on its own metric: {html_path}")
    failed = [f"{r.slug}/{v.name}" for r in results for v in r.variants if v.error]
    if failed:
        raise click.ClickException(f"variants failed: {', '.join(failed)}")
    if started_here:
        ray.shutdown()
