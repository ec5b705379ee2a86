"""Helpers for the lint tests: run the click commands in-process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lint_samples import RAY_GET_LOOP  # noqa: F401  (re-exported for the fixtures)

from ray_patterns._catalog_cli import explain
from ray_patterns.lint.cli import lint, rules


@pytest.fixture
def run_lint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``ray-patterns lint ARGS`` with ``tmp_path`` as the current folder."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Result:
        return CliRunner().invoke(lint, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def run_cmd() -> Callable[..., Result]:
    def run(name: str, *args: str) -> Result:
        command = {"lint": lint, "rules": rules, "explain": explain}[name]
        return CliRunner().invoke(command, list(args), catch_exceptions=False)

    return run
