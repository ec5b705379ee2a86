"""Findings and the rule base class shared by every ``ray-patterns lint`` rule.

Example::

    finding = Finding("a.py", 3, 5, 3, 20, "RAY105", "ray-get-loop", "ray.get in loop")
    print(finding.url)
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ray_patterns.lint.model import Module

# One constant so the docs site can move without touching any rule.
DOCS_BASE_URL = "https://ray-patterns.readthedocs.io/en/latest/rules/"

PARSE_ERROR_CODE = "RAY001"
PARSE_ERROR_NAME = "cannot-parse"


def rule_url(name: str) -> str:
    """The documentation page of rule ``name``.

    Example: ``rule_url("ray-get-loop")`` ends in ``/rules/ray-get-loop/``.
    """
    return f"{DOCS_BASE_URL}{name}/"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place; lines and columns are 1-based, as editors show them.

    ``cell`` is the notebook cell number (1-based) for ``.ipynb`` files, else None;
    then ``line``/``end_line`` count from the top of that cell.
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    message: str
    cell: int | None = None

    @property
    def url(self) -> str:
        return rule_url(self.name)

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "url": self.url,
            "cell": self.cell,
        }


class Rule:
    """Base class: subclasses set ``code``, ``name``, ``page``, ``message`` and ``check``.

    The subclass docstring (What it does / Why is this bad? / Example / Use instead)
    is the rule's only documentation; ``ray-patterns explain`` prints it.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    # the handbook page the rule comes from (its slug)
    page: ClassVar[str]
    message: ClassVar[str]
    # threshold name -> default; overridable per rule in pyproject
    defaults: ClassVar[Mapping[str, int]] = {}

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
