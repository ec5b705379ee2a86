"""submission-order: process results as they finish, not in the order they were submitted.

Handbook: iterating refs with ``ray.get`` one by one waits on stragglers while
finished results sit unprocessed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

import ray
from ray import ObjectRef, ObjectRefGenerator

from ray_patterns._generator_stream import generator_refs
from ray_patterns._ray import check_refs, check_timeout


def as_completed(refs: Iterable[ObjectRef], *, timeout: float | None = None) -> Iterator[ObjectRef]:
    """Yield each ref as soon as its object is ready, one at a time.

    Like ``concurrent.futures.as_completed``: duplicates are yielded once, and
    ``timeout`` (seconds, from this call) bounds the whole iteration with a
    ``TimeoutError`` saying how many refs are still pending. Unlike
    ``ray.util.as_completed`` it never waits for a chunk of results before the
    first, and everything already finished is taken in one ``ray.wait``, so n
    finished refs cost O(n). A generator task's ``ObjectRefGenerator`` is taken one
    output at a time, as each is yielded.

    >>> import ray, ray_patterns
    >>> @ray.remote
    ... def square(x):
    ...     return x * x
    >>> refs = [square.remote(i) for i in range(4)]
    >>> sorted(ray.get(ref) for ref in ray_patterns.as_completed(refs))
    [0, 1, 4, 9]
    """
    if isinstance(refs, ObjectRefGenerator):  # listing it would wait for the whole task
        return generator_refs(refs, check_timeout(timeout))
    unique = list(dict.fromkeys(check_refs(refs)))
    limit = check_timeout(timeout)
    deadline = None if limit is None else time.monotonic() + limit
    return _as_completed(unique, deadline, limit)


def _as_completed(
    pending: list[ObjectRef], deadline: float | None, limit: float | None
) -> Iterator[ObjectRef]:
    total = len(pending)
    while pending:
        ready, pending = ray.wait(pending, num_returns=len(pending), timeout=0)
        if not ready:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, pending = ray.wait(pending, num_returns=1, timeout=remaining)
            if not ready:
                raise TimeoutError(
                    f"{len(pending)} of {total} refs still pending after timeout={limit}s"
                )
        yield from ready


__all__: list[Any] = ["as_completed"]
