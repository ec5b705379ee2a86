"""Find the files to lint: recursive, skipping what ``.gitignore`` ignores, venvs and builds.

Symlinked folders are followed once (loops are cut), broken links are skipped.

Example: ``list(discover([Path(".")], exclude=["generated/"]))``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a spec is built: most runs have none (~20 ms)
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
        ".ray_patterns_cache",
        ".ipynb_checkpoints",
        ".direnv",
    }
)

# (folder as an absolute string path, its .gitignore)
_Spec = tuple[str, "pathspec.PathSpec"]


def _gitignore(folder: Path) -> pathspec.PathSpec | None:
    try:
        text = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(text.splitlines())


def _relative(path: str, base: str) -> str | None:
    """``path`` relative to ``base`` (both absolute, '/'-separated), if inside it."""
    if path.startswith(base):
        rest = path[len(base) :]
        if base.endswith("/"):
            return rest
        if rest.startswith("/"):
            return rest[1:]
    return None


def _ignored(path: str, is_dir: bool, specs: list[_Spec]) -> bool:
    for base, spec in specs:
        rel = _relative(path, base)
        if rel is not None and spec.match_file(rel + "/" if is_dir else rel):
            return True
    return False


def _parent_specs(root: Path) -> list[_Spec]:
    """``.gitignore`` files of the folders above ``root``, up to its git repository's top."""
    specs: list[_Spec] = []
    for folder in root.parents:
        spec = _gitignore(folder)
        if spec is not None:
            specs.append((_posix(folder), spec))
        if (folder / ".git").exists():
            return specs
    return []  # not in a git repository: outer .gitignore files do not apply


def discover(
    paths: Iterable[Path], exclude: Iterable[str] = (), base: Path | None = None
) -> Iterator[Path]:
    """Yield each lintable file once, in a stable order.

    ``exclude`` holds gitignore-style patterns relative to ``base`` (default: cwd).
    """
    for path, _ in discover_with_stats(paths, exclude, base):
        yield Path(path)


def discover_with_stats(
    paths: Iterable[Path], exclude: Iterable[str] = (), base: Path | None = None
) -> Iterator[tuple[str, os.stat_result | None]]:
    """Like ``discover``, as plain strings with each file's ``stat`` (None when a path
    given explicitly cannot be read): what the cache compares before reading a file."""
    base = (base or Path.cwd()).resolve()
    excluded: pathspec.PathSpec | None = None
    if exclude:
        import pathspec

        excluded = pathspec.GitIgnoreSpec.from_lines(list(exclude))
    given: set[Path] = set()
    # (device, inode) of every file yielded: a file reached twice (a symlink, a path
    # given and also walked) is linted once
    seen: set[tuple[int, int]] = set()
    for root in paths:
        if root.is_file() or (root.suffix in SUFFIXES and not root.is_dir()):
            key = root.resolve() if root.exists() else root
            st = _stat(root)
            ident = (st.st_dev, st.st_ino) if st is not None else None
            if key not in given and ident not in seen:
                given.add(key)
                if ident is not None:
                    seen.add(ident)
                yield str(root), st
            continue
        if not root.is_dir():
            continue
        yield from _walk(root, excluded, base, seen)


def _posix(path: Path | str) -> str:
    return Path(path).as_posix()


def _walk(
    root: Path,
    excluded: pathspec.PathSpec | None,
    base: Path,
    seen: set[tuple[int, int]],
) -> Iterator[tuple[str, os.stat_result]]:
    # Plain strings and one stat per file: pathlib per entry cost more than the lint of
    # an unchanged tree (the cache's warm run) on a package of 2,600 files.
    real_root = root.resolve()
    specs = _parent_specs(real_root)
    base_text = _posix(base)
    seen_dirs: set[tuple[int, int]] = set()
    stack: list[tuple[str, str, list[_Spec]]] = [(str(root), _posix(root.absolute()), specs)]
    while stack:
        folder, folder_abs, inherited = stack.pop()
        try:
            st = os.stat(folder)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:
            continue  # a symlink loop, or a folder reached twice
        seen_dirs.add((st.st_dev, st.st_ino))
        specs_here = list(inherited)
        spec = _gitignore(Path(folder))
        if spec is not None:
            specs_here.append((_posix(os.path.realpath(folder)), spec))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        subdirs: list[tuple[str, str]] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()  # follows symlinks; False for broken ones
                is_file = not is_dir and entry.is_file()
                link = entry.is_symlink()
            except OSError:
                continue
            if not is_dir and not (is_file and entry.name.endswith(SUFFIXES)):
                continue
            absolute = f"{folder_abs}/{entry.name}"
            real = _posix(os.path.realpath(entry.path)) if link else absolute
            if (specs_here and _ignored(real, is_dir, specs_here)) or _excluded(
                absolute, is_dir, excluded, base_text
            ):
                continue
            if is_dir:
                venv = os.path.exists(os.path.join(entry.path, "pyvenv.cfg"))
                if entry.name in SKIP_DIRS or venv:
                    continue
                subdirs.append((entry.path, absolute))
            else:
                try:
                    fst = entry.stat()
                except OSError:
                    continue
                key = (fst.st_dev, fst.st_ino)
                if key not in seen:
                    seen.add(key)
                    yield entry.path, fst
        stack.extend((d, a, specs_here) for d, a in reversed(subdirs))


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _excluded(path: str, is_dir: bool, spec: pathspec.PathSpec | None, base: str) -> bool:
    if spec is None:
        return False
    rel = _relative(path, base)
    if rel is None:
        rel = path
    return bool(spec.match_file(rel + "/" if is_dir else rel))
