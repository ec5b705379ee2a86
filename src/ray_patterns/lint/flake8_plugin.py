"""flake8 plugin ``RAY``: the ``ray-patterns lint`` rules inside flake8.

Example: ``flake8 --select=RAY src/``. flake8 handles ``# noqa: RAY105`` itself. The
settings come from ``[tool.ray-patterns.lint]`` of the nearest pyproject.toml, as for
``ray-patterns lint`` (rule thresholds, per-file ignores, select/ignore).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ray_patterns.lint.config import LintConfig, find_pyproject, load_config
from ray_patterns.lint.engine import lint_source

try:
    _VERSION = version("ray-patterns")
except PackageNotFoundError:  # pragma: no cover
    _VERSION = "0.0.0"


class RayPatternsChecker:
    """A flake8 AST plugin; flake8 reports a syntax error itself, so RAY001 is not used."""

    name = "ray-patterns"
    version = _VERSION
    _config: LintConfig | None = None

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        if RayPatternsChecker._config is None:
            # read once per flake8 process; a bad table raises ConfigError naming the key
            RayPatternsChecker._config = load_config(find_pyproject(Path.cwd()))
        config = RayPatternsChecker._config
        source = "".join(self.lines)
        tree = self.tree if isinstance(self.tree, ast.Module) else None
        findings, _ = lint_source(source, self.filename, config, tree=tree)
        for f in findings:
            yield f.line, f.column - 1, f"{f.code} {f.message}", type(self)
