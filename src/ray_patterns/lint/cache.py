"""A cache of lint results per file, like ruff's: ``.ray_patterns_cache/`` in the project.

An entry is found by the file's path and the hash of its bytes (an unchanged size and
modification time answer first, without reading the file, as ruff does); the whole cache file is
keyed by everything else that decides the findings (the rule set and its settings, the
per-file ignores, this package's version and the lint's own code), so a change to any
of them starts a new cache. Writes are atomic (a temporary file renamed into place), so
concurrent runs never see half a file; a cache file that cannot be read is a miss.

Example::

    cache = LintCache.open(Path("."), config)
    digest = content_hash(data)
    hit = cache.get("src/a.py", digest)         # findings and errors, or None
    cache.put("src/a.py", digest, findings, errors)
    cache.save()
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ray_patterns._findings import Edit, Finding, Fix, Related
from ray_patterns.lint.config import LintConfig

CACHE_DIR = ".ray_patterns_cache"
_FORMAT = 3


def _version() -> str:
    # the package's own constant, not importlib.metadata (slow to import for a warm run);
    # ``_code_stamp`` covers an edited checkout whose version did not change
    from ray_patterns import __version__

    return __version__


def _code_stamp() -> str:
    """Sizes and modification times of the lint's own modules: an edited rule (in a
    development install) must not be served results of the rule before the edit."""
    here = Path(__file__).parent
    parts = []
    for path in sorted([*here.glob("*.py"), *here.glob("rules/*.py")]):
        try:
            st = path.stat()
        except OSError:
            continue
        parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(parts)


def config_key(config: LintConfig) -> str:
    """A hash of everything besides a file's bytes and path that decides its findings."""
    facts = {
        "format": _FORMAT,
        "version": _version(),
        "code": _code_stamp(),
        "enabled": sorted(config.enabled_codes()),
        "settings": {k: sorted(v.items()) for k, v in sorted(config.settings.items())},
        "per_file_ignores": [
            ([getattr(p, "pattern", str(p)) for p in spec.patterns], sorted(codes))
            for spec, codes in config.per_file_ignores
        ],
        "root": str(config.root.resolve()),
    }
    return hashlib.blake2b(json.dumps(facts, default=str).encode(), digest_size=16).hexdigest()


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def stamp_of(st: os.stat_result | None) -> tuple[int, int] | None:
    """(size, mtime_ns): unchanged, the file is taken as unchanged without reading it."""
    return None if st is None else (st.st_size, st.st_mtime_ns)


def _finding_to_json(f: Finding) -> list[Any]:
    fix = None
    if f.fix is not None:
        fix = [f.fix.title, f.fix.applicability, [list(e.__dict__.values()) for e in f.fix.edits]]
    related = [[r.path, r.line, r.message] for r in f.related]
    return [
        f.path,
        f.line,
        f.column,
        f.end_line,
        f.end_column,
        f.code,
        f.name,
        f.message,
        f.cell,
        f.severity,
        fix,
        related,
    ]


def _finding_from_json(row: list[Any]) -> Finding:
    path, line, column, end_line, end_column, code, name, message, cell, severity = row[:10]
    fix_row, related_rows = row[10], row[11]
    fix = None
    if fix_row is not None:
        title, applicability, edits = fix_row
        fix = Fix(title, tuple(Edit(*e) for e in edits), applicability)
    related = tuple(Related(*r) for r in related_rows)
    return Finding(
        path,
        line,
        column,
        end_line,
        end_column,
        code,
        name,
        message,
        cell,
        severity=severity,
        fix=fix,
        related=related,
    )


@dataclass
class LintCache:
    """Results per (path, content hash) for one configuration; ``save()`` writes them."""

    file: Path | None
    entries: dict[str, list[Any]] = field(default_factory=dict)
    fresh: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, root: Path, config: LintConfig) -> LintCache:
        """The cache under ``root/.ray_patterns_cache`` for ``config`` (empty if unreadable)."""
        folder = root / CACHE_DIR
        file = folder / f"lint-{config_key(config)}.json"
        cache = cls(file)
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("entries"), dict):
                cache.entries = data["entries"]
        except (OSError, ValueError, UnicodeDecodeError):
            pass  # no cache yet, or a corrupt one: a miss
        return cache

    def get(
        self,
        path: str,
        digest: str | None,
        stamp: tuple[int, int] | None = None,
        dep_state: Callable[[str], str | None] | None = None,
    ) -> tuple[list[Finding], list[str]] | None:
        """The entry of ``path`` if its bytes hash to ``digest``, or, with ``digest``
        None, if the file's (size, mtime_ns) ``stamp`` is the one recorded; and if every
        file it imported a remote definition from is as it was (``dep_state(path)``: the
        hash of that file now, None when it is not part of the run)."""
        entry = self.entries.get(path)
        if not isinstance(entry, list) or len(entry) != 5:
            return None
        if digest is None:
            if stamp is None or entry[3] != list(stamp):
                return None
        elif entry[0] != digest:
            return None
        try:
            findings = [_finding_from_json(row) for row in entry[1]]
            deps = dict(entry[4])
        except (TypeError, ValueError, KeyError, IndexError):
            return None  # a damaged entry: lint the file again
        if deps and (dep_state is None or any(dep_state(p) != d for p, d in deps.items())):
            return None
        self.fresh[path] = entry if stamp is None else [*entry[:3], list(stamp), entry[4]]
        return findings, list(entry[2])

    def put(
        self,
        path: str,
        digest: str,
        findings: list[Finding],
        errors: list[str],
        stamp: tuple[int, int] | None = None,
        deps: dict[str, str | None] | None = None,
    ) -> None:
        if errors:
            return  # a rule crashed here: do not remember the incomplete result
        rows = [_finding_to_json(f) for f in findings]
        self.fresh[path] = [
            digest,
            rows,
            [],
            list(stamp) if stamp else None,
            sorted((deps or {}).items()),
        ]

    def save(self) -> None:
        """Write the entries atomically, this run's over the ones read at ``open`` (a run
        on a few files keeps the others' entries); failures only lose the cache."""
        if self.file is None or all(self.entries.get(k) == v for k, v in self.fresh.items()):
            return
        folder = self.file.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            ignore = folder / ".gitignore"
            if not ignore.exists():
                _atomic_write(ignore, "# created by ray-patterns lint\n*\n")
            merged = {**self.entries, **self.fresh}
            _atomic_write(self.file, json.dumps({"entries": merged}, separators=(",", ":")))
        except OSError:
            pass  # a read-only tree: run without a cache


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
