"""Bench output beyond the terminal: one PNG and one markdown table per slug, one HTML page."""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

from ray_patterns.bench.core import CaseResult

ROLE_COLORS = {"anti": "#d62728", "better": "#2ca02c", "library": "#1f77b4", "peer": "#7f7f7f"}


def _unit(metric: str) -> tuple[str, float]:
    if metric.endswith("_mib"):
        return "MiB", 1.0
    return "seconds", 1.0


def plot_png(result: CaseResult, machine: dict[str, object]) -> bytes:
    """Median per variant with min-max bars, coloured by role."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = [v for v in result.variants if v.values]
    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.45 * max(len(variants), 1)))
    names = [f"{v.name} ({v.role})" for v in variants]
    medians = [v.median for v in variants]
    low = [v.median - min(v.values) for v in variants]
    high = [max(v.values) - v.median for v in variants]
    ax.barh(
        names,
        medians,
        xerr=[low, high],
        color=[ROLE_COLORS[v.role] for v in variants],
        capsize=3,
    )
    ax.invert_yaxis()
    if medians and max(medians) / max(min(medians), 1e-12) > 50:
        ax.set_xscale("log")
    unit, _ = _unit(result.metric)
    ax.set_xlabel(f"{result.metric} ({unit}), median with min-max")
    ax.set_title(
        f"{result.slug}: {machine.get('cpu_count')} cores, Ray {machine.get('ray_version')}",
        fontsize=10,
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
    for result in results:
        parts.append(f"<h2 id='{result.slug}'>{html.escape(result.slug)}</h2>")
        parts.append(f"<p>{html.escape(result.summary)}</p>")
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
