"""``# noqa`` suppression: per line (codes or names, or bare) and per file.

Example: ``x = ray.get(f.remote())  # noqa: RAY105`` or ``# noqa: ray-get-loop``.
"""

from __future__ import annotations

import re
from functools import cache

from ray_patterns import catalog

_LINE = re.compile(r"#\s*noqa(?::\s*(?P<codes>[\w-]+(?:\s*,?\s*[\w-]+)*))?", re.IGNORECASE)
_FILE = re.compile(r"^\s*#\s*ray-patterns:\s*noqa\b(?::\s*(?P<codes>[\w\s,-]+))?", re.I | re.M)

ALL = frozenset({"*"})


def file_suppressions(source: str) -> frozenset[str]:
    """Codes/names disabled for the whole file; ``{"*"}`` for all."""
    out: set[str] = set()
    for match in _FILE.finditer(source):
        codes = match.group("codes")
        if not codes:
            return ALL
        out |= {c.strip().lower() for c in re.split(r"[\s,]+", codes) if c.strip()}
    return frozenset(out)


def line_suppressions(line: str) -> frozenset[str] | None:
    """None when the line has no noqa; ``{"*"}`` for a bare one; else lowercase codes/names."""
    if "#" not in line:
        return None
    match = _LINE.search(line)
    if match is None:
        return None
    codes = match.group("codes")
    if not codes:
        return ALL
    return frozenset(c.strip().lower() for c in re.split(r"[\s,]+", codes) if c.strip())


def suppressed(sup: frozenset[str] | None, code: str, name: str) -> bool:
    if not sup:
        return False
    return sup is ALL or "*" in sup or not sup.isdisjoint(_names_of(code, name))


@cache
def _names_of(code: str, name: str) -> frozenset[str]:
    """Every lowercase name a ``noqa`` may use for a check: code, old codes, name, page names."""
    names = {code.lower(), name.lower()}
    try:
        check = catalog.check(code)
    except catalog.UnknownName:  # the lint's own RAY001
        return frozenset(names)
    names.update(o.lower() for o in check.old_codes)
    # a page's name (ours or Ray's) stands for every check of that page
    names.update(catalog.page(check.page).names)
    return frozenset(names)
