"""Lint one source text or one file: parse, run the rules, apply ``# noqa``.

Example::

    findings, errors = lint_source("import ray\\n...", "a.py", LintConfig())
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import traceback
import warnings
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from ray_patterns.lint.config import LintConfig
from ray_patterns.lint.core import PARSE_ERROR_CODE, PARSE_ERROR_NAME, SHAPES, Finding, Rule
from ray_patterns.lint.edits import cell_fix, fix_of
from ray_patterns.lint.model import Module
from ray_patterns.lint.noqa import file_suppressions, line_suppressions, suppressed
from ray_patterns.lint.notebook import NotebookError, notebook_parts
from ray_patterns.lint.words import imports_ray

if TYPE_CHECKING:
    from ray_patterns.lint.project import Project

# Every rule needs ``import ray`` / ``from ray import ...`` (``words.imports_ray``) and
# the words of its ``Rule.needs``: files without them are not analysed at all, not even
# parsed (so RAY001 is only for files that use Ray and that a rule would look at):
# parsing every file of a big tree cost more than all the rules together.


class ParseFailure(Exception):
    """Why a file could not be turned into a syntax tree; ``line`` where known."""

    def __init__(self, reason: str, line: int = 1, column: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = max(1, line)
        self.column = max(1, column)


def decode(data: bytes) -> str:
    """Source bytes -> text, honouring a PEP 263 coding cookie and a UTF-8 BOM."""
    if b"\0" in data:
        raise ParseFailure("source contains NUL bytes")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        head = b"\n".join(data.splitlines()[:2])
        if not re.search(rb"^[ \t\f]*#.*?coding[:=]", head, re.M):
            encoding = "utf-8"  # no cookie: the bytes themselves are not UTF-8
        else:
            raise ParseFailure(f"bad encoding declaration ({exc.msg})") from exc
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseFailure(f"cannot decode as {encoding} ({exc})") from exc


def parse(source: str, path: str) -> ast.Module:
    try:
        with warnings.catch_warnings():
            # SyntaxWarnings about the user's code are not findings of ours
            warnings.simplefilter("ignore")
            return ast.parse(source, filename=path)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        raise ParseFailure(f"{exc.msg}{where}", exc.lineno or 1, exc.offset or 1) from exc
    except (ValueError, TypeError) as exc:
        raise ParseFailure(str(exc)) from exc
    except RecursionError as exc:
        raise ParseFailure("too deeply nested to parse") from exc
    except MemoryError as exc:
        raise ParseFailure("too large to parse in memory") from exc


def _parse_finding(path: str, failure: ParseFailure) -> Finding:
    return Finding(
        path,
        failure.line,
        failure.column,
        failure.line,
        failure.column,
        PARSE_ERROR_CODE,
        PARSE_ERROR_NAME,
        f"cannot parse: {failure.reason}",
    )


def lint_source(
    source: str,
    path: str,
    config: LintConfig,
    rules: list[Rule] | None = None,
    tree: ast.Module | None = None,
    project: Project | None = None,
) -> tuple[list[Finding], list[str]]:
    """Findings for one Python source text, and internal errors (a rule that crashed).

    ``project``: the other files of the run, whose remote definitions this one imports.
    """
    rules = config.make_rules() if rules is None else rules
    configured = bool(rules)
    ignored = config.ignored_for(path)
    rules = [r for r in rules if r.code not in ignored]
    file_sup = file_suppressions(source) if "ray-patterns" in source else frozenset()
    if "*" in file_sup:
        return [], []
    # Only the rules whose words the text holds can find anything; with none of them,
    # the file is not parsed at all (parsing is most of the cost of a big tree).
    words: dict[str, bool] = {}
    wanted = [r for r in rules if r.wanted(source, words)]
    # with only RAY001 selected, every Ray file is parsed (that is all that was asked)
    if (configured and not wanted) or not imports_ray(source):
        return [], []
    rules = wanted
    if tree is None:
        try:
            tree = parse(source, path)
        except ParseFailure as failure:
            if PARSE_ERROR_CODE in config.enabled_codes() - ignored:
                return [_parse_finding(path, failure)], []
            return [], []
    mod = Module(tree, source, path, project)
    if not mod.uses_ray:
        return [], []
    lines: list[str] | None = None  # split at the first finding: most files have none
    findings: list[Finding] = []
    errors: list[str] = []
    seen: set[tuple[str, int, int]] = set()
    for rule in rules:
        if suppressed(file_sup, rule.code, rule.name):
            continue
        try:
            for node, message in rule.check(mod):
                line = getattr(node, "lineno", 1)
                col = getattr(node, "col_offset", 0) + 1
                key = (rule.code, line, col)
                if key in seen:
                    continue
                seen.add(key)
                end_line = getattr(node, "end_lineno", None) or line
                end_col = (getattr(node, "end_col_offset", None) or col - 1) + 1
                if lines is None:
                    lines = source.splitlines()
                sup = line_suppressions(lines[line - 1]) if line <= len(lines) else None
                if sup is None and end_line != line and end_line <= len(lines):
                    sup = line_suppressions(lines[end_line - 1])
                if suppressed(sup, rule.code, rule.name):
                    continue
                fix = fix_of(rule, mod, node)
                findings.append(
                    Finding(
                        path, line, col, end_line, end_col, rule.code, rule.name, message, fix=fix
                    )
                )
        except Exception:  # a bug in one rule must not lose the other rules' findings
            errors.append(f"{path}: rule {rule.code} crashed:\n{traceback.format_exc()}")
    findings.sort()
    return findings, errors


def lint_notebook(
    text: str, path: str, config: LintConfig, rules: list[Rule] | None = None
) -> tuple[list[Finding], list[str]]:
    """Like ``lint_source`` for ``.ipynb`` text; findings carry the cell number."""
    try:
        parts = notebook_parts(text)
    except NotebookError as exc:
        failure = ParseFailure(str(exc))
        if PARSE_ERROR_CODE in config.enabled_codes():
            return [_parse_finding(path, failure)], []
        return [], []
    source, where = parts.source, parts.where
    findings, errors = lint_source(source, path, config, rules)
    mapped: list[Finding] = []
    if parts.broken and PARSE_ERROR_CODE in config.enabled_codes() - config.ignored_for(path):
        # one finding per cell that is not Python; the other cells were linted
        for number, row, column, reason in parts.broken:
            failure = ParseFailure(f"{reason} (cell {number}, line {row})", row, column)
            mapped.append(replace(_parse_finding(path, failure), cell=number))
    for f in findings:
        cell, line = where[f.line - 1] if 0 < f.line <= len(where) else (None, f.line)
        end_cell, end_line = (
            where[f.end_line - 1] if 0 < f.end_line <= len(where) else (cell, f.end_line)
        )
        if end_cell != cell:
            end_line = line
        mapped.append(
            Finding(
                f.path,
                line,
                f.column,
                end_line,
                f.end_column,
                f.code,
                f.name,
                f.message,
                cell,
                fix=cell_fix(f.fix, where, cell),
            )
        )
    mapped.sort(key=lambda f: (f.cell or 0, f.line, f.column, f.code))
    return mapped, errors


def lint_file(
    path: Path,
    config: LintConfig,
    rules: list[Rule] | None = None,
    data: bytes | None = None,
    project: Project | None = None,
) -> tuple[list[Finding], list[str]]:
    """Findings for one file on disk (``data``: its bytes, when already read);
    unreadable or unparsable files give one finding."""
    shown = str(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or exc.__class__.__name__
            return [_parse_finding(shown, ParseFailure(f"cannot read file ({reason})"))], []
    try:
        text = decode(data)
    except ParseFailure as failure:
        if PARSE_ERROR_CODE in config.enabled_codes() - config.ignored_for(shown):
            return [_parse_finding(shown, failure)], []
        return [], []
    if path.suffix == ".ipynb":
        return lint_notebook(text, shown, config, rules)
    return lint_source(text, shown, config, rules, project=project)


@cache
def _word_bytes(word: str) -> re.Pattern[bytes]:
    # the literal first (a lookbehind in front defeats the regex engine's fast search)
    key = re.escape(word.encode())
    return re.compile(key + rb"(?!\w)(?<!\w" + key + rb")")


@cache
def _byte_needs(
    needs: tuple[tuple[tuple[str, ...], ...], ...],
) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """The rules' ``needs`` as the byte test sees them: ``ray.NAME`` is its bare name
    (in every spelling of it), each distinct set once, the fewest words first, and none
    that holds every group of another (met only where that one is met already)."""
    bare = {
        tuple(tuple(dict.fromkeys(w.removeprefix("ray.") for w in g)) for g in n) for n in needs
    }
    kept = [n for n in bare if not any(m != n and set(m) <= set(n) for m in bare)]
    return tuple(sorted(kept, key=lambda n: (sum(map(len, n)), n)))


def certainly_clean(path: str, data: bytes, rules: list[Rule]) -> bool:
    """True when ``lint_file`` would find nothing in these bytes, known without decoding
    or parsing: a ``.py`` file that holds no word some rule needs or does not import
    ray, and that decodes as UTF-8 (no NUL byte, no coding cookie), so not even RAY001
    is possible.

    Most files of a big tree are answered here, before any work is sent to a process.
    """
    if not rules or path.endswith(".ipynb"):
        return False
    found: dict[str, bool] = {}

    def has(word: str) -> bool:
        hit = found.get(word)
        if hit is None:
            shaped = SHAPES.get(word)
            key = word.encode()
            if key not in data:
                hit = False
            elif shaped is not None:
                hit = shaped(data)
            else:
                hit = _word_bytes(word).search(data) is not None
            found[word] = hit
        return hit

    wanted = False
    for needs in _byte_needs(tuple(r.needs for r in rules)):
        if all(any(has(w) for w in group) for group in needs):
            wanted = True
            break
    if wanted and imports_ray(data):
        return False
    first = data.find(b"\n")
    second = data.find(b"\n", first + 1) if first != -1 else -1
    head = data if second == -1 else data[:second]
    if b"\0" in data or b"coding" in head:  # a cookie may name an unknown encoding
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
