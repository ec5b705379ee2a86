"""Building blocks for the rules' ``fix()`` methods: text edits made from syntax nodes.

Edits use the ``ast`` coordinates (1-based lines, 0-based UTF-8 byte columns), so a
fix is built straight from the nodes a rule already has.

Example::

    edit = replace(call, node_text(mod, call.args[0]))   # ray.get(ref) -> ref
    Fix("pass the ObjectRef itself", (edit,), "safe")
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable

from ray_patterns._findings import Edit, Fix
from ray_patterns.lint.core import Rule
from ray_patterns.lint.model import Module, walk

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def source_lines(source: str) -> list[str]:
    """Lines as ``ast`` counts them (``\\n``, ``\\r\\n`` and ``\\r`` end a line), with ends."""
    lines: list[str] = []
    start = 0
    for m in _LINE_BREAK.finditer(source):
        lines.append(source[start : m.end()])
        start = m.end()
    if start < len(source):
        lines.append(source[start:])
    return lines


def _lines(mod: Module) -> list[str]:
    cached: list[str] | None = mod.__dict__.get("_fix_lines")
    if cached is None:
        cached = source_lines(mod.source)
        mod.__dict__["_fix_lines"] = cached
    return cached


def line_text(mod: Module, lineno: int) -> str:
    """Line ``lineno`` (1-based) without its line break; ``""`` past the end."""
    lines = _lines(mod)
    return lines[lineno - 1].rstrip("\r\n") if 0 < lineno <= len(lines) else ""


def indent_of(mod: Module, lineno: int) -> str:
    text = line_text(mod, lineno)
    return text[: len(text) - len(text.lstrip(" \t"))]


def node_text(mod: Module, node: ast.AST) -> str:
    """``ast.get_source_segment`` from the cached lines: it re-splits the whole source on
    every call, which made a file with many findings quadratic."""
    start, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    col, end_col = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
    lines = _lines(mod)
    if start is None or end is None or col is None or end_col is None or end > len(lines):
        raise ValueError(f"no source position for {type(node).__name__}")
    # columns are UTF-8 byte offsets, as in ast
    if start == end:
        return lines[start - 1].encode()[col:end_col].decode()
    first = lines[start - 1].encode()[col:].decode()
    last = lines[end - 1].encode()[:end_col].decode()
    return first + "".join(lines[start : end - 1]) + last


def replace(node: ast.AST, text: str) -> Edit:
    """Replace exactly the source of ``node``."""
    return Edit(
        node.lineno,  # type: ignore[attr-defined]
        node.col_offset,  # type: ignore[attr-defined]
        node.end_lineno,  # type: ignore[attr-defined]
        node.end_col_offset,  # type: ignore[attr-defined]
        text,
    )


def owns_lines(mod: Module, first: int, node: ast.AST) -> bool:
    """Does ``node`` (starting on line ``first``) fill whole lines: nothing else before
    it on its first line and nothing but a comment after it on its last?"""
    start = line_text(mod, first).encode()
    if start[: _col(node, first)].strip():
        return False
    end = line_text(mod, node.end_lineno or first).encode()  # type: ignore[attr-defined]
    rest = end[node.end_col_offset :].strip()  # type: ignore[attr-defined]
    return not rest or rest.startswith(b"#")


def _col(node: ast.AST, first: int) -> int:
    return node.col_offset if node.lineno == first else 0  # type: ignore[attr-defined]


def starts_own_line(mod: Module, stmt: ast.stmt) -> bool:
    """Nothing but indentation before ``stmt`` on its line (not ``x = 1; stmt``)."""
    return not line_text(mod, stmt.lineno).encode()[: stmt.col_offset].strip()


def insert_before(mod: Module, stmt: ast.stmt, text: str) -> Edit:
    """New lines (``text``, one line or more) just above ``stmt``, at its indentation."""
    indent = indent_of(mod, stmt.lineno)
    body = "".join(f"{indent}{line}\n" if line else "\n" for line in text.split("\n"))
    return Edit(stmt.lineno, 0, stmt.lineno, 0, body)


def string_lines(node: ast.AST) -> set[int]:
    """Lines that begin inside a multi-line string literal under ``node``: re-indenting
    them would change the string."""
    inside: set[int] = set()
    for sub in walk(node):
        if isinstance(sub, (ast.Constant, ast.JoinedStr)) and sub.end_lineno:
            inside.update(range(sub.lineno + 1, sub.end_lineno + 1))
    return inside


def reindent(mod: Module, first: int, node: ast.AST, old: str, new: str) -> str | None:
    """The lines ``first``..end of ``node`` with the leading ``old`` indentation
    swapped for ``new``; None when a line does not start with ``old``."""
    keep = string_lines(node)
    out: list[str] = []
    for lineno in range(first, node.end_lineno + 1):  # type: ignore[attr-defined]
        text = line_text(mod, lineno)
        if lineno in keep or not text.strip():
            out.append(text if lineno in keep else "")
        elif text.startswith(old):
            out.append(new + text[len(old) :])
        else:
            return None
    return "\n".join(out) + "\n"


def delete_lines(first: int, last: int) -> Edit:
    """Remove whole lines ``first``..``last``, line breaks included."""
    return Edit(first, 0, last + 1, 0, "")


def import_edit(mod: Module, module: str) -> Edit | None:
    """``import module`` among the file's top-level imports (a standard-library module
    above the first, after any ``from __future__``; others below the last), unless it is
    imported already."""
    if mod.imports.get(module) == module:
        return None
    imports = [
        s
        for s in mod.tree.body
        if isinstance(s, ast.Import) or (isinstance(s, ast.ImportFrom) and s.module != "__future__")
    ]
    if not imports:
        return None
    text = f"import {module}\n"
    if module in sys.stdlib_module_names:
        if not starts_own_line(mod, imports[0]):
            return None
        return Edit(imports[0].lineno, 0, imports[0].lineno, 0, text)
    last = imports[-1]
    if not starts_own_line(mod, last) or not owns_lines(mod, last.lineno, last):
        return None
    after = (last.end_lineno or last.lineno) + 1
    return Edit(after, 0, after, 0, text)


def fresh_name(mod: Module, base: str) -> str:
    """``base``, or ``base_2``... : a name used nowhere in the file."""
    used = mod.__dict__.get("_fix_names")
    if used is None:
        used = {n.id for n in mod.of_type(ast.Name)} | set(mod.imports)
        used |= {a.arg for a in mod.of_type(ast.arg)} | set(mod.defs_by_name)
        mod.__dict__["_fix_names"] = used
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}_{n}"
    return name


def names_in(nodes: Iterable[ast.AST]) -> set[str]:
    """Every name read under ``nodes``."""
    return {
        n.id
        for node in nodes
        for n in walk(node)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }


def fix_of(rule: Rule, mod: Module, node: ast.AST) -> Fix | None:
    """``rule.fix(mod, node)``; a crashing or malformed fix is no fix, never a lost finding."""
    try:
        fix = rule.fix(mod, node)
    except Exception:  # a bug in one fix must not cost the finding itself
        return None
    if fix is None or not fix.edits:
        return None
    return fix


def cell_fix(fix: Fix | None, where: list[tuple[int, int]], cell: int | None) -> Fix | None:
    """A notebook fix in the lines of cell ``cell`` (as its findings count them), or None
    when an edit reaches outside that cell. ``where`` maps concatenated lines to cells."""
    if fix is None or cell is None:
        return None
    size = sum(1 for c, _ in where if c == cell)
    edits: list[Edit] = []

    def place(line: int, column: int) -> tuple[int, int] | None:
        if 0 < line <= len(where) and where[line - 1][0] == cell:
            return where[line - 1][1], column
        # the position just past the cell's last line (the end of a whole-line edit)
        if column == 0 and 1 < line <= len(where) + 1 and where[line - 2] == (cell, size):
            return size + 1, 0
        return None

    for e in fix.edits:
        start, end = place(e.line, e.column), place(e.end_line, e.end_column)
        if start is None or end is None:
            return None
        edits.append(Edit(*start, *end, e.text))
    return Fix(fix.title, tuple(edits), fix.applicability)


def ray_name(mod: Module) -> str | None:
    """The local name ``ray`` is imported as (``import ray as r`` -> ``r``), if any."""
    names = sorted(local for local, target in mod.imports.items() if target == "ray")
    return names[0] if names else None


def body_of(mod: Module, stmt: ast.stmt) -> list[ast.stmt]:
    """The statement list ``stmt`` is in (a body, an ``else``, a ``finally``...)."""
    parent = mod.parents.get(stmt)
    for name in ("body", "orelse", "finalbody", "handlers"):
        block = getattr(parent, name, None)
        if isinstance(block, list) and any(s is stmt for s in block):
            return block
    return []


def runs_after(mod: Module, anchor: ast.stmt, node: ast.AST) -> bool:
    """Does ``node`` certainly run after ``anchor`` (in the same function): is it in
    ``anchor`` or in a later statement of ``anchor``'s block?"""
    block = body_of(mod, anchor)
    walk: ast.AST | None = node
    while walk is not None:
        if walk is anchor or (
            isinstance(walk, ast.stmt)
            and any(s is walk for s in block)
            and walk.lineno > anchor.lineno
        ):
            return True
        if isinstance(walk, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return False
        walk = mod.parents.get(walk)
    return False


def task_calls(mod: Module, fn: ast.AST) -> list[ast.Call] | None:
    """Every ``fn.remote(...)`` / ``fn.options(...).remote(...)`` of the module-level
    ``@ray.remote`` function ``fn``; None if it is used any other way in the file (or
    not at all: then its callers are elsewhere)."""
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    if not any(mod.is_remote_decorator(d) for d in fn.decorator_list):
        return None
    if mod.remote_by_name.get(fn.name) is None or mod.scope_of(fn) is not mod.tree:
        return None
    calls: list[ast.Call] = []
    for use in mod.of_type(ast.Name):
        if use.id != fn.name or not isinstance(use.ctx, ast.Load):
            continue
        receiver: ast.AST = use
        parent = mod.parents.get(use)
        if isinstance(parent, ast.Attribute) and parent.attr == "options":
            receiver = mod.parents.get(parent)  # type: ignore[assignment]
            parent = mod.parents.get(receiver)
        call = mod.parents.get(parent) if parent is not None else None
        if not (
            isinstance(receiver, (ast.Name, ast.Call))
            and isinstance(parent, ast.Attribute)
            and parent.attr == "remote"
            and isinstance(call, ast.Call)
            and call.func is parent
        ):
            return None
        calls.append(call)
    return calls or None
