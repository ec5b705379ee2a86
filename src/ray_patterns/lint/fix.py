"""Apply the lint's fixes (ruff's model): safe ones by default, unsafe ones on request.

Each pass lints the text, takes every applicable fix whose edits overlap no fix taken
before it, applies them, and lints again, until nothing changes (at most
``MAX_PASSES``). A result that no longer parses is never kept: the original stays.
Notebooks are fixed cell by cell; outputs and metadata are left as they were.

Example::

    outcome = fix_source(source, "job.py", LintConfig())
    outcome.fixed        # the new text
    outcome.applied      # the findings whose fixes were applied
"""

from __future__ import annotations

import ast
import difflib
import io
import json
import re
import tokenize
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ray_patterns._findings import Finding, Fix
from ray_patterns.lint.config import LintConfig
from ray_patterns.lint.core import Rule
from ray_patterns.lint.edits import source_lines
from ray_patterns.lint.engine import ParseFailure, decode, lint_notebook, lint_source
from ray_patterns.lint.files import discover
from ray_patterns.lint.notebook import NotebookError, notebook_source

MAX_PASSES = 10


@dataclass
class Outcome:
    """What fixing one file did: the text before and after, and the fixes applied."""

    path: str
    original: str
    fixed: str
    applied: list[Finding] = field(default_factory=list)
    # why the fixes were not kept (they would leave the file unparsable)
    error: str | None = None
    errors: list[str] = field(default_factory=list)  # rules that crashed
    # the findings left after the last pass
    remaining: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self) -> str:
        """A unified diff from the original to the fixed text (``""`` if unchanged)."""
        return "".join(
            difflib.unified_diff(
                self.original.splitlines(keepends=True),
                self.fixed.splitlines(keepends=True),
                fromfile=f"a/{self.path}",
                tofile=f"b/{self.path}",
            )
        )


def applicable(f: Finding, unsafe: bool) -> bool:
    """Would ``--fix`` (``--unsafe-fixes`` if ``unsafe``) apply this finding's fix?"""
    return f.fix is not None and (unsafe or f.fix.applicability == "safe")


def _offsets(source: str) -> tuple[list[str], list[int]]:
    lines = source_lines(source)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return lines, starts


def _offset(lines: list[str], starts: list[int], line: int, column: int) -> int:
    """Character offset of (1-based line, UTF-8 byte column)."""
    if line > len(lines):
        return starts[-1]
    if line < 1:
        raise ValueError(f"edit at line {line}")
    text = lines[line - 1].encode()
    return starts[line - 1] + len(text[:column].decode("utf-8", errors="ignore"))


def apply_fixes(source: str, fixes: Sequence[Fix]) -> tuple[str, list[int]]:
    """Apply every fix (in order) that overlaps none taken before it.

    Returns the new text and the indices of the fixes applied. Two edits overlap when
    their ranges intersect or they start at the same place.
    """
    lines, starts = _offsets(source)
    newline = "\r\n" if "\r\n" in source else "\n"
    taken: list[tuple[int, int]] = []
    chosen: list[tuple[int, int, str]] = []
    applied: list[int] = []
    for index, fix in enumerate(fixes):
        try:
            spans = [
                (
                    _offset(lines, starts, e.line, e.column),
                    _offset(lines, starts, e.end_line, e.end_column),
                    e.text,
                )
                for e in fix.edits
            ]
        except ValueError:
            continue  # an edit before the first line: a broken fix is skipped
        if (
            any(e < s for s, e, _ in spans)
            or any(s == ts or (s < te and ts < e) for s, e, _ in spans for ts, te in taken)
            or _self_overlap(spans)
        ):
            continue
        taken.extend((s, e) for s, e, _ in spans)
        chosen.extend(spans)
        applied.append(index)
    out = source
    for s, e, text in sorted(chosen, key=lambda t: (t[0], t[1]), reverse=True):
        if s == len(source) and text and source and not source.endswith(("\n", "\r")):
            text = "\n" + text  # new lines after a last line that has no line break
        out = out[:s] + text.replace("\n", newline) + out[e:]
    return out, applied


def _self_overlap(spans: list[tuple[int, int, str]]) -> bool:
    ordered = sorted(spans)
    return any(b[0] < a[1] or b[0] == a[0] for a, b in zip(ordered, ordered[1:], strict=False))


def _parses(source: str, path: str) -> str | None:
    """None if ``source`` parses, else why not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source, filename=path)
    except (SyntaxError, ValueError) as exc:
        return str(exc)
    return None


def _ordered(findings: Sequence[Finding], unsafe: bool) -> list[Finding]:
    chosen = [f for f in findings if applicable(f, unsafe)]
    # safe fixes first, then by place: a safe fix never loses to an unsafe one
    return sorted(chosen, key=lambda f: (f.fix.applicability != "safe", f))  # type: ignore[union-attr]


def fix_source(
    source: str,
    path: str,
    config: LintConfig,
    *,
    unsafe: bool = False,
    rules: list[Rule] | None = None,
) -> Outcome:
    """Fix one Python source text; see the module docstring."""
    rules = config.make_rules() if rules is None else rules
    outcome = Outcome(path, source, source)
    current = source
    for _ in range(MAX_PASSES):
        findings, errors = lint_source(current, path, config, rules)
        outcome.errors, outcome.remaining = errors, findings
        todo = _ordered(findings, unsafe)
        if not todo:
            break
        new, done = apply_fixes(current, [f.fix for f in todo])  # type: ignore[misc]
        if new == current:
            break
        broken = _parses(new, path)
        if broken is not None:
            titles = "; ".join(sorted({todo[i].fix_title for i in done}))
            outcome.error = (
                f"{path}: the fixes ({titles}) would leave the file unparsable ({broken}); "
                "kept the original"
            )
            outcome.fixed, outcome.applied = source, []
            return outcome
        outcome.applied.extend(todo[i] for i in done)
        current = new
    outcome.fixed = current
    return outcome


def _cell_text(cell: dict[str, Any]) -> str:
    raw = cell.get("source", "")
    return "".join(raw) if isinstance(raw, list) else str(raw)


def _set_cell_text(cell: dict[str, Any], text: str) -> None:
    if isinstance(cell.get("source"), list):
        cell["source"] = text.splitlines(keepends=True)
    else:
        cell["source"] = text


def _dump_like(data: Any, original: str) -> str:
    """JSON text in the original's indentation (nbformat writes indent=1)."""
    m = re.match(r"\{\r?\n([ \t]+)", original)
    indent = len(m.group(1)) if m else 1
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return text + "\n" if original.endswith("\n") else text


def fix_notebook(
    text: str,
    path: str,
    config: LintConfig,
    *,
    unsafe: bool = False,
    rules: list[Rule] | None = None,
) -> Outcome:
    """Fix the code cells of one ``.ipynb`` text in place.

    Cells with IPython magics or shell escapes are left alone: the lint sees those
    lines as ``pass``, so an edit there could not be mapped back exactly.
    """
    rules = config.make_rules() if rules is None else rules
    outcome = Outcome(path, text, text)
    try:
        data = json.loads(text)
        notebook_source(text)  # the lint's own checks of the notebook's shape
    except (json.JSONDecodeError, NotebookError):
        return outcome
    cells = [c for c in data["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"]
    plain = {number for number, cell in enumerate(cells, start=1) if plain_cell(_cell_text(cell))}
    current = text
    for _ in range(MAX_PASSES):
        findings, errors = lint_notebook(current, path, config, rules)
        outcome.errors, outcome.remaining = errors, findings
        by_cell: dict[int, list[Finding]] = defaultdict(list)
        for f in _ordered(findings, unsafe):
            if f.cell in plain:
                by_cell[f.cell].append(f)  # type: ignore[index]
        if not by_cell:
            break
        done_now: list[Finding] = []
        for number, todo in by_cell.items():
            cell = cells[number - 1]
            new, done = apply_fixes(_cell_text(cell), [f.fix for f in todo])  # type: ignore[misc]
            _set_cell_text(cell, new)
            done_now.extend(todo[i] for i in done)
        new_text = _dump_like(data, text)
        if new_text == current:
            break
        broken = _parses(notebook_source(new_text)[0], path)
        if broken is not None:
            titles = "; ".join(sorted({f.fix_title for f in done_now}))
            outcome.error = (
                f"{path}: the fixes ({titles}) would leave the notebook's code unparsable "
                f"({broken}); kept the original"
            )
            outcome.applied = []
            return outcome
        outcome.applied.extend(done_now)
        current = new_text
    outcome.fixed = current
    return outcome


def plain_cell(text: str) -> bool:
    """Does the lint see this notebook cell exactly as written (no IPython magics)?"""
    single = json.dumps({"cells": [{"cell_type": "code", "source": text}]})
    return text.splitlines() == notebook_source(single)[0].splitlines()


def _encoding(data: bytes) -> str:
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        return "utf-8"


def fix_file(
    path: Path,
    config: LintConfig,
    *,
    unsafe: bool = False,
    write: bool = True,
    rules: list[Rule] | None = None,
) -> Outcome:
    """Fix one file on disk (``write=False``: only compute what would change)."""
    shown = str(path)
    try:
        data = path.read_bytes()
        text = decode(data)
    except (OSError, ParseFailure):
        # unreadable files are reported by the lint itself; nothing to fix
        return Outcome(shown, "", "")
    if path.suffix == ".ipynb":
        outcome = fix_notebook(text, shown, config, unsafe=unsafe, rules=rules)
    else:
        outcome = fix_source(text, shown, config, unsafe=unsafe, rules=rules)
    if write and outcome.changed and outcome.error is None:
        path.write_bytes(outcome.fixed.encode(_encoding(data)))
    return outcome


def fix_paths(
    paths: Sequence[Path], config: LintConfig, *, unsafe: bool = False, write: bool = True
) -> list[Outcome]:
    """``fix_file`` on every file the lint would read under ``paths``."""
    rules = config.make_rules()
    return [
        fix_file(Path(p), config, unsafe=unsafe, write=write, rules=rules)
        for p in discover(paths, config.exclude, config.root)
    ]


def summary(outcomes: Sequence[Outcome], *, wrote: bool, unsafe: bool) -> str:
    """``Fixed 3 findings in 2 files (1 remaining; 1 more fix with --unsafe-fixes).``"""
    fixed = sum(len(o.applied) for o in outcomes if o.error is None)
    files = sum(1 for o in outcomes if o.changed and o.error is None)
    verb = "Fixed" if wrote else "Would fix"
    text = f"{verb} {fixed} finding{'s' * (fixed != 1)} in {files} file{'s' * (files != 1)}"
    remaining = [f for o in outcomes for f in o.remaining]
    hidden = sum(1 for f in remaining if f.fix is not None and not applicable(f, unsafe))
    extra = [f"{len(remaining)} remaining"] if wrote else []
    if hidden:
        extra.append(f"{hidden} more fix{'es' * (hidden != 1)} with --unsafe-fixes")
    return text + (f" ({'; '.join(extra)})" if extra else "") + "."


def show(outcomes: Sequence[Outcome]) -> str:
    """One line per fix applied: ``path:line:col: CODE title``."""
    lines = []
    for o in outcomes:
        if o.error is None:
            for f in o.applied:
                where = f"{f.path}:cell {f.cell}" if f.cell is not None else f.path
                lines.append(f"{where}:{f.line}:{f.column}: {f.code} {f.fix_title}\n")
    return "".join(lines)
