"""The rule base class shared by every ``ray-patterns lint`` rule.

Findings are ``ray_patterns._findings.Finding`` (one model for lint and doctor);
a rule's code, name and page must be the catalog's (``ray_patterns.catalog``).

Example::

    finding = Finding("a.py", 3, 5, 3, 20, "RAY105", "ray-get-loop", "ray.get in loop")
    print(finding.url)
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, ClassVar

from ray_patterns import catalog
from ray_patterns._findings import Finding, Fix

if TYPE_CHECKING:
    from ray_patterns.lint.model import Module

__all__ = ["DOCS_BASE_URL", "PARSE_ERROR_CODE", "PARSE_ERROR_NAME", "Finding", "Rule", "rule_url"]

DOCS_BASE_URL = f"{catalog.DOCS_SITE}rules/"
PARSE_ERROR_CODE = catalog.PARSE_ERROR_CODE
PARSE_ERROR_NAME = catalog.PARSE_ERROR_NAME


def rule_url(name: str) -> str:
    """The documentation page of rule ``name``.

    Example: ``rule_url("ray-get-loop")`` ends in ``/rules/ray-get-loop/``.
    """
    return f"{DOCS_BASE_URL}{name}/"


class Rule:
    """Base class: subclasses set ``code``, ``name``, ``page``, ``message`` and ``check``.

    The subclass docstring (What it does / Why is this bad? / Example / Use instead)
    is the rule's only documentation; ``ray-patterns explain`` prints it.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    # the handbook page the rule comes from (its slug); set from the catalog
    page: ClassVar[str]
    message: ClassVar[str]
    # threshold name -> default; overridable per rule in pyproject
    defaults: ClassVar[Mapping[str, int]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # the catalog names the check; a rule only restates its code and name, and a
        # mismatch is a bug that should fail at import, not drift silently
        check = catalog.check(cls.code)
        if check.name != cls.name or not check.lint:
            raise TypeError(
                f"rule {cls.__name__}: catalog has {check.code} as {check.name!r} "
                f"(lint={check.lint}), the rule says {cls.name!r}"
            )
        cls.page = check.page

    def __init__(self, settings: Mapping[str, int] | None = None) -> None:
        self.settings: dict[str, int] = dict(self.defaults)
        for key, value in (settings or {}).items():
            norm = key.replace("-", "_")
            if norm not in self.defaults:
                known = ", ".join(sorted(k.replace("_", "-") for k in self.defaults)) or "none"
                raise ValueError(
                    f"rule {self.name} has no setting {key!r} (known settings: {known})"
                )
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(
                    f"setting {key!r} of rule {self.name} must be a non-negative integer, "
                    f"got {value!r}"
                )
            self.settings[norm] = value

    @classmethod
    def doc(cls) -> str:
        return inspect.getdoc(cls) or ""

    @classmethod
    def summary(cls) -> str:
        return cls.doc().splitlines()[0] if cls.doc() else cls.message

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        """Yield ``(node, message)`` for each problem found in ``mod``."""
        raise NotImplementedError

    def fix(self, mod: Module, node: ast.AST) -> Fix | None:
        """The fix for the problem ``check`` reported at ``node``, if there is a sure one."""
        return None
