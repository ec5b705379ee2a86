"""Jupyter notebooks: code cells as one Python source, and a map back to (cell, line).

IPython magics (``%time``, ``%%bash`` cells), shell escapes (``!pip``) and help
(``obj?``) are not Python: their lines become ``pass`` so the rest still parses and
line numbers stay put.

Example::

    source, where = notebook_source(json_text)
    cell, line = where[10]    # concatenated line 11 -> (cell number, line in cell)
"""

from __future__ import annotations

import json
import re

_MAGIC = re.compile(r"^\s*([%!]|\?)|^\s*[\w.,\s\[\]]+=\s*[%!]|\?\s*$")


class NotebookError(ValueError):
    """The file is not a notebook we can read."""


def notebook_source(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Concatenated code-cell source and, per line, (code cell number, line in cell)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"not valid notebook JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("not a notebook: no 'cells' list")
    lines: list[str] = []
    where: list[tuple[int, int]] = []
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
        cell_lines = raw.splitlines() or [""]
        cell_magic = cell_lines[0].lstrip().startswith("%%")
        for index, line in enumerate(cell_lines, start=1):
            if cell_magic:
                line = ""
            elif _MAGIC.search(line) and not _is_python(line):
                indent = line[: len(line) - len(line.lstrip())]
                line = f"{indent}pass"
            lines.append(line)
            where.append((number, index))
    return "\n".join(lines) + "\n", where


def _is_python(line: str) -> bool:
    """A line that only looks like a magic (``x = a % b``, ``a != b``) but is Python."""
    try:
        compile(line.strip(), "<cell>", "exec")
    except SyntaxError:
        return False
    return True
