"""Lint many files on every core.

Example: ``result = lint_paths([Path("src")], LintConfig())``.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ray_patterns.lint.config import LintConfig
from ray_patterns.lint.core import Finding, Rule
from ray_patterns.lint.engine import lint_file
from ray_patterns.lint.files import discover

# Below this many files a process pool costs more than it saves.
_PARALLEL_MIN_FILES = 32

_worker_config: LintConfig | None = None
_worker_rules: list[Rule] | None = None


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files: int = 0


def _init_worker(config: LintConfig) -> None:
    global _worker_config, _worker_rules
    _worker_config = config
    _worker_rules = config.make_rules()


def _lint_chunk(paths: Sequence[str]) -> tuple[list[Finding], list[str]]:
    assert _worker_config is not None
    findings: list[Finding] = []
    errors: list[str] = []
    for p in paths:
        f, e = _safe_lint(Path(p), _worker_config, _worker_rules)
        findings.extend(f)
        errors.extend(e)
    return findings, errors


def _safe_lint(
    path: Path, config: LintConfig, rules: list[Rule] | None
) -> tuple[list[Finding], list[str]]:
    try:
        return lint_file(path, config, rules)
    except RecursionError:
        return [], [f"{path}: too deeply nested for the analysis (RecursionError)"]
    except Exception as exc:  # one file must not stop the run
        return [], [f"{path}: internal error: {exc!r}"]


def _start_method() -> str | None:
    """fork (cheap: no re-import) unless this process is a live Ray driver or worker,
    whose threads and connections must not be forked; then spawn."""
    if not sys.platform.startswith("linux"):
        return None
    ray = sys.modules.get("ray")  # never imported here: linting must not need Ray
    is_initialized = getattr(ray, "is_initialized", None)
    if callable(is_initialized) and is_initialized():
        return "spawn"
    return "fork"


def lint_paths(
    paths: Sequence[Path],
    config: LintConfig,
    jobs: int | None = None,
    start_method: str | None = None,
) -> LintResult:
    """Lint every file under ``paths``; ``jobs`` processes (default: every core).

    ``start_method`` picks the multiprocessing start method (default: see
    ``_start_method``).
    """
    files = [str(p) for p in discover(paths, config.exclude, config.root)]
    result = LintResult(files=len(files))
    rules = config.make_rules()  # fail early on bad settings, before any fork
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(files) < _PARALLEL_MIN_FILES:
        for p in files:
            f, e = _safe_lint(Path(p), config, rules)
            result.findings.extend(f)
            result.errors.extend(e)
    else:
        # Small chunks balance load (file sizes vary a lot); fork avoids re-importing.
        size = max(1, min(64, len(files) // (jobs * 8)))
        chunks = [files[i : i + size] for i in range(0, len(files), size)]
        context = multiprocessing.get_context(start_method or _start_method())
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(config,)
        ) as pool:
            for f, e in pool.map(_lint_chunk, chunks):
                result.findings.extend(f)
                result.errors.extend(e)
    result.findings.sort()
    return result
