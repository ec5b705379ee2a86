"""Lint many files on every core.

Example: ``result = lint_paths([Path("src")], LintConfig())``.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ray_patterns.lint.config import LintConfig
from ray_patterns.lint.core import Finding, Rule
from ray_patterns.lint.engine import certainly_clean, lint_file
from ray_patterns.lint.files import discover_with_stats
from ray_patterns.lint.project import Project

if TYPE_CHECKING:  # imported when a pool starts: a warm run never pays for them
    from concurrent.futures import Future, ProcessPoolExecutor

    from ray_patterns.lint.cache import LintCache  # with the cache only (hashlib, json)

# Below this many files to analyse (after ``certainly_clean``) a process pool costs
# more than it saves: forking, and each worker's first-use costs.
_PARALLEL_MIN_FILES = 32

_worker_config: LintConfig | None = None
_worker_rules: list[Rule] | None = None
_worker_project: Project | None = None

# (path, findings, errors, files it imported remote definitions from: path -> hash)
_Outcome = tuple[str, list[Finding], list[str], dict[str, str | None]]


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files: int = 0


def _init_worker(config: LintConfig, project: Project) -> None:
    global _worker_config, _worker_rules, _worker_project
    _worker_config = config
    _worker_rules = config.make_rules()
    _worker_project = project
    gc.disable()  # as in the parent (``_no_gc``); the worker ends with the run


def _lint_chunk(paths: Sequence[str]) -> list[_Outcome]:
    assert _worker_config is not None and _worker_project is not None
    return [_safe_lint(p, _worker_config, _worker_rules, _worker_project) for p in paths]


def _safe_lint(
    path: str, config: LintConfig, rules: list[Rule] | None, project: Project
) -> _Outcome:
    project.deps = {}
    try:
        found, errors = lint_file(Path(path), config, rules, project=project)
    except RecursionError:
        found, errors = [], [f"{path}: too deeply nested for the analysis (RecursionError)"]
    except Exception as exc:  # one file must not stop the run
        found, errors = [], [f"{path}: internal error: {exc!r}"]
    return path, found, errors, project.deps


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

    Every file is read here once: most hold no word any rule needs and are answered
    without parsing (``certainly_clean``). The others go to worker processes in small
    chunks as they are found, once there are enough of them to pay for the pool, so the
    workers parse while this process is still walking the tree.
    """
    rules = config.make_rules()  # fail early on bad settings, before any fork
    store: LintCache | None = None
    if cache:
        from ray_patterns.lint.cache import LintCache, content_hash, stamp_of

        store = LintCache.open(config.root, config)
    digests: dict[str, tuple[str, tuple[int, int] | None]] = {}
    result = LintResult()
    project = Project(paths)
    with _no_gc(), _Dispatcher(config, rules, project, jobs, start_method) as dispatch:
        for p, st in discover_with_stats(paths, config.exclude, config.root):
            result.files += 1
            stamp = stamp_of(st) if store is not None else None
            hit = store.get(p, None, stamp, project.state) if store is not None else None
            data: bytes | None = None
            if hit is None:
                try:
                    data = Path(p).read_bytes()
                except OSError:
                    dispatch.add(p)  # unreadable: lint_file reports it
                    continue
                if store is not None:
                    digest = content_hash(data)
                    hit = store.get(p, digest, stamp, project.state)
                    digests[p] = (digest, stamp)
            if hit is not None:
                result.findings.extend(hit[0])
                result.errors.extend(hit[1])
            elif data is not None and certainly_clean(p, data, rules):
                if store is not None:
                    store.put(p, digests[p][0], [], [], stamp)
            else:
                dispatch.add(p, len(data) if data is not None else 0)
        for path, found_here, errors, deps in dispatch.results():
            result.findings.extend(found_here)
            result.errors.extend(errors)
            if store is not None and path in digests:
                digest, stamp = digests[path]
                store.put(path, digest, found_here, errors, stamp, deps)
    if store is not None:
        store.save()
    result.findings.sort()
    return result


@contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic garbage collector off while linting: syntax trees are many objects
    and no cycles, and its passes over them cost a tenth of the run."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Dispatcher:
    """Files to analyse, linted here or, once there are enough, by a process pool."""

    # Files per task sent to a worker: small, so both workers stay busy to the end; a
    # task is sent early once its files hold CHUNK_BYTES (big files go alone or in pairs).
    CHUNK = 4
    CHUNK_BYTES = 64_000

    def __init__(
        self,
        config: LintConfig,
        rules: list[Rule],
        project: Project,
        jobs: int | None,
        start_method: str | None,
    ) -> None:
        self.config, self.rules, self.start_method = config, rules, start_method
        self.project = project
        self.jobs = jobs or os.cpu_count() or 1
        self.pending: list[str] = []
        self.pending_bytes = 0
        self.futures: list[Future[list[_Outcome]]] = []
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Dispatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def add(self, path: str, size: int = 0) -> None:
        """Lint ``path`` (``size``: its bytes, when known)."""
        self.pending.append(path)
        self.pending_bytes += size
        if self.pool is None and self.jobs > 1 and len(self.pending) >= _PARALLEL_MIN_FILES:
            self.pool = _pool(self.config, self.project, self.jobs, self.start_method)
        if self.pool is not None and (
            len(self.pending) >= self.CHUNK or self.pending_bytes >= self.CHUNK_BYTES
        ):
            self._submit()

    def _submit(self) -> None:
        assert self.pool is not None
        for i in range(0, len(self.pending), self.CHUNK):
            self.futures.append(self.pool.submit(_lint_chunk, self.pending[i : i + self.CHUNK]))
        self.pending, self.pending_bytes = [], 0

    def results(self) -> list[_Outcome]:
        """Every outcome, in the order the files were added."""
        if self.pool is None:
            return [_safe_lint(p, self.config, self.rules, self.project) for p in self.pending]
        self._submit()
        return [outcome for future in self.futures for outcome in future.result()]


def _pool(
    config: LintConfig, project: Project, jobs: int, start_method: str | None
) -> ProcessPoolExecutor:
    import multiprocessing  # only here: a small run never pays for importing it
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context(start_method or _start_method())
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(config, project)
    )
