"""too-many-results: fetch results in bounded chunks instead of one huge ``ray.get``.

Handbook: ``ray.get`` on a huge list of large results at once exhausts the
object store and driver memory; fetch and process them in batches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ray import ObjectRef, ObjectRefGenerator

from ray_patterns._generator_stream import generator_results
from ray_patterns._ray import check_positive_int, check_refs, check_timeout
from ray_patterns._stream import ResultStream


def iter_results(
    refs: Iterable[ObjectRef],
    *,
    ordered: bool = False,
    chunk_size: int = 64,
    return_exceptions: bool = False,
    timeout: float | None = None,
    cancel_on_close: bool = True,
) -> ResultStream[Any]:
    """Yield the values of ``refs``: completion order, or input order with ``ordered=True``.

    At most ``chunk_size`` fetched values are held at once, and the iterator drops
    its references to what it has yielded, so Ray can evict them (drop your own
    list too: ``it = iter_results(refs); del refs``). A task that raised has its
    exception raised at its place, with a note naming its index; ``next()`` then
    goes on with the other results, or ``return_exceptions=True`` yields the
    exception instead. ``timeout`` bounds the whole iteration (``TimeoutError``).
    Closing the iterator early (``break``, an error, ``close()``) stops it; the
    tasks are not cancelled (Ray 2.60 can abort the driver when a cancel races a
    task, see ``ResultStream``). ``refs`` may be a generator task's
    ``ObjectRefGenerator``: its outputs come one at a time, in yield order, and
    closing early cancels the task once it has yielded (``cancel_on_close``).

    >>> import ray, ray_patterns
    >>> @ray.remote
    ... def square(x):
    ...     return x * x
    >>> list(ray_patterns.iter_results([square.remote(i) for i in range(4)], ordered=True))
    [0, 1, 4, 9]
    """
    if isinstance(refs, ObjectRefGenerator):  # a list of its refs would keep all outputs alive
        return generator_results(
            refs,
            return_exceptions=return_exceptions,
            timeout=check_timeout(timeout),
            cancel_on_close=cancel_on_close,
        )
    checked = check_refs(refs)
    return ResultStream(
        iter(list(enumerate(checked))),
        what="item",
        ordered=ordered,
        chunk_size=check_positive_int(chunk_size, "chunk_size"),
        max_pending=None,
        return_exceptions=return_exceptions,
        timeout=check_timeout(timeout),
        cancel_on_close=cancel_on_close,
    )


__all__ = ["iter_results"]
