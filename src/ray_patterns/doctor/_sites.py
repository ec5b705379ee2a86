"""Call sites: the first frame of the user's own code (not Ray's, ours or the stdlib's)."""

from __future__ import annotations

import os
import site
import sys
from types import FrameType

import ray

import ray_patterns

# frame classes: USER is the answer; LIBRARY is code that fetches results on the user's
# behalf (ray_patterns' helpers, ray.util / ray.data & co, other site-packages): the
# user called e.g. bounded_map; SKIP is Ray's core, the doctor itself, the stdlib
USER, LIBRARY, SKIP = 0, 1, 2

_RAY_DIR = os.path.dirname(os.path.abspath(ray.__file__)) + os.sep
_OURS_DIR = os.path.dirname(os.path.abspath(ray_patterns.__file__)) + os.sep
_DOCTOR_DIR = os.path.join(_OURS_DIR, "doctor") + os.sep
# the bench cases are programs written like a user's (their anti variants on purpose)
_CASES_DIR = os.path.join(_OURS_DIR, "bench", "cases") + os.sep


# Ray's own libraries built on the core API: their result flow is theirs, not the user's
_RAY_LIBRARY_DIRS = tuple(
    os.path.join(_RAY_DIR, name) + os.sep
    for name in ("util", "data", "train", "tune", "serve", "air", "dag", "experimental", "rllib")
)
_RAY_CLIENT_DIR = os.path.join(_RAY_DIR, "util", "client") + os.sep


def _stdlib_dirs() -> tuple[str, ...]:
    # the directory of ``os`` is the stdlib's (``sysconfig``'s "stdlib"); a venv's
    # stdlib lives under the base interpreter's prefix
    dirs = {os.path.dirname(os.path.abspath(os.__file__)) + os.sep}
    for prefix in {sys.base_prefix, sys.prefix, sys.exec_prefix}:
        ver = f"python{sys.version_info.major}.{sys.version_info.minor}"
        dirs.add(os.path.join(prefix, "lib", ver) + os.sep)
    return tuple(sorted(dirs))


def _site_dirs() -> tuple[str, ...]:
    # ``site`` is imported at every interpreter start; ``sysconfig`` (with its
    # generated data module) cost each new worker ~2 ms, for the same directories
    return tuple(sorted({os.path.abspath(path) + os.sep for path in site.getsitepackages()}))


#: (stdlib dirs, site-packages dirs), computed at the first ``classify``: a worker
#: whose tasks never call Ray (the leaves of a workload) never needs them
_dirs: tuple[tuple[str, ...], tuple[str, ...]] | None = None
_cache: dict[str, int] = {}


def classify(filename: str) -> int:
    """USER, LIBRARY or SKIP for a code object's file name (cached)."""
    global _dirs
    kind = _cache.get(filename)
    if kind is None:
        if _dirs is None:
            _dirs = (_stdlib_dirs(), _site_dirs())
        stdlib_dirs, site_dirs = _dirs
        path = os.path.abspath(filename) if not filename.startswith("<") else filename
        if filename.startswith("<frozen") or path.startswith(_DOCTOR_DIR):
            kind = SKIP
        elif path.startswith(_CASES_DIR):
            kind = USER
        elif path.startswith(_OURS_DIR):
            kind = LIBRARY
        elif path.startswith(_RAY_DIR):
            library = path.startswith(_RAY_LIBRARY_DIRS) and not path.startswith(_RAY_CLIENT_DIR)
            kind = LIBRARY if library else SKIP
        elif path.startswith(site_dirs):  # first: a venv's site-packages sits in lib/
            kind = LIBRARY
        elif path.startswith(stdlib_dirs):
            kind = SKIP
        else:
            kind = USER
        _cache[filename] = kind
    return kind


def user_site(depth: int = 2) -> tuple[str, int, bool]:
    """``(file, line, via_library)`` of the nearest user frame above the caller.

    ``via_library`` is True when a ray_patterns helper sits between that frame and
    Ray: such calls are the library's own (correct) result flow, so the detectors
    that judge how results are fetched leave them alone.

    >>> user_site(1)[0].endswith(".py") or True
    True
    """
    frame: FrameType | None = sys._getframe(depth)
    via_library = False
    while frame is not None:
        kind = classify(frame.f_code.co_filename)
        if kind == USER:
            return frame.f_code.co_filename, frame.f_lineno, via_library
        if kind == LIBRARY:
            via_library = True
        frame = frame.f_back
    return "<unknown>", 0, via_library
