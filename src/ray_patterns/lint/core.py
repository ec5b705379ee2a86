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
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, ClassVar

from ray_patterns import catalog
from ray_patterns._findings import Finding, Fix
from ray_patterns.lint.words import remote_shaped

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
    #: words the source must hold for the rule to find anything: one word of each group
    #: (``ray.remote``, ``f.remote()``, ``ray.get`` and imports all spell them out;
    #: ``ray.get`` is met by ``from ray import get`` too, see ``has_word``).
    #: A file with no group met for any rule is not even parsed; keep them necessary.
    needs: ClassVar[tuple[tuple[str, ...], ...]] = (("remote",),)

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

    @classmethod
    def wanted(cls, source: str, memo: dict[str, bool]) -> bool:
        """Can ``source`` hold a finding of this rule (every group of ``needs`` met)?

        ``memo`` keeps one answer per word for the file, shared by all rules.
        """
        return all(any(has_word(source, w, memo) for w in group) for group in cls.needs)

    def check(self, mod: Module) -> Iterator[tuple[ast.AST, str]]:
        """Yield ``(node, message)`` for each problem found in ``mod``."""
        raise NotImplementedError

    def fix(self, mod: Module, node: ast.AST) -> Fix | None:
        """The fix for the problem ``check`` reported at ``node``, if there is a sure one."""
        return None


_WORDS: dict[str, re.Pattern[str]] = {}


def has_word(source: str, word: str, memo: dict[str, bool]) -> bool:
    """Is ``word`` in ``source`` as a whole word? A substring search first: the regex
    runs only on files that hold the letters at all.

    ``ray.NAME`` stands for what ``Module.is_ray_call`` resolves: ``ray.NAME`` itself,
    ``NAME`` imported from ray, or any use of an alias (``import ray as r``).
    """
    found = memo.get(word)
    if found is None:
        if word.startswith("ray."):
            name = word[4:]
            found = _word(source, word) or (
                _word(source, name)
                and (
                    _RAY_ALIAS.search(source) is not None
                    or any(_word(m.group(1), name) for m in _FROM_RAY.finditer(source))
                )
            )
        else:
            found = _word(source, word)
        memo[word] = found
    return found


#: words whose every use in code has a shape: ``remote`` is ``x.remote``, ``remote(``,
#: ``@remote`` or imported (``import ... remote``, ``remote as r``); in docstrings and
#: prose ("a remote actor") it is none of them, and such files need no parsing
#: (a test on ``str`` and on ``bytes``, see ``ray_patterns.lint.words``)
SHAPES: dict[str, Callable[[str | bytes], bool]] = {"remote": remote_shaped}
_RAY_ALIAS = re.compile(r"import\s+ray\s+as\b")
_FROM_RAY = re.compile(r"from\s+ray\s+import\s+(\([^)]*\)|[^\n]*)")


def _word(source: str, word: str) -> bool:
    if word not in source:
        return False
    shaped = SHAPES.get(word)
    if shaped is not None:
        return shaped(source)
    pattern = _WORDS.get(word)
    if pattern is None:
        key = re.escape(word)  # the literal first: the regex engine's fast search
        pattern = _WORDS[word] = re.compile(rf"{key}(?!\w)(?<!\w{key})")
    return pattern.search(source) is not None
