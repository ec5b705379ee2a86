"""overlapping-computation-communication: fetch the next item while processing this one.

Handbook slug ``overlapping-computation-communication``. A worker that asks a
queue for an item, waits, processes it and only then asks again sits idle for a
whole round trip per item. Requesting the next item before processing the
current one overlaps the two: with 20 ms fetch and 20 ms compute per item the
loop takes ~20 ms per item instead of ~40.

The anti-pattern::

    while True:
        item = ray.get(queue.get_work_item.remote())   # idle during the fetch
        if item is None:
            break
        process(item)

With :func:`prefetch`::

    for item in prefetch(queue.get_work_item.remote, depth=1, until=None):
        process(item)                 # the next fetch is already in flight

``async for item in aprefetch(...)`` does the same inside an async actor with
``await ref``. Not worth it when compute dwarfs the round trip; and a deeper
prefetch takes items that a faster sibling worker could have processed.

Fetches issued past the sentinel (up to ``depth``) are dropped, so the source
must keep answering the sentinel once it is empty (the handbook's queue returns
None). If you stop iterating early, :meth:`Prefetch.unconsumed` returns the refs
still in flight so their items are not lost.
"""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import ray
from ray import ObjectRef

from ray_patterns._ray import check_positive_int

__all__ = ["NO_SENTINEL", "Prefetch", "aprefetch", "prefetch"]


class _NoSentinel:
    def __repr__(self) -> str:
        return "NO_SENTINEL"


#: Pass as ``until`` to iterate without a sentinel (forever, or until you break).
NO_SENTINEL: Any = _NoSentinel()


def _fetcher(fetch: Any) -> Callable[[], ObjectRef]:
    # Accept both ``queue.get_work_item.remote`` and ``queue.get_work_item`` / a
    # remote function: calling ``.remote()`` ourselves is the obvious intent.
    if callable(getattr(fetch, "remote", None)):
        return fetch.remote  # type: ignore[no-any-return]
    if not callable(fetch):
        raise TypeError(
            f"prefetch: fetch must be a callable returning an ObjectRef "
            f"(e.g. queue.get_work_item.remote), got {type(fetch).__name__}"
        )
    return fetch  # type: ignore[no-any-return]


def _call(fetch: Callable[[], ObjectRef]) -> ObjectRef:
    ref = fetch()
    if not isinstance(ref, ObjectRef):
        raise TypeError(
            f"prefetch: fetch() returned {type(ref).__name__}, not an ObjectRef; pass the "
            "bound .remote method (e.g. queue.get_work_item.remote), not a plain function"
        )
    return ref


def _is_sentinel(value: Any, until: Any) -> bool:
    if until is NO_SENTINEL:
        return False
    if value is until:
        return True
    if until is None:
        return False
    try:
        return bool(value == until)
    except Exception:  # e.g. a numpy array against a scalar: not the sentinel
        return False


class Prefetch(Iterator[Any]):
    """Iterator keeping ``depth`` fetches in flight; made by :func:`prefetch`.

    An error raised by a fetch is raised by ``next()`` at that item; calling
    ``next()`` again continues with the following items.
    """

    def __init__(self, fetch: Any, *, depth: int = 1, until: Any = None):
        self._fetch = _fetcher(fetch)
        self._depth = check_positive_int(depth, "depth")
        self._until = until
        self._pending: collections.deque[ObjectRef] = collections.deque()
        self._done = False

    def _take(self) -> ObjectRef:
        if not self._pending:
            self._pending.append(_call(self._fetch))
        ref = self._pending.popleft()
        # Submit the look-ahead before blocking on ``ref``, so those fetches run
        # while we wait and while the caller processes this item.
        while len(self._pending) < self._depth:
            self._pending.append(_call(self._fetch))
        return ref

    def __iter__(self) -> Prefetch:
        return self

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        value = ray.get(self._take())
        if _is_sentinel(value, self._until):
            self._done = True
            self._pending.clear()  # fetches past the sentinel: dropped (see module doc)
            raise StopIteration
        return value

    def unconsumed(self) -> list[ObjectRef]:
        """Refs fetched ahead but not yet returned; the iterator stops using them."""
        refs = list(self._pending)
        self._pending.clear()
        self._done = True
        return refs


def prefetch(fetch: Any, *, depth: int = 1, until: Any = None) -> Prefetch:
    """Iterate ``ray.get(fetch())`` results, keeping ``depth`` fetches in flight.

    ``fetch`` returns an ObjectRef (e.g. ``queue.get_work_item.remote``); iteration
    ends when a fetched value equals ``until`` (default None; ``NO_SENTINEL`` never
    ends). Works in a driver, a task or a sync actor. Example::

        for item in prefetch(queue.get_work_item.remote):
            process(item)
    """
    return Prefetch(fetch, depth=depth, until=until)


async def aprefetch(fetch: Any, *, depth: int = 1, until: Any = None) -> AsyncIterator[Any]:
    """``async for`` version of :func:`prefetch` for async actors (``await ref``).

    Example::

        async for item in aprefetch(queue.get_work_item.remote, depth=2):
            await handle(item)
    """
    fetcher = _fetcher(fetch)
    check_positive_int(depth, "depth")
    pending: collections.deque[ObjectRef] = collections.deque()
    while True:
        if not pending:
            pending.append(_call(fetcher))
        ref = pending.popleft()
        while len(pending) < depth:
            pending.append(_call(fetcher))
        value = await ref
        if _is_sentinel(value, until):
            return
        yield value
