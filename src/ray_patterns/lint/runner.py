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

from ray_patterns.lint.cache import LintCache, content_hash
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


def _lint_chunk(paths: Sequence[str]) -> list[tuple[str, list[Finding], list[str]]]:
    assert _worker_config is not None
    return [(p, *_safe_lint(Path(p), _worker_config, _worker_rules)) for p in paths]


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
    cache: bool = False,
) -> LintResult:
    """Lint every file under ``paths``; ``jobs`` processes (default: every core).

    ``start_method`` picks the multiprocessing start method (default: see
    ``_start_method``). ``cache``: reuse and update the results kept in
    ``.ray_patterns_cache`` under ``config.root`` for files whose bytes are unchanged.
    """
    files = [str(p) for p in discover(paths, config.exclude, config.root)]
    result = LintResult(files=len(files))
    rules = config.make_rules()  # fail early on bad settings, before any fork
    store = LintCache.open(config.root, config) if cache else None
    digests: dict[str, str] = {}
    todo = files
    if store is not None:
        todo = []
        for p in files:
            try:
                digest = content_hash(Path(p).read_bytes())
            except OSError:
                todo.append(p)  # unreadable: lint_file reports it
                continue
            hit = store.get(p, digest)
            if hit is None:
                digests[p] = digest
                todo.append(p)
            else:
                result.findings.extend(hit[0])
                result.errors.extend(hit[1])
    for path, found, errors in _run(todo, config, rules, jobs, start_method):
        result.findings.extend(found)
        result.errors.extend(errors)
        if store is not None and path in digests:
            store.put(path, digests[path], found, errors)
    if store is not None:
        store.save()
    result.findings.sort()
    return result


def _run(
    files: list[str],
    config: LintConfig,
    rules: list[Rule],
    jobs: int | None,
    start_method: str | None,
) -> list[tuple[str, list[Finding], list[str]]]:
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(files) < _PARALLEL_MIN_FILES:
        return [(p, *_safe_lint(Path(p), config, rules)) for p in files]
    # Small chunks balance load (file sizes vary a lot); fork avoids re-importing.
    size = max(1, min(64, len(files) // (jobs * 8)))
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    context = multiprocessing.get_context(start_method or _start_method())
    out: list[tuple[str, list[Finding], list[str]]] = []
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(config,)
    ) as pool:
        for part in pool.map(_lint_chunk, chunks):
            out.extend(part)
    return out
