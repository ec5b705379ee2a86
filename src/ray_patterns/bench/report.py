"""Bench output beyond the terminal: one PNG and one markdown table per slug, one HTML page."""

from __future__ import annotations

import base64
import html
import io
import math
import textwrap
from pathlib import Path

from ray_patterns.bench.core import CaseResult, metric_label

ROLE_COLORS = {"anti": "#d62728", "better": "#2ca02c", "library": "#1f77b4", "peer": "#7f7f7f"}


def by_catalog(results: list[CaseResult]) -> tuple[list[CaseResult], list[CaseResult]]:
    """The results of handbook pages in the catalog's order, and the other (tool) cases."""
    from ray_patterns import catalog

    order = {p.bench_case: i for i, p in enumerate(catalog.PAGES)}
    pages = sorted((r for r in results if r.slug in order), key=lambda r: order[r.slug])
    return pages, [r for r in results if r.slug not in order]


def _unit(metric: str) -> str:
    if metric.endswith("_mib"):
        return "MiB"
    if metric.endswith("_ms"):
        return "ms"
    if metric == "seconds" or metric.endswith("_s"):
        return "seconds"
    return ""


def plot_key(result: CaseResult) -> str:
    """The figure a page's plot shows: its metric, or for a correctness page its result."""
    if result.kind == "correctness" and result.correct:
        return result.correct
    return result.metric


def plot_png(result: CaseResult, machine: dict[str, object]) -> bytes:
    """Median per variant with min-max bars, coloured by role, on the page's own metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key = plot_key(result)
    rows = []
    for v in result.variants:
        values = [e[key] for e in v.extras if key in e]
        if values:
            rows.append((v, sorted(values)[len(values) // 2], min(values), max(values)))
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.45 * max(len(rows), 1)))
    medians = [m for _, m, _, _ in rows]
    bars = ax.barh(
        [f"{v.name} ({v.role})" for v, *_ in rows],
        medians,
        xerr=[[m - lo for _, m, lo, _ in rows], [hi - m for _, m, _, hi in rows]],
        color=[ROLE_COLORS[v.role] for v, *_ in rows],
        capsize=3,
    )
    ax.bar_label(bars, labels=[format_value(m, key) for m in medians], padding=4, fontsize=8)
    ax.margins(x=0.15)
    ax.invert_yaxis()
    if medians and min(medians) > 0 and max(medians) / min(medians) > 50:
        ax.set_xscale("log")
    unit = _unit(key)
    better = "lower is better" if result.lower_is_better else "higher is better"
    if key != result.metric:
        better = "the result each variant got"
    label = result.label if key == result.metric else metric_label(key)
    name = f"{label} ({unit})" if unit else label
    ax.set_xlabel(f"{name}, median with min-max; {better}")
    ax.set_title(
        textwrap.fill(f"{result.slug}: {result.verdict}", 75)
        + f"\n{machine.get('cpu_count')} cores, Ray {machine.get('ray_version')}"
        + (", quick sizes" if result.quick else ""),
        fontsize=9,
    )
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def format_value(value: float, key: str) -> str:
    """A figure with the unit its key implies (``*_s``/``seconds``, ``*_mib``)."""
    if math.isnan(value):
        return "-"
    if key.endswith("_mib"):
        return f"{value:,.0f} MiB"
    if key == "seconds" or key.endswith("_s"):
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.3g}"


def markdown_table(result: CaseResult, machine: dict[str, object], image: str | None) -> str:
    keys = sorted({k for v in result.variants for e in v.extras for k in e} - {result.metric})
    head = ["variant", "role", f"median {result.metric}", "min", "max", *keys]
    lines = [
        f"Measured by `ray-patterns bench` on {machine.get('cpu_count')} cores, "
        f"Ray {machine.get('ray_version')}, Python {machine.get('python')}.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    for v in result.variants:
        if v.error:
            lines.append(f"| {v.name} | {v.role} | failed: {v.error} |" + " |" * (len(head) - 3))
            continue
        row = [v.name, v.role, format_value(v.median, result.metric)]
        row += [
            format_value(min(v.values), result.metric),
            format_value(max(v.values), result.metric),
        ]
        row += [format_value(v.extra_median(k), k) for k in keys]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        f"**{result.verdict}**" if result.verdict else "",
        "",
        f"anti/better: {format_value(result.ratio('anti'), 'x')}x, "
        f"library/better: {format_value(result.ratio('library'), 'x')}x",
    ]
    for name, value in result.figures.items():
        lines.append(f"- {name}: {value:.3g}")
    if image:
        lines += ["", f"![{result.slug} bench]({image})"]
    return "\n".join(lines) + "\n"


def write_plots(results: list[CaseResult], machine: dict[str, object], directory: Path) -> None:
    """``DIR/<slug>.png`` and ``DIR/<slug>.md`` (the table, which embeds the PNG)."""
    directory.mkdir(parents=True, exist_ok=True)
    for result in results:
        (directory / f"{result.slug}.png").write_bytes(plot_png(result, machine))
        text = markdown_table(result, machine, f"{result.slug}.png")
        (directory / f"{result.slug}.md").write_text(text)


def write_html(results: list[CaseResult], machine: dict[str, object], path: Path) -> None:
    """One self-contained page: every table and plot (PNGs inlined as data URIs)."""
    parts = [
        "<!doctype html><meta charset='utf-8'><title>ray-patterns bench</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}"
        "td{text-align:right}td:first-child,td:nth-child(2){text-align:left}</style>",
        f"<h1>ray-patterns bench</h1><p>{machine.get('cpu_count')} cores, "
        f"Ray {html.escape(str(machine.get('ray_version')))}, "
        f"Python {html.escape(str(machine.get('python')))}</p>",
    ]
    pages, tools = by_catalog(results)
    parts.append("<table><tr><th>page</th><th>verdict (one run)</th></tr>")
    for result in pages + tools:
        parts.append(
            f"<tr><td><a href='#{result.slug}'>{html.escape(result.slug)}</a></td>"
            f"<td style='text-align:left'>{html.escape(result.verdict)}</td></tr>"
        )
    parts.append("</table>")
    for result in pages + tools:
        parts.append(f"<h2 id='{result.slug}'>{html.escape(result.slug)}</h2>")
        parts.append(f"<p>{html.escape(result.summary)}</p>")
        if result.verdict:
            parts.append(f"<p><b>{html.escape(result.verdict)}</b></p>")
        keys = sorted({k for v in result.variants for e in v.extras for k in e} - {result.metric})
        head = ["variant", "role", f"median {result.metric}", "min", "max", *keys]
        parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>")
        for v in result.variants:
            if v.error:
                cells = [v.name, v.role, f"failed: {v.error}"]
            else:
                cells = [v.name, v.role, format_value(v.median, result.metric)]
                cells += [
                    format_value(min(v.values), result.metric),
                    format_value(max(v.values), result.metric),
                ]
                cells += [format_value(v.extra_median(k), k) for k in keys]
            parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
        parts.append(
            f"<p>anti/better {format_value(result.ratio('anti'), 'x')}x, "
            f"library/better {format_value(result.ratio('library'), 'x')}x</p>"
        )
        if result.figures:
            parts.append(
                "<ul>"
                + "".join(f"<li>{html.escape(k)}: {v:.3g}</li>" for k, v in result.figures.items())
                + "</ul>"
            )
        if any(v.values for v in result.variants):
            png = base64.b64encode(plot_png(result, machine)).decode()
            parts.append(f"<img alt='{result.slug}' src='data:image/png;base64,{png}'>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
