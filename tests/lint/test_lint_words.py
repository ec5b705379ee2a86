"""The pre-parse word tests agree with the regular expressions they replace."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ray_patterns.lint.words import imports_ray, remote_shaped

_REMOTE = r"\.\s*remote\b|\bremote\s*\(|@\s*remote\b|\bimport\b[^\n]*\bremote\b|\bremote\s+as\b"
_IMPORTS = (
    r"^[ \t]*(?:import[ \t]+(?:[\w.]+(?:[ \t]+as[ \t]+\w+)?[ \t]*,[ \t]*)*ray\b"
    r"|from[ \t]+ray[ \t]+import\b)"
)
_PIECES = ["remote", "import", "from", "ray", "as", "os", "x", "_", "1", "é", ".", "@", "("]
_PIECES += [",", "#", " ", "\t", "\n", "\r", "\x0b"]
_texts = st.lists(st.sampled_from(_PIECES), max_size=10).map("".join)


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_remote_shaped_is_the_regex(text: str) -> None:
    assert remote_shaped(text) == bool(re.search(_REMOTE, text, re.ASCII))
    data = text.encode()
    assert remote_shaped(data) == bool(re.search(_REMOTE.encode(), data))


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_imports_ray_is_the_regex(text: str) -> None:
    assert imports_ray(text) == bool(re.search(_IMPORTS, text, re.M))
    data = text.encode()
    assert imports_ray(data) == bool(re.search(_IMPORTS.encode(), data, re.M))


def test_examples() -> None:
    assert remote_shaped("x = f.remote(1)") and remote_shaped(b"@ ray .\n remote")
    assert remote_shaped("from ray import get, remote") and remote_shaped("remote  as r")
    assert not remote_shaped("a remote actor, remotely") and not remote_shaped(b"remote_fn")
    assert imports_ray("import os, ray as r\n") and imports_ray(b"  from ray import get")
    assert not imports_ray("# import ray\n") and not imports_ray("import rayon")
