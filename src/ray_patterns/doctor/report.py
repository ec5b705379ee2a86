"""Findings and the report: terminal summary, JSON, HTML (Gantt) and Chrome trace."""

from __future__ import annotations

import html
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from ray_patterns.doctor._sizes import human_bytes

SCHEMA = "ray-patterns-doctor/1"

_NUMBER_OR_NULL = {"type": ["number", "null"]}
#: JSON Schema of ``--json`` output; the ``schema`` field names its version
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema", "ray_version", "findings", "observed", "not_observed", "exit_code"],
    "properties": {
        "schema": {"const": SCHEMA},
        "ray_version": {"type": "string"},
        "duration_s": {"type": "number"},
        "exit_code": {"type": ["integer", "null"]},
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "slug",
                    "code",
                    "path",
                    "line",
                    "count",
                    "cost_seconds",
                    "bytes",
                    "message",
                    "url",
                ],
                "properties": {
                    "slug": {"type": "string"},
                    "code": {"type": "string", "pattern": "^RPD[0-9]{3}$"},
                    "path": {"type": "string"},
                    "line": {"type": "integer", "minimum": 0},
                    "count": {"type": "integer", "minimum": 1},
                    "cost_seconds": _NUMBER_OR_NULL,
                    "bytes": {"type": ["integer", "null"], "minimum": 0},
                    "message": {"type": "string"},
                    "url": {"type": "string"},
                    "fix": {"type": "string"},
                    "page": {"type": "string"},
                    "related": {"type": "array"},
                },
            },
        },
        "observed": {
            "type": "object",
            "required": ["tasks", "actor_tasks", "gets", "bytes_fetched", "task_durations_source"],
        },
        "not_observed": {"type": "array", "items": {"type": "string"}},
    },
}
_DOCS = "https://docs.ray.io/en/latest/ray-core/patterns/"

#: slug -> (code, handbook page slug, Ray docs page, the fix)
CATALOG: dict[str, tuple[str, str, str, str]] = {
    "global-variables": (
        "RPD101",
        "global-variables",
        "global-variables.html",
        "pass the value as an argument, or keep shared state in an actor",
    ),
    "fine-grained-tasks": (
        "RPD102",
        "fine-grained-tasks",
        "too-fine-grained-tasks.html",
        "ray_patterns.batched_map(fn, items): many items per task",
    ),
    "unnecessary-ray-get": (
        "RPD103",
        "unnecessary-ray-get",
        "unnecessary-ray-get.html",
        "pass the ObjectRef itself to the next .remote(); call ray.get as late as possible",
    ),
    "closure-capture": (
        "RPD104",
        "closure-capture",
        "closure-capture-large-objects.html",
        "ray.put the object and pass the ref, or build it inside the task",
    ),
    "ray-get-loop": (
        "RPD105",
        "ray-get-loop",
        "ray-get-loop.html",
        "submit every task first, then one ray.get(refs) (or ray_patterns.as_completed)",
    ),
    "redefine-task-actor-loop": (
        "RPD106",
        "redefine-task-actor-loop",
        "redefine-task-actor-loop.html",
        "apply @ray.remote once, at module level, outside the loop",
    ),
    "submission-order": (
        "RPD107",
        "submission-order",
        "ray-get-submission-order.html",
        "ray_patterns.as_completed(refs): process results as they finish",
    ),
    "too-many-results": (
        "RPD108",
        "too-many-results",
        "ray-get-too-many-objects.html",
        "ray_patterns.iter_results(refs, chunk_size=...): fetch in bounded chunks",
    ),
    "unbounded-submission": (
        "RPD109",
        "limit-tasks",
        "limit-pending-tasks.html",
        "ray_patterns.bounded_map(fn, items, max_in_flight=...)",
    ),
    "blocking-get-in-async": (
        "RPD110",
        "concurrent-operations-async-actor",
        "concurrent-operations-async-actor.html",
        "await the ref (await ref, await asyncio.gather(*refs)) instead of ray.get/ray.wait",
    ),
}


@dataclass
class Finding:
    """One anti-pattern hit at one call site.

    >>> Finding.make("ray-get-loop", "a.py", 3, 10, "msg").code
    'RPD105'
    """

    slug: str
    code: str
    path: str
    line: int
    count: int
    cost_seconds: float | None
    bytes: int | None
    message: str
    url: str
    fix: str
    page: str
    related: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def make(
        cls,
        slug: str,
        path: str,
        line: int,
        count: int,
        message: str,
        *,
        cost_seconds: float | None = None,
        nbytes: int | None = None,
        related: list[dict[str, Any]] | None = None,
    ) -> Finding:
        code, page, doc, fix = CATALOG[slug]
        return cls(
            slug,
            code,
            path,
            line,
            count,
            None if cost_seconds is None else round(cost_seconds, 4),
            nbytes,
            message,
            _DOCS + doc,
            fix,
            page,
            related or [],
        )

    @property
    def where(self) -> str:
        return f"{_short(self.path)}:{self.line}"

    def cost_text(self) -> str:
        parts = []
        if self.cost_seconds is not None:
            parts.append(f"{self.cost_seconds:.2f} s")
        if self.bytes:
            parts.append(human_bytes(self.bytes))
        return ", ".join(parts) or "-"


@dataclass
class Report:
    """What a watched run hit; filled when the ``watch()`` block ends.

    >>> Report().by_slug("ray-get-loop")
    []
    """

    findings: list[Finding] = field(default_factory=list)
    observed: dict[str, Any] = field(default_factory=dict)
    not_observed: list[str] = field(default_factory=list)
    ray_version: str = ""
    duration_s: float = 0.0
    exit_code: int | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list, repr=False)
    complete: bool = False

    def by_slug(self, slug: str) -> list[Finding]:
        return [f for f in self.findings if f.slug == slug]

    @property
    def slugs(self) -> set[str]:
        return {f.slug for f in self.findings}

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "ray_version": self.ray_version,
            "duration_s": round(self.duration_s, 4),
            "exit_code": self.exit_code,
            "findings": [asdict(f) for f in self.findings],
            "observed": self.observed,
            "not_observed": self.not_observed,
        }

    def write_json(self, path: str) -> None:
        _write(path, json.dumps(self.to_dict(), indent=2, default=str))

    def trace_events(self) -> list[dict[str, Any]]:
        """Chrome trace events (``ph: "X"``, microseconds) of tasks per worker and driver gets."""
        events: list[dict[str, Any]] = []
        rows: dict[tuple[str, str], int] = {}
        for item in self.timeline:
            key = (item["node"], item["row"])
            if key not in rows:
                rows[key] = len(rows) + 1
                events.append(
                    {
                        "ph": "M",
                        "name": "thread_name",
                        "pid": item["node"],
                        "tid": rows[key],
                        "args": {"name": item["row"]},
                    }
                )
            events.append(
                {
                    "ph": "X",
                    "name": item["name"],
                    "cat": item["cat"],
                    "pid": item["node"],
                    "tid": rows[key],
                    "ts": round(item["start"] * 1e6, 1),
                    "dur": round(max(item["end"] - item["start"], 0.0) * 1e6, 1),
                    "args": item.get("args", {}),
                }
            )
        return events

    def write_trace(self, path: str) -> None:
        _write(path, json.dumps({"traceEvents": self.trace_events(), "displayTimeUnit": "ms"}))

    def write_html(self, path: str) -> None:
        _write(path, render_html(self))

    def print_summary(self, file: TextIO | None = None) -> None:
        """The terminal summary: one row per finding (rich table)."""
        from rich.console import Console
        from rich.table import Table

        console = Console(file=file or sys.stderr, width=160)
        observed = self.observed
        head = (
            f"ray-patterns doctor: {len(self.findings)} finding(s); observed "
            f"{observed.get('tasks', 0)} tasks, {observed.get('actor_tasks', 0)} actor calls, "
            f"{observed.get('gets', 0)} gets ({human_bytes(observed.get('bytes_fetched', 0))})"
        )
        console.print(head, markup=False)
        if self.findings:
            table = Table(show_lines=False)
            for column in ("slug", "where", "count", "cost", "fix"):
                table.add_column(column, overflow="fold")
            for f in self.findings:
                table.add_row(f.slug, f.where, str(f.count), f.cost_text(), f"{f.fix}\n{f.url}")
            console.print(table)
            for f in self.findings:
                console.print(f"  {f.where} [{f.slug}] {f.message}", markup=False, highlight=False)
        for item in self.not_observed:
            console.print(f"  not observed: {item}", markup=False, highlight=False)


def _short(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if not rel.startswith("..") else path


def _write(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


_COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f"]


def render_html(report: Report) -> str:
    """One self-contained page: findings table and an inline-SVG Gantt of tasks per worker."""
    esc = html.escape
    rows_html = "".join(
        "<tr>"
        f"<td><code>{esc(f.slug)}</code></td><td>{esc(f.where)}</td><td>{f.count}</td>"
        f"<td>{esc(f.cost_text())}</td><td>{esc(f.message)}</td>"
        f'<td>{esc(f.fix)}<br><a href="{esc(f.url)}">{esc(f.url)}</a></td>'
        "</tr>"
        for f in report.findings
    )
    if not rows_html:
        rows_html = '<tr><td colspan="6">no anti-pattern found</td></tr>'
    svg = _gantt_svg(report.timeline)
    observed = esc(json.dumps(report.observed, indent=2, default=str))
    missing = "".join(f"<li>{esc(m)}</li>" for m in report.not_observed)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ray-patterns doctor</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 4px 8px;
vertical-align: top; font-size: 13px; }} th {{ background: #eee; }}
pre {{ background: #f6f6f6; padding: 8px; }} svg text {{ font-size: 11px; }}
</style></head><body>
<h1>ray-patterns doctor</h1>
<p>Ray {esc(report.ray_version)}, run of {report.duration_s:.2f} s,
{len(report.findings)} finding(s).</p>
<h2>Findings</h2>
<table><tr><th>slug</th><th>where</th><th>count</th><th>cost</th><th>what</th><th>fix</th></tr>
{rows_html}</table>
<h2>Timeline</h2>
<p>One row per worker process (task run times from Ray's task events) and one for the
driver's blocking <code>ray.get</code> calls; gaps are idle workers.</p>
{svg}
<h2>Observed</h2><pre>{observed}</pre>
<ul>{missing}</ul>
</body></html>
"""


def _gantt_svg(timeline: list[dict[str, Any]], width: int = 1100) -> str:
    if not timeline:
        return "<p>No task run times were observed.</p>"
    t0 = min(item["start"] for item in timeline)
    t1 = max(item["end"] for item in timeline)
    span = max(t1 - t0, 1e-6)
    rows: list[str] = []
    for item in timeline:
        if item["row"] not in rows:
            rows.append(item["row"])
    rows.sort(key=lambda r: (r != "driver", r))
    names = sorted({item["name"] for item in timeline})
    color = {name: _COLORS[i % len(_COLORS)] for i, name in enumerate(names)}
    label_w, row_h = 170, 22
    plot_w = width - label_w - 10
    height = row_h * len(rows) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">',
    ]
    for i, row in enumerate(rows):
        y = i * row_h + 4
        parts.append(f'<text x="2" y="{y + 14}">{html.escape(row)}</text>')
        parts.append(
            f'<line x1="{label_w}" y1="{y + row_h - 2}" x2="{width}" y2="{y + row_h - 2}" '
            'stroke="#eee"/>'
        )
    index = {row: i for i, row in enumerate(rows)}
    for item in timeline:
        x = label_w + (item["start"] - t0) / span * plot_w
        w = max((item["end"] - item["start"]) / span * plot_w, 0.5)
        y = index[item["row"]] * row_h + 4
        fill = "#e15759" if item["cat"] == "driver" else color[item["name"]]
        tip = f"{item['name']}: {(item['end'] - item['start']) * 1000:.1f} ms"
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 6}" fill="{fill}">'
            f"<title>{html.escape(tip)}</title></rect>"
        )
    axis_y = len(rows) * row_h + 20
    parts.append(f'<text x="{label_w}" y="{axis_y}">0 s</text>')
    parts.append(f'<text x="{width - 60}" y="{axis_y}">{span:.2f} s</text>')
    parts.append("</svg>")
    legend = " ".join(
        f'<span style="color:{color[n]}">&#9632;</span> {html.escape(n)}' for n in names
    )
    return "".join(parts) + f"<p>{legend}</p>"
