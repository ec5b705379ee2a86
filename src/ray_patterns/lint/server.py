"""``ray-patterns server``: the lint as a Language Server (stdio), for any LSP editor.

Publishes the lint's findings as diagnostics when a Python file is opened, changed
or saved, each linking its rule's page; offers each fix as a quick fix, and "Fix all
ray-patterns safe fixes" for the whole file. Settings come from the nearest
``pyproject.toml`` with a ``[tool.ray-patterns.lint]`` table, as for ``lint``.

Example (Neovim)::

    vim.lsp.start({name = "ray-patterns", cmd = {"ray-patterns", "server"}})
"""

from __future__ import annotations

import json
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import click
from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from ray_patterns._findings import Edit, Finding
from ray_patterns.lint.config import ConfigError, LintConfig, find_pyproject, load_config
from ray_patterns.lint.core import PARSE_ERROR_CODE
from ray_patterns.lint.edits import source_lines
from ray_patterns.lint.engine import lint_notebook, lint_source
from ray_patterns.lint.fix import fix_source, plain_cell

SOURCE = "ray-patterns"
FIX_ALL_TITLE = "Fix all ray-patterns safe fixes"
FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.ray-patterns"


def _version() -> str:
    try:
        return version("ray-patterns")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


class RayPatternsServer(LanguageServer):
    """Keeps one lint config per pyproject.toml (re-read when the file changes)."""

    def __init__(self) -> None:
        super().__init__(
            SOURCE,
            _version(),
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                notebook_selector=[
                    types.NotebookDocumentFilterWithCells(
                        cells=[types.NotebookCellLanguage("python")], notebook="*"
                    )
                ]
            ),
        )
        self._configs: dict[Path | None, tuple[float, LintConfig]] = {}

    def config_for(self, path: str) -> LintConfig:
        pyproject = find_pyproject(Path(path).parent)
        stamp = pyproject.stat().st_mtime if pyproject is not None else 0.0
        cached = self._configs.get(pyproject)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            config = load_config(pyproject)
            config.make_rules()
        except ConfigError as exc:
            self.window_show_message(
                types.ShowMessageParams(
                    types.MessageType.Error, f"ray-patterns: {exc}; using the default settings"
                )
            )
            config = LintConfig()
        self._configs[pyproject] = (stamp, config)
        return config


LSP = RayPatternsServer()


def _findings(ls: RayPatternsServer, doc: TextDocument) -> list[Finding]:
    """The findings in ``doc``; for a notebook cell, those of that cell (the lint
    reads the whole notebook, as imports and names cross cells)."""
    notebook = ls.workspace.get_notebook_document(cell_uri=doc.uri)
    if notebook is not None:
        cells = _code_cells(notebook)
        if doc.uri not in cells:
            return []
        number = cells.index(doc.uri) + 1
        return [f for f in _notebook_findings(ls, notebook) if f.cell == number]
    if not doc.path.endswith((".py", ".pyi")) and doc.language_id != "python":
        return []
    findings, _ = lint_source(doc.source, doc.path, ls.config_for(doc.path))
    return findings


def _code_cells(notebook: types.NotebookDocument) -> list[str]:
    return [c.document for c in notebook.cells if c.kind == types.NotebookCellKind.Code]


def _notebook_findings(ls: RayPatternsServer, notebook: types.NotebookDocument) -> list[Finding]:
    """Findings of the notebook's code cells, each with its cell number (1-based)."""
    cells = [
        {"cell_type": "code", "source": ls.workspace.get_text_document(uri).source}
        for uri in _code_cells(notebook)
    ]
    path = to_fs_path(notebook.uri) or notebook.uri
    findings, _ = lint_notebook(json.dumps({"cells": cells}), path, ls.config_for(path))
    # a cell with IPython magics is seen with `pass` lines: its fixes could not be
    # mapped back exactly (as in `lint --fix`), so they are not offered
    return [
        f
        if f.fix is None or plain_cell(cells[(f.cell or 1) - 1]["source"])
        else replace(f, fix=None)
        for f in findings
    ]


def _position(lines: list[str], line: int, column: int) -> types.Position:
    """LSP position (0-based line, UTF-16 units) of a 1-based line and UTF-8 byte column."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    chars = text.encode()[:column].decode("utf-8", errors="ignore")
    return types.Position(line - 1, len(chars.encode("utf-16-le")) // 2)


def _range(lines: list[str], f: Finding) -> types.Range:
    # finding columns are 1-based (ast byte offset + 1)
    end_line = max(f.end_line, f.line)
    return types.Range(
        _position(lines, f.line, f.column - 1),
        _position(lines, end_line, max(f.end_column - 1, 0)),
    )


def diagnostic(lines: list[str], f: Finding) -> types.Diagnostic:
    """The LSP diagnostic of one finding (code, link to its page, its fix's kind)."""
    severity = (
        types.DiagnosticSeverity.Error
        if f.code == PARSE_ERROR_CODE
        else types.DiagnosticSeverity.Warning
    )
    return types.Diagnostic(
        range=_range(lines, f),
        message=f.message,
        severity=severity,
        code=f.code,
        code_description=types.CodeDescription(href=f.url) if f.code != PARSE_ERROR_CODE else None,
        source=SOURCE,
        data={"fix": f.fix.applicability if f.fix else None},
    )


def _text_edit(lines: list[str], e: Edit) -> types.TextEdit:
    return types.TextEdit(
        types.Range(_position(lines, e.line, e.column), _position(lines, e.end_line, e.end_column)),
        e.text,
    )


def publish(ls: RayPatternsServer, uri: str) -> None:
    doc = ls.workspace.get_text_document(uri)
    lines = source_lines(doc.source)
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(
            uri=uri,
            version=doc.version,
            diagnostics=[diagnostic(lines, f) for f in _findings(ls, doc)],
        )
    )


@LSP.feature(types.TEXT_DOCUMENT_DID_OPEN)
@LSP.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@LSP.feature(types.TEXT_DOCUMENT_DID_SAVE)
def text_event(
    ls: RayPatternsServer,
    params: types.DidOpenTextDocumentParams
    | types.DidChangeTextDocumentParams
    | types.DidSaveTextDocumentParams,
) -> None:
    """Open, change and save all publish the file's findings again."""
    publish(ls, params.text_document.uri)


def publish_notebook(ls: RayPatternsServer, uri: str) -> None:
    """One diagnostics message per code cell (an empty one clears a fixed cell)."""
    notebook = ls.workspace.get_notebook_document(notebook_uri=uri)
    if notebook is None:
        return
    findings = _notebook_findings(ls, notebook)
    for number, cell_uri in enumerate(_code_cells(notebook), start=1):
        lines = source_lines(ls.workspace.get_text_document(cell_uri).source)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=cell_uri,
                diagnostics=[diagnostic(lines, f) for f in findings if f.cell == number],
            )
        )


@LSP.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
@LSP.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
@LSP.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
def notebook_event(
    ls: RayPatternsServer,
    params: types.DidOpenNotebookDocumentParams
    | types.DidChangeNotebookDocumentParams
    | types.DidSaveNotebookDocumentParams,
) -> None:
    publish_notebook(ls, params.notebook_document.uri)


@LSP.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: RayPatternsServer, params: types.DidCloseTextDocumentParams) -> None:
    # a closed file's findings are no longer shown (as with other linters' servers)
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
    )


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


@LSP.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND],
        resolve_provider=False,
    ),
)
def code_action(ls: RayPatternsServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """A quick fix per finding with a fix in the range, then "fix all" for the file."""
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    lines = source_lines(doc.source)
    only = params.context.only
    actions: list[types.CodeAction] = []
    findings = _findings(ls, doc)
    if not only or types.CodeActionKind.QuickFix in only:
        for f in findings:
            diag = diagnostic(lines, f)
            if f.fix is None or not _overlaps(diag.range, params.range):
                continue
            unsafe = "" if f.fix.applicability == "safe" else " (unsafe)"
            actions.append(
                types.CodeAction(
                    title=f"{f.fix.title}{unsafe} ({f.code})",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diag],
                    is_preferred=f.fix.applicability == "safe",
                    edit=types.WorkspaceEdit(
                        changes={uri: [_text_edit(lines, e) for e in f.fix.edits]}
                    ),
                )
            )
    wants_all = not only or any(FIX_ALL_KIND.startswith(k) for k in only)
    in_notebook = ls.workspace.get_notebook_document(cell_uri=uri) is not None
    safe = any(f.fix is not None and f.fix.applicability == "safe" for f in findings)
    if wants_all and not in_notebook and safe:
        outcome = fix_source(doc.source, doc.path, ls.config_for(doc.path))
        if outcome.changed and outcome.error is None:
            whole = types.Range(types.Position(0, 0), _end(lines))
            actions.append(
                types.CodeAction(
                    title=FIX_ALL_TITLE,
                    kind=FIX_ALL_KIND,
                    edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(whole, outcome.fixed)]}),
                )
            )
    return actions


def _end(lines: list[str]) -> types.Position:
    if not lines:
        return types.Position(0, 0)
    last = lines[-1]
    if last.endswith(("\n", "\r")):
        return types.Position(len(lines), 0)
    return types.Position(len(lines) - 1, len(last.encode("utf-16-le")) // 2)


@click.command()
def server() -> None:
    """Run the lint as a Language Server on stdin/stdout (for editors)."""
    LSP.start_io()


if __name__ == "__main__":
    server()
