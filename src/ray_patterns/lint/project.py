"""The files of one lint run, so a task defined in one module is known where it is used.

``from helpers import f``, ``from .helpers import f`` and ``import helpers as h`` in a
linted file are followed to ``helpers.py`` when that file is part of the run (under one
of the paths given): its remote definitions (and what they return) are judged as if
they were local. Each lookup is recorded as a dependency of the importing file (the
helper's content hash, or None for a candidate file that does not exist), so a cached
result is reused only while its helpers are unchanged.

Example::

    project = Project([Path("src")])
    project.remote_def("src/pipeline.py", "helpers", 0, "f")   # RemoteDef or None
    project.deps                                               # {"src/helpers.py": "..."}
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from ray_patterns.lint.model import Module, RemoteDef


class Project:
    """Files under ``roots`` (folders, or files given one by one) and their modules."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self.dirs: list[str] = []
        self.files: set[str] = set()
        for root in roots:
            real = os.path.realpath(root)
            if os.path.isdir(real):
                self.dirs.append(real)
            else:
                self.files.add(real)
        #: path -> content hash (None: no such file in the run) of the files consulted
        #: while linting the current file; the runner resets it per file
        self.deps: dict[str, str | None] = {}
        self._modules: dict[str, tuple[str | None, Module | None]] = {}

    def _inside(self, real: str) -> bool:
        return real in self.files or any(
            real.startswith(d.rstrip(os.sep) + os.sep) for d in self.dirs
        )

    def candidates(self, importer: str, module: str, level: int) -> list[str]:
        """Files that ``import module`` (``level`` dots) in ``importer`` may mean, in the
        order Python would try them: the importer's own folder first for a plain name
        (a script's folder is on ``sys.path``), then each folder above it."""
        here = os.path.dirname(os.path.realpath(importer))
        parts = [p for p in module.split(".") if p]
        if level:
            for _ in range(level - 1):
                here = os.path.dirname(here)
            bases = [here]
        else:
            bases = []
            while True:
                bases.append(here)
                parent = os.path.dirname(here)
                if parent == here or not self._inside(parent):
                    break
                here = parent
        out: list[str] = []
        for base in bases:
            stem = os.path.join(base, *parts)
            if parts:
                out.append(stem + ".py")
            out.append(os.path.join(stem, "__init__.py"))
        return out

    def remote_def(self, importer: str, module: str, level: int, name: str) -> RemoteDef | None:
        """The remote definition ``name`` of ``module`` as imported from ``importer``."""
        for path in self.candidates(importer, module, level):
            digest, mod = self._module(path)
            self.deps[path] = digest
            if digest is not None:
                found = mod.remote_by_name.get(name) if mod is not None else None
                return None if found is None else replace(found, module=mod)
        return None

    def _module(self, path: str) -> tuple[str | None, Module | None]:
        """(content hash, parsed module) of a file of the run; (None, None) if it is not
        one; (hash, None) if it holds no remote definition or does not parse."""
        known = self._modules.get(path)
        if known is not None:
            return known
        from ray_patterns.lint.cache import content_hash
        from ray_patterns.lint.engine import ParseFailure, decode, parse

        found: tuple[str | None, Module | None] = (None, None)
        if self._inside(path) and os.path.isfile(path):
            try:
                data = Path(path).read_bytes()
            except OSError:
                data = None
            if data is not None:
                found = (content_hash(data), None)
                if b"remote" in data:
                    try:
                        source = decode(data)
                        found = (found[0], Module(parse(source, path), source, path))
                    except (ParseFailure, RecursionError):
                        pass
        self._modules[path] = found
        return found

    def state(self, path: str) -> str | None:
        """What ``deps`` records for ``path`` now: its hash, or None if not in the run."""
        return self._module(path)[0]
