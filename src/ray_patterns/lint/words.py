"""Byte- and text-level tests that decide, before any parsing, whether a file needs it.

Each test gives the same answer as the regular expression in its docstring, on ``str``
and on ``bytes`` alike, but looks only where the literal word is (found with the fast
substring search): the expressions themselves start with an alternation or a line
anchor, which makes the regex engine try every position of every file of a big tree.

Example::

    remote_shaped("f.remote(1)")            # True
    remote_shaped("a remote actor")         # False
    imports_ray(b"import os, ray\\n")        # True
"""

from __future__ import annotations

import re
from typing import AnyStr

__all__ = ["imports_ray", "remote_shaped"]

_SPACE = " \t\n\r\x0b\x0c"  # what ``\s`` matches in an ASCII pattern
_SPACE_B = _SPACE.encode()

# ``import`` as a whole word (the line around a ``remote`` that may be imported)
_IMPORT_WORD = re.compile(r"\bimport\b", re.ASCII)
_IMPORT_WORD_B = re.compile(rb"\bimport\b")

# the two halves of ``^[ \t]*(?:import[ \t]+(?:NAME,)*ray\b|from[ \t]+ray[ \t]+import\b)``
# (re.M), each starting with its literal; the line start is checked by hand
_IMPORT_RAY = r"import[ \t]+(?:[\w.]+(?:[ \t]+as[ \t]+\w+)?[ \t]*,[ \t]*)*ray\b"
_FROM_RAY = r"from[ \t]+ray[ \t]+import\b"
_IMPORTS = (re.compile(_FROM_RAY), re.compile(_IMPORT_RAY))
_IMPORTS_B = (re.compile(_FROM_RAY.encode()), re.compile(_IMPORT_RAY.encode()))


def _is_word(char: str | bytes) -> bool:
    """An ASCII ``\\w`` character (``char`` is one long; empty: no character)."""
    return char.isascii() and (char.isalnum() or char in ("_", b"_"))


def remote_shaped(text: str | bytes) -> bool:
    """Does ``remote`` occur in a shape code uses it in: ``x.remote``, ``remote(``,
    ``@remote``, imported (``import ... remote``, ``remote as r``)? Prose ("a remote
    actor") has none of them.

    The same as ``re.search(r"\\.\\s*remote\\b|\\bremote\\s*\\(|@\\s*remote\\b"
    r"|\\bimport\\b[^\\n]*\\bremote\\b|\\bremote\\s+as\\b", text, re.ASCII)``.
    """
    if isinstance(text, bytes):
        return _remote_shaped(text, _IMPORT_WORD_B, _SPACE_B, b"remote.@(as\n")
    return _remote_shaped(text, _IMPORT_WORD, _SPACE, "remote.@(as\n")


def _remote_shaped(
    text: AnyStr, import_word: re.Pattern[AnyStr], space: AnyStr, lit: AnyStr
) -> bool:
    key, dot, at, paren, as_, newline = lit[:6], lit[6:7], lit[7:8], lit[8:9], lit[9:11], lit[11:]
    size = len(text)
    start = text.find(key)
    while start != -1:
        end = start + 6
        word_before = start > 0 and _is_word(text[start - 1 : start])
        word_after = _is_word(text[end : end + 1])
        if not word_after:
            # ``.remote`` / ``@remote``, spaces allowed between
            i = start
            while i > 0 and text[i - 1 : i] in space:
                i -= 1
            if i > 0 and text[i - 1 : i] in (dot, at):
                return True
        if not word_before:
            j = end
            while j < size and text[j : j + 1] in space:
                j += 1
            if text[j : j + 1] == paren:  # ``remote(``
                return True
            # ``remote as`` (one space at least)
            if j > end and text[j : j + 2] == as_ and not _is_word(text[j + 2 : j + 3]):
                return True
            if not word_after:  # ``import ... remote`` on one line
                line_start = text.rfind(newline, 0, start) + 1
                if import_word.search(text, line_start, start) is not None:
                    return True
        start = text.find(key, start + 1)
    return False


def imports_ray(text: str | bytes) -> bool:
    """Does a line import ray (``import ray``, ``import os, ray as r``, ``from ray
    import x``)? The same as ``re.search(r"^[ \\t]*(?:import[ \\t]+(?:[\\w.]+(?:[ \\t]+as"
    r"[ \\t]+\\w+)?[ \\t]*,[ \\t]*)*ray\\b|from[ \\t]+ray[ \\t]+import\\b)", text, re.M)``.
    """
    if isinstance(text, bytes):
        return _imports_ray(text, _IMPORTS_B, b"\n \t")
    return _imports_ray(text, _IMPORTS, "\n \t")


def _imports_ray(text: AnyStr, patterns: tuple[re.Pattern[AnyStr], ...], lit: AnyStr) -> bool:
    newline, blank = lit[:1], lit[1:]
    for pattern in patterns:
        # a match lies on one line, so one that does not start it hides no other
        for match in pattern.finditer(text):
            begin = match.start()
            if not text[text.rfind(newline, 0, begin) + 1 : begin].strip(blank):
                return True
    return False
