"""Findings and the report: terminal summary, JSON, HTML (Gantt) and Chrome trace."""

from __future__ import annotations

import html
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

from ray_patterns import _findings, catalog
from ray_patterns._units import human_bytes

SCHEMA = "ray-patterns-doctor/2"

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
                    "source",
                    "code",
                    "name",
                    "slug",
                    "path",
                    "line",
                    "count",
                    "cost_seconds",
                    "bytes",
                    "message",
                    "fix_title",
                    "url",
                ],
                "properties": {
                    "source": {"const": "doctor"},
                    "code": {"type": "string", "pattern": "^RAY[0-9]{3}$"},
                    "name": {"type": "string"},
                    "slug": {"type": "string"},
                    "path": {"type": "string"},
                    "line": {"type": "integer", "minimum": 0},
                    "count": {"type": "integer", "minimum": 1},
                    "cost_seconds": _NUMBER_OR_NULL,
                    "bytes": {"type": ["integer", "null"], "minimum": 0},
                    "message": {"type": "string"},
                    "fix_title": {"type": "string"},
                    "url": {"type": "string"},
                    "ray_url": {"type": ["string", "null"]},
                    "scope": {"type": "string"},
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


@dataclass(frozen=True)
class Finding(_findings.Finding):
    """One anti-pattern hit at one call site, with what it cost the run.

    The shared finding model (code, check name, handbook page as ``slug``, fix
    title, links) plus how often it happened, the time and bytes it cost, and the
    task or actor method it happened inside (``scope``, empty on the driver).

    >>> f = Finding.make("ray-get-loop", "a.py", 3, 10, "msg")
    >>> f.code, f.name, f.slug, f.source
    ('RAY105', 'ray-get-loop', 'ray-get-loop', 'doctor')
    """

    source: Literal["lint", "doctor"] = field(default="doctor", compare=False)
    count: int = 1
    cost_seconds: float | None = None
    bytes: int | None = None
    scope: str = ""

    @classmethod
    def make(
        cls,
        check: str,
        path: str,
        line: int,
        count: int,
        message: str,
        *,
        cost_seconds: float | None = None,
        nbytes: int | None = None,
        related: Iterable[_findings.Related] = (),
        scope: str = "",
    ) -> Finding:
        """A finding of ``check`` (its name, code, or a deprecated RPD code) at ``path:line``."""
        found = catalog.check(check)
        if scope:
            message = f"in {scope}: {message}"
        return cls(
            path,
            line,
            1,
            line,
            1,
            found.code,
            found.name,
            message,
            related=tuple(related),
            count=count,
            cost_seconds=None if cost_seconds is None else round(cost_seconds, 4),
            bytes=nbytes,
            scope=scope,
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

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        out.update(
            source="doctor",
            count=self.count,
            cost_seconds=self.cost_seconds,
            bytes=self.bytes,
            scope=self.scope,
        )
        return out


@dataclass
class Report:
    """What a watched run hit; filled when the ``watch()`` block ends.

    >>> Report().by_check("ray-get-loop")
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

    def by_check(self, name: str) -> list[Finding]:
        """Findings of a check named by code, old RPD code, check name or page name.

        A page name selects every check of that page; an unknown name raises
        ``catalog.UnknownName`` with close matches.
        """
        codes = {c.code for c in catalog.checks_named(name)}
        return [f for f in self.findings if f.code in codes]

    #: the earlier name of ``by_check`` (it accepts the same names)
    by_slug = by_check

    @property
    def slugs(self) -> set[str]:
        """The handbook pages of the findings."""
        return {f.slug for f in self.findings}

    @property
    def names(self) -> set[str]:
        """The check names of the findings (``unbounded-submission``)."""
        return {f.name for f in self.findings}

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "ray_version": self.ray_version,
            "duration_s": round(self.duration_s, 4),
            "exit_code": self.exit_code,
            "findings": [f.as_dict() for f in self.findings],
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
            for column in ("code", "check", "where", "count", "cost", "fix"):
                table.add_column(column, overflow="fold")
            for f in self.findings:
                table.add_row(
                    f.code, f.name, f.where, str(f.count), f.cost_text(), f"{f.fix_title}\n{f.url}"
                )
            console.print(table)
            for f in self.findings:
                console.print(
                    f"  {f.where} {f.code} [{f.name}] {f.message}", markup=False, highlight=False
                )
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
        f"<td><code>{esc(f.code)} {esc(f.name)}</code></td><td>{esc(f.where)}</td>"
        f"<td>{f.count}</td>"
        f"<td>{esc(f.cost_text())}</td><td>{esc(f.message)}</td>"
        f'<td>{esc(f.fix_title)}<br><a href="{esc(f.url)}">{esc(f.url)}</a></td>'
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
<table><tr><th>check</th><th>where</th><th>count</th><th>cost</th><th>what</th><th>fix</th></tr>
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
