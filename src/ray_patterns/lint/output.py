"""Report findings as text, JSON, SARIF 2.1.0 or GitHub Actions annotations.

Example: ``print(render(findings, "text"))`` -> ``a.py:3:5: RAY105 ray.get() ...``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ray_patterns.lint.core import PARSE_ERROR_CODE, PARSE_ERROR_NAME, Finding, rule_url
from ray_patterns.lint.rules import all_rules

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _version() -> str:
    # importlib.metadata is imported only here: it costs more at start-up than a warm run
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ray-patterns")
    except PackageNotFoundError:  # pragma: no cover
        return "0"


def location(f: Finding) -> str:
    """``path:line:col`` or, in a notebook, ``path:cell N:line:col`` (as ruff shows it)."""
    if f.cell is not None:
        return f"{f.path}:cell {f.cell}:{f.line}:{f.column}"
    return f"{f.path}:{f.line}:{f.column}"


def fix_mark(f: Finding) -> str:
    """`` [*]``: a safe fix (``--fix``); `` [~]``: an unsafe one (``--unsafe-fixes``)."""
    if f.fix is None:
        return ""
    return " [*]" if f.fix.applicability == "safe" else " [~]"


def sarif_fix(f: Finding) -> dict[str, object]:
    """A SARIF ``fix`` for the finding's fix (columns 1-based, as in regions)."""
    assert f.fix is not None
    replacements = [
        {
            "deletedRegion": {
                "startLine": e.line,
                "startColumn": e.column + 1,
                "endLine": e.end_line,
                "endColumn": e.end_column + 1,
            },
            "insertedContent": {"text": e.text},
        }
        for e in f.fix.edits
    ]
    return {
        "description": {"text": f.fix.title},
        "artifactChanges": [
            {"artifactLocation": {"uri": _uri(f.path)}, "replacements": replacements}
        ],
        "properties": {"applicability": f.fix.applicability},
    }


def render(findings: Sequence[Finding], fmt: str) -> str:
    if fmt == "text":
        return "".join(f"{location(f)}: {f.code}{fix_mark(f)} {f.message}\n" for f in findings)
    if fmt == "json":
        return json.dumps([f.as_dict() for f in findings], indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(sarif(findings), indent=2) + "\n"
    if fmt == "github":
        return "".join(_github(f) for f in findings)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def statistics(findings: Sequence[Finding]) -> str:
    """One line per rule: count, code, name; most frequent first."""
    counts = Counter((f.code, f.name) for f in findings)
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    width = max((len(str(n)) for _, n in rows), default=1)
    return "".join(f"{n:>{width}}\t{code}\t{name}\n" for (code, name), n in rows)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github(f: Finding) -> str:
    props = (
        f"title={_escape_prop(f'ray-patterns ({f.code} {f.name})')},"
        f"file={_escape_prop(f.path)},line={f.line},col={f.column},"
        f"endLine={f.end_line},endColumn={f.end_column}"
    )
    return f"::error {props}::{_escape_data(f'{location(f)}: {f.code} {f.message}')}\n"


def _uri(path: str) -> str:
    p = Path(path)
    if p.is_absolute():
        return p.as_uri()
    return p.as_posix().replace("%", "%25").replace(" ", "%20").replace("#", "%23")


def sarif(findings: Sequence[Finding]) -> dict[str, object]:
    """A SARIF 2.1.0 log with one run; every rule is described, used or not."""
    rules: list[dict[str, object]] = [
        {
            "id": PARSE_ERROR_CODE,
            "name": PARSE_ERROR_NAME,
            "shortDescription": {"text": "The file cannot be read or parsed as Python."},
            "helpUri": rule_url(PARSE_ERROR_NAME),
            "defaultConfiguration": {"level": "error"},
        }
    ]
    for rule in all_rules():
        rules.append(
            {
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary()},
                "fullDescription": {"text": rule.doc()},
                "help": {"text": rule.doc(), "markdown": rule.doc()},
                "helpUri": rule_url(rule.name),
                "defaultConfiguration": {"level": "warning"},
                "properties": {"handbookPage": rule.page},
            }
        )
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for f in findings:
        region = {
            "startLine": f.line,
            "startColumn": f.column,
            "endLine": max(f.end_line, f.line),
            "endColumn": max(f.end_column, 1),
        }
        result: dict[str, object] = {
            "ruleId": f.code,
            "ruleIndex": index.get(f.code, 0),
            "level": "error" if f.code == PARSE_ERROR_CODE else "warning",
            "message": {"text": f.message},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": _uri(f.path)}, "region": region}}
            ],
        }
        if f.cell is not None:
            result["properties"] = {"cell": f.cell}
        if f.fix is not None:
            result["fixes"] = [sarif_fix(f)]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ray-patterns",
                        "version": _version(),
                        "informationUri": "https://ray-patterns.readthedocs.io/",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
