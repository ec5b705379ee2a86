"""Jupyter notebooks: code cells as one Python source, and a map back to (cell, line).

Each cell is parsed on its own: a cell that is not Python (a bash cell, a broken
``!cmd \\`` continuation) is blanked and reported once, and the other cells are still
linted. IPython magics that run Python (``%%time``, ``%%timeit``, ``%%capture``,
``%time x = ray.get(...)``) are stripped and the Python behind them is linted; other
magics, shell escapes (``!pip``) and help (``obj?``) become ``pass``. Line numbers and
columns stay put.

Example::

    source, where = notebook_source(json_text)
    cell, line = where[10]    # concatenated line 11 -> (cell number, line in cell)
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass, field

_MAGIC = re.compile(r"^\s*([%!]|\?)|^\s*[\w.,\s\[\]]+=\s*[%!]|\?\s*$")
# cell magics whose body is Python run as usual (timed, captured, profiled)
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "memit", "debug"})
# ``%time stmt`` / ``%timeit -n 10 -r 3 stmt``: the statement after the magic is Python
_PYTHON_LINE_MAGIC = re.compile(
    r"^(?P<indent>\s*)(?P<magic>%(?:time|timeit|prun|memit|debug)\b(?:\s+-\w+(?:\s+\d+)?)*\s+)"
    r"(?=\S)"
)


class NotebookError(ValueError):
    """The file is not a notebook we can read."""


@dataclass
class NotebookSource:
    """The Python of a notebook's code cells, joined; ``where`` maps each line to
    (code cell number, line in cell); ``broken`` lists (cell, line, column, reason) of
    cells that do not parse (blanked in ``source``)."""

    source: str
    where: list[tuple[int, int]]
    broken: list[tuple[int, int, int, str]] = field(default_factory=list)


def notebook_source(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Concatenated code-cell source and, per line, (code cell number, line in cell)."""
    parts = notebook_parts(text)
    return parts.source, parts.where


def notebook_parts(text: str) -> NotebookSource:
    """The notebook's code cells as one source, each cell checked to parse on its own."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"not valid notebook JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("not a notebook: no 'cells' list")
    lines: list[str] = []
    where: list[tuple[int, int]] = []
    broken: list[tuple[int, int, int, str]] = []
    number = 0
    for cell in data["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        raw = cell.get("source", "")
        if isinstance(raw, list):
            raw = "".join(str(part) for part in raw)
        if not isinstance(raw, str):
            raise NotebookError(f"cell {number}: source is not text")
        cell_lines = _python_lines(raw.splitlines() or [""])
        failure = _parse_error("\n".join(cell_lines) + "\n")
        if failure is not None:
            broken.append((number, *failure))
            cell_lines = [""] * len(cell_lines)
        lines.extend(cell_lines)
        where.extend((number, index) for index in range(1, len(cell_lines) + 1))
    return NotebookSource("\n".join(lines) + "\n", where, broken)


def _python_lines(cell_lines: list[str]) -> list[str]:
    """The cell with magics replaced by what Python they run (or by ``pass``)."""
    first = cell_lines[0].lstrip()
    if first.startswith("%%"):
        magic = first[2:].split(None, 1)[0] if first[2:].strip() else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return [""] * len(cell_lines)
        # the magic line itself (and its options) is not Python; the body is
        return ["", *_line_magics(cell_lines[1:])]
    return _line_magics(cell_lines)


def _line_magics(cell_lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in cell_lines:
        match = _PYTHON_LINE_MAGIC.match(line)
        if match is not None:
            # ``pass;`` in place of the magic keeps every column where it was
            pad = "pass;".ljust(len(match["magic"]))
            stripped = match["indent"] + pad + line[match.end() :]
            if _is_python(stripped.strip()):
                out.append(stripped)
                continue
        if _MAGIC.search(line) and not _is_python(line):
            indent = line[: len(line) - len(line.lstrip())]
            line = f"{indent}pass"
        out.append(line)
    return out


def _parse_error(source: str) -> tuple[int, int, str] | None:
    """(line, column, reason) if ``source`` does not parse, else None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except SyntaxError as exc:
        return exc.lineno or 1, exc.offset or 1, exc.msg
    except (ValueError, RecursionError, MemoryError) as exc:
        return 1, 1, str(exc) or exc.__class__.__name__
    return None


def _is_python(line: str) -> bool:
    """A line that only looks like a magic (``x = a % b``, ``a != b``) but is Python."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(line.strip(), "<cell>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True
