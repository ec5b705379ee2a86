"""Find the files to lint: recursive, skipping what ``.gitignore`` ignores, venvs and builds.

Symlinked folders are followed once (loops are cut), broken links are skipped.

Example: ``list(discover([Path(".")], exclude=["generated/"]))``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pathspec

SUFFIXES = (".py", ".ipynb")
# Folders never worth linting when found while walking (a path given explicitly is).
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".eggs",
        "__pycache__",
        "__pypackages__",
        "build",
        "dist",
        "_build",
        "buck-out",
        "node_modules",
        "site-packages",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".ipynb_checkpoints",
        ".direnv",
    }
)

_Spec = tuple[Path, pathspec.PathSpec]


def _gitignore(folder: Path) -> pathspec.PathSpec | None:
    try:
        text = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(text.splitlines())


def _ignored(path: Path, is_dir: bool, specs: list[_Spec]) -> bool:
    for base, spec in specs:
        try:
            rel = path.relative_to(base).as_posix()
        except ValueError:
            continue
        if spec.match_file(rel + "/" if is_dir else rel):
            return True
    return False


def _parent_specs(root: Path) -> list[_Spec]:
    """``.gitignore`` files of the folders above ``root``, up to its git repository's top."""
    specs: list[_Spec] = []
    for folder in root.parents:
        spec = _gitignore(folder)
        if spec is not None:
            specs.append((folder, spec))
        if (folder / ".git").exists():
            return specs
    return []  # not in a git repository: outer .gitignore files do not apply


def discover(
    paths: Iterable[Path], exclude: Iterable[str] = (), base: Path | None = None
) -> Iterator[Path]:
    """Yield each lintable file once, in a stable order.

    ``exclude`` holds gitignore-style patterns relative to ``base`` (default: cwd).
    """
    base = (base or Path.cwd()).resolve()
    excluded = pathspec.GitIgnoreSpec.from_lines(list(exclude)) if exclude else None
    seen_files: set[Path] = set()
    for root in paths:
        if root.is_file() or (root.suffix in SUFFIXES and not root.is_dir()):
            key = root.resolve() if root.exists() else root
            if key not in seen_files:
                seen_files.add(key)
                yield root
            continue
        if not root.is_dir():
            continue
        yield from _walk(root, excluded, base, seen_files)


def _walk(
    root: Path,
    excluded: pathspec.PathSpec | None,
    base: Path,
    seen_files: set[Path],
) -> Iterator[Path]:
    real_root = root.resolve()
    specs = _parent_specs(real_root)
    seen_dirs: set[tuple[int, int]] = set()
    stack: list[tuple[Path, list[_Spec]]] = [(root, specs)]
    while stack:
        folder, inherited = stack.pop()
        try:
            st = folder.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:
            continue  # a symlink loop, or a folder reached twice
        seen_dirs.add((st.st_dev, st.st_ino))
        specs_here = list(inherited)
        spec = _gitignore(folder)
        if spec is not None:
            specs_here.append((folder.resolve(), spec))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        subdirs: list[Path] = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()  # follows symlinks; False for broken ones
                is_file = not is_dir and entry.is_file()
            except OSError:
                continue
            real = path.resolve() if entry.is_symlink() else path.absolute()
            if _ignored(real, is_dir, specs_here) or _excluded(path, is_dir, excluded, base):
                continue
            if is_dir:
                if entry.name in SKIP_DIRS or (path / "pyvenv.cfg").exists():
                    continue
                subdirs.append(path)
            elif is_file and path.suffix in SUFFIXES:
                key = path.resolve()
                if key not in seen_files:
                    seen_files.add(key)
                    yield path
        stack.extend((d, specs_here) for d in reversed(subdirs))


def _excluded(path: Path, is_dir: bool, spec: pathspec.PathSpec | None, base: Path) -> bool:
    if spec is None:
        return False
    try:
        rel = path.absolute().relative_to(base).as_posix()
    except ValueError:
        rel = path.as_posix()
    return bool(spec.match_file(rel + "/" if is_dir else rel))
