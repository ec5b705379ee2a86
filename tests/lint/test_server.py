"""``ray-patterns server`` driven over stdio as an editor drives it (pygls' client).

initialize -> didOpen an anti-pattern -> diagnostic with code, range and rule link ->
code actions -> apply the edit -> didChange -> the diagnostic is gone.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from test_fix import UNNECESSARY as SOURCE  # an unnecessary-ray-get with a safe fix

from ray_patterns.lint.server import FIX_ALL_TITLE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (ASCII text: UTF-16 units are characters)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(p: types.Position) -> int:
        return starts[min(p.line, len(lines))] + p.character

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
    return text


async def _session(folder: Path) -> None:
    client = LanguageClient("test-editor", "1")
    published: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        published.put_nowait(params)

    async def next_diagnostics() -> list[types.Diagnostic]:
        return list((await asyncio.wait_for(published.get(), 20)).diagnostics)

    await client.start_io(sys.executable, "-m", "ray_patterns.cli", "server", cwd=str(folder))
    try:
        result = await asyncio.wait_for(
            client.initialize_async(
                types.InitializeParams(
                    capabilities=types.ClientCapabilities(), root_uri=folder.as_uri()
                )
            ),
            20,
        )
        assert result.capabilities.code_action_provider
        client.initialized(types.InitializedParams())

        path = folder / "job.py"
        path.write_text(SOURCE)
        uri = path.as_uri()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, SOURCE))
        )
        [diag] = await next_diagnostics()
        assert diag.code == "RAY103" and diag.source == "ray-patterns"
        assert diag.range == types.Range(types.Position(13, 7), types.Position(13, 29))
        assert diag.code_description is not None
        assert diag.code_description.href.endswith("/rules/unnecessary-ray-get/")

        actions = await asyncio.wait_for(
            client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=types.TextDocumentIdentifier(uri),
                    range=diag.range,
                    context=types.CodeActionContext(diagnostics=[diag]),
                )
            ),
            20,
        )
        assert actions is not None
        titles = [a.title for a in actions if isinstance(a, types.CodeAction)]
        assert titles == [
            "pass the ObjectRef itself instead of its ray.get() value (RAY103)",
            FIX_ALL_TITLE,
        ]
        quick, fix_all = actions
        assert isinstance(quick, types.CodeAction) and isinstance(fix_all, types.CodeAction)
        assert quick.edit is not None and quick.edit.changes is not None
        fixed = _apply(SOURCE, list(quick.edit.changes[uri]))
        assert "data = load.remote()\n" in fixed
        assert fix_all.edit is not None and fix_all.edit.changes is not None
        assert _apply(SOURCE, list(fix_all.edit.changes[uri])) == fixed

        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(2, uri),
                [types.TextDocumentContentChangeWholeDocument(fixed)],
            )
        )
        assert await next_diagnostics() == []

        # a new anti-pattern typed in: the diagnostic comes back on the next change
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(3, uri),
                [types.TextDocumentContentChangeWholeDocument(SOURCE)],
            )
        )
        assert [d.code for d in await next_diagnostics()] == ["RAY103"]

        # a folder whose pyproject ignores the rule: no diagnostic there
        quiet = folder / "quiet" / "job.py"
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(quiet.as_uri(), "python", 1, SOURCE)
            )
        )
        assert await next_diagnostics() == []
        await _notebook_session(client, folder, next_diagnostics)
        await asyncio.wait_for(client.shutdown_async(None), 20)
    finally:
        client.exit(None)  # the server exits on this, shut down or not
        try:
            await asyncio.wait_for(client.stop(), 20)
        finally:
            process = client._server  # noqa: SLF001  (pygls keeps no public handle)
            if process is not None and process.returncode is None:
                process.kill()


async def _notebook_session(client: LanguageClient, folder: Path, next_diagnostics: Any) -> None:
    """A notebook: imports and tasks in cell 1, the anti-pattern in cell 2."""
    defs, uses = SOURCE.split("data = ")
    uri = (folder / "work.ipynb").as_uri()
    cells = [f"{uri}#cell1", f"{uri}#cell2"]
    client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            types.NotebookDocument(
                uri,
                "jupyter-notebook",
                1,
                [types.NotebookCell(types.NotebookCellKind.Code, c) for c in cells],
            ),
            [
                types.TextDocumentItem(cells[0], "python", 1, defs),
                types.TextDocumentItem(cells[1], "python", 1, "data = " + uses),
            ],
        )
    )
    first, second = await next_diagnostics(), await next_diagnostics()
    assert first == []
    [diag] = second
    assert diag.code == "RAY103"
    assert diag.range == types.Range(types.Position(0, 7), types.Position(0, 29))
    actions = await asyncio.wait_for(
        client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(cells[1]),
                range=diag.range,
                context=types.CodeActionContext(diagnostics=[diag]),
            )
        ),
        20,
    )
    [quick] = actions or []
    assert isinstance(quick, types.CodeAction)
    assert quick.edit is not None and quick.edit.changes is not None
    fixed = _apply("data = " + uses, list(quick.edit.changes[cells[1]]))
    assert fixed.startswith("data = load.remote()\n")
    client.notebook_document_did_change(
        types.DidChangeNotebookDocumentParams(
            types.VersionedNotebookDocumentIdentifier(2, uri),
            types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    text_content=[
                        types.NotebookDocumentCellContentChanges(
                            types.VersionedTextDocumentIdentifier(2, cells[1]),
                            [types.TextDocumentContentChangeWholeDocument(fixed)],
                        )
                    ]
                )
            ),
        )
    )
    assert [await next_diagnostics(), await next_diagnostics()] == [[], []]


def test_editor_session_over_stdio(tmp_path: Path) -> None:
    # the server reads the same [tool.ray-patterns.lint] config as the CLI
    (tmp_path / "quiet").mkdir()
    (tmp_path / "quiet" / "pyproject.toml").write_text(
        '[tool.ray-patterns.lint]\nignore = ["unnecessary-ray-get"]\n'
    )
    asyncio.run(_session(tmp_path))


def test_the_documented_editor_setups_start_this_server() -> None:
    editors = Path(__file__).resolve().parents[2] / "examples" / "recipes" / "editors"
    vscode = json.loads((editors / "vscode-settings.json").read_text())
    assert [vscode["glspc.server.command"], *vscode["glspc.server.commandArguments"]] == [
        "ray-patterns",
        "server",
    ]
    helix = tomllib.loads((editors / "helix-languages.toml").read_text())
    server = helix["language-server"]["ray-patterns"]
    assert [server["command"], *server["args"]] == ["ray-patterns", "server"]
    [python] = helix["language"]
    assert "ray-patterns" in python["language-servers"]
    assert 'cmd = { "ray-patterns", "server" }' in (editors / "neovim.lua").read_text()


def test_positions_count_utf16_units() -> None:
    from ray_patterns.lint.server import _position

    # "😀" is 4 UTF-8 bytes (ast's columns) and 2 UTF-16 units (LSP's default)
    lines = ["s = '😀'; x = ray.get(r)\n"]
    column = len("s = '😀'; x = ".encode())
    assert _position(lines, 1, column) == types.Position(0, len("s = '") + 2 + len("'; x = "))
    assert _position(lines, 2, 0) == types.Position(1, 0)  # just past the last line
