"""The lint rules, one module each; ``all_rules()`` finds them.

Example: ``[r.code for r in all_rules()][:2]`` -> ``['RAY101', 'RAY102']``.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from ray_patterns.lint.core import Rule


@cache
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule class, sorted by code."""
    found: list[type[Rule]] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Rule)
                and value is not Rule
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return tuple(sorted(found, key=lambda r: r.code))
