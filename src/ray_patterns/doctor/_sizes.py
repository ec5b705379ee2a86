"""Cheap size estimates of Python values, in bytes (what Ray would move or store)."""

from __future__ import annotations

import sys
from typing import Any

_SCALARS = (int, float, bool, complex, type(None))
_SAMPLE = 100  # items measured in a long container; the rest is extrapolated


def sizeof(obj: Any, depth: int = 0) -> int:
    """Approximate serialized size: buffers by length, containers by their items.

    Exact for numpy arrays, bytes and str; long containers are sampled so that a
    list of 10,000 results costs microseconds, not a second.

    >>> sizeof(b"abc")
    3
    """
    if isinstance(obj, _SCALARS):
        return 8
    if isinstance(obj, (bytes, bytearray, str)):
        return len(obj)
    if isinstance(obj, memoryview):
        return obj.nbytes
    nbytes = getattr(obj, "nbytes", None)  # numpy, torch, arrow buffers
    if isinstance(nbytes, int) and not isinstance(obj, type):
        return nbytes
    if depth >= 4:
        return sys.getsizeof(obj)
    if isinstance(obj, (list, tuple, set, frozenset)):
        return _container(list(obj) if isinstance(obj, (set, frozenset)) else obj, depth)
    if isinstance(obj, dict):
        return _container(list(obj.keys()), depth) + _container(list(obj.values()), depth)
    memory_usage = getattr(obj, "memory_usage", None)  # pandas
    if callable(memory_usage) and hasattr(obj, "columns"):
        try:
            return int(memory_usage(deep=False).sum())
        except Exception:  # an unrelated method of the same name
            pass
    fields = getattr(obj, "__dict__", None)
    if isinstance(fields, dict) and fields:
        return sys.getsizeof(obj) + _container(list(fields.values()), depth)
    return sys.getsizeof(obj)


def _container(items: Any, depth: int) -> int:
    n = len(items)
    if n <= _SAMPLE * 2:
        return sum(sizeof(item, depth + 1) for item in items) + 8 * n
    step = n // _SAMPLE
    sample = sum(sizeof(items[i], depth + 1) for i in range(0, n, step))
    measured = len(range(0, n, step))
    return int(sample * n / measured) + 8 * n
