"""limit-tasks: keep at most N tasks in flight (backpressure).

Handbook: submitting tasks faster than they run fills memory with pending
arguments and results; ``ray.wait`` for earlier tasks before submitting more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ray_patterns._ray import as_remote, call_remote, check_iterable, check_timeout, ensure_ray
from ray_patterns._sizing import MIN_TASKS_IN_FLIGHT, default_max_in_flight, resolve_max_in_flight
from ray_patterns._stream import ResultStream, Submission


def bounded_map(
    fn: Callable[..., Any] | Any,
    iterable: Iterable[Any],
    *,
    max_in_flight: int | None = None,
    ordered: bool = False,
    return_exceptions: bool = False,
    timeout: float | None = None,
    cancel_on_close: bool = True,
) -> ResultStream[Any]:
    """``fn.remote(item)`` for each item, never more than ``max_in_flight`` pending.

    ``fn`` is a remote function, an actor method (``handle.method``), or a plain
    function (made remote once). ``iterable`` is consumed lazily, so an infinite
    generator works, and driver and object-store memory follow ``max_in_flight``
    (default: twice the cluster's CPUs, at least 16, so tasks of a millisecond
    keep the CPUs busy too), not the input length. Results come as
    they complete; ``ordered=True`` gives input order, holding at most
    ``max_in_flight`` results ahead of the one awaited. Errors, timeouts and early
    close behave as in ``iter_results``; the error names the item's index.

    >>> import ray, ray_patterns
    >>> def square(x):
    ...     return x * x
    >>> list(ray_patterns.bounded_map(square, range(5), max_in_flight=2, ordered=True))
    [0, 1, 4, 9, 16]
    """
    remote_fn = as_remote(fn)
    limit = resolve_max_in_flight(max_in_flight, minimum=MIN_TASKS_IN_FLIGHT)
    check_iterable(iterable)
    ensure_ray()

    def submissions() -> Iterator[Submission]:
        for index, item in enumerate(iterable):
            yield index, call_remote(remote_fn, item)

    return ResultStream(
        submissions(),
        what="item",
        ordered=ordered,
        chunk_size=limit,
        max_pending=limit,
        return_exceptions=return_exceptions,
        timeout=check_timeout(timeout),
        cancel_on_close=cancel_on_close,
    )


__all__ = ["bounded_map", "default_max_in_flight", "resolve_max_in_flight"]
