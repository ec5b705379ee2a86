"""One finding model for the lint (source) and the doctor (run time).

A finding is a check's code at one place. Its page, fix title and links come from
the catalog, so the lint and the doctor say the same thing about the same
anti-pattern. The doctor extends it with what the run cost (``DoctorFinding``).

Example::

    >>> f = Finding("a.py", 3, 5, 3, 20, "RAY105", "ray-get-loop", "ray.get in a loop")
    >>> f.slug, f.url.endswith("/rules/ray-get-loop/")
    ('ray-get-loop', True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ray_patterns import catalog

Applicability = Literal["safe", "unsafe"]
Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, order=True)
class Edit:
    """Replace the text from (line, column) to (end_line, end_column) with ``text``.

    Lines are 1-based and columns 0-based (as ``ast`` gives them); an insertion has
    equal start and end.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    text: str


@dataclass(frozen=True)
class Fix:
    """Edits that together turn one finding into its fix; ``title`` says what they do."""

    title: str
    edits: tuple[Edit, ...]
    applicability: Applicability = "safe"

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "applicability": self.applicability,
            "edits": [e.__dict__ for e in self.edits],
        }


@dataclass(frozen=True)
class Related:
    """Another place that explains a finding (where a ref was made, the loop it is in)."""

    path: str
    line: int
    message: str


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place; lines and columns are 1-based, as editors show them.

    ``cell`` is the notebook cell number (1-based) for ``.ipynb`` files, else None;
    then ``line``/``end_line`` count from the top of that cell. ``name`` is the
    check's name (``unbounded-submission``); ``slug`` is its handbook page
    (``limit-tasks``).
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
    source: Literal["lint", "doctor"] = field(default="lint", compare=False)
    severity: Severity = field(default="warning", compare=False)
    fix: Fix | None = field(default=None, compare=False)
    related: tuple[Related, ...] = field(default=(), compare=False)

    @property
    def slug(self) -> str:
        """The handbook page of the check (``""`` for the lint's own cannot-parse)."""
        if self.code == catalog.PARSE_ERROR_CODE:
            return ""
        return catalog.check(self.code).page

    @property
    def url(self) -> str:
        """Our page for the check."""
        return f"{catalog.DOCS_SITE}rules/{self.name}/"

    @property
    def ray_url(self) -> str | None:
        """Ray's handbook page for the check, if it has one."""
        return catalog.page(self.slug).ray_url if self.slug else None

    @property
    def fix_title(self) -> str:
        if self.fix is not None:
            return self.fix.title
        if self.code == catalog.PARSE_ERROR_CODE:
            return "fix the syntax error"
        return catalog.check(self.code).fix_title

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "cell": self.cell,
            "code": self.code,
            "name": self.name,
            "slug": self.slug,
            "message": self.message,
            "severity": self.severity,
            "fix_title": self.fix_title,
            "fix": None if self.fix is None else self.fix.as_dict(),
            "related": [r.__dict__ for r in self.related],
            "url": self.url,
            "ray_url": self.ray_url,
        }
