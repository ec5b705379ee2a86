"""fine-grained-tasks: many items per Ray task, with the batch size found at run time.

Handbook: a task costs far more than a function call, so tiny tasks are slower
than a plain loop; batch items so each task does enough work.
"""

from __future__ import annotations

import itertools
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

import ray

from ray_patterns._ray import check_iterable, check_timeout, ensure_ray, remote_once
from ray_patterns._sizing import (
    MAX_BATCH_SECONDS,
    MIN_BATCH_SECONDS,
    TARGET_BATCH_SECONDS,
    AutoBatchSize,
    auto_sizer,
    resolve_max_in_flight,
)
from ray_patterns._stream import ResultStream, Submission, _Failure, annotate


def _run_batch(fn: Callable[[Any], Any], items: list[Any]) -> tuple[float, list[Any]]:
    out: list[Any] = []
    start = time.perf_counter()
    for item in items:
        try:
            out.append(fn(item))
        except Exception as exc:  # one bad item must not lose the batch's other results
            # the worker's traceback does not survive pickling: keep it as a note
            out.append(_Failure(annotate(exc, "remote traceback:\n" + traceback.format_exc())))
    return time.perf_counter() - start, out


def _make_batch_task(fn: Callable[[Any], Any]) -> Any:
    def run_batch(items: list[Any]) -> tuple[float, list[Any]]:
        return _run_batch(fn, items)

    run_batch.__qualname__ = run_batch.__name__ = f"batched_map({getattr(fn, '__name__', 'fn')})"
    return ray.remote(run_batch)


def batched_map(
    fn: Callable[[Any], Any],
    iterable: Iterable[Any],
    *,
    batch_size: int | Literal["auto"] = "auto",
    max_in_flight: int | None = None,
    ordered: bool = True,
    return_exceptions: bool = False,
    timeout: float | None = None,
) -> ResultStream[Any]:
    """Apply the plain function ``fn`` to every item, many items per Ray task.

    Yields one result per item, in input order by default. An item that raises
    has its exception raised at its place, with a note naming the item's index
    (``return_exceptions=True`` yields it instead). ``batch_size="auto"`` starts
    at 1 and steers toward tasks of ~0.1 s, growing at most 2x per step, from
    durations measured inside the workers (see ``AutoBatchSize`` for why 0.1 s and
    not joblib's 0.2-2 s). When the input has a length, a batch never exceeds a
    quarter of the input's share per in-flight slot, so every CPU gets work.

    >>> import ray_patterns
    >>> list(ray_patterns.batched_map(lambda x: x + 1, range(5)))
    [1, 2, 3, 4, 5]
    """
    if not callable(fn) or hasattr(fn, "remote"):
        raise TypeError(
            "fn must be a plain per-item function (batched_map makes the Ray tasks); "
            f"got {type(fn).__name__}"
        )
    check_iterable(iterable)
    limit = resolve_max_in_flight(max_in_flight)
    sizer = auto_sizer(batch_size, iterable, limit)
    ensure_ray()
    task = remote_once(_make_batch_task, fn)  # exported once, not once per call
    sizes: dict[int, int] = {}  # batch's first index -> its size, for the sizer

    def submissions() -> Iterator[Submission]:
        items = iter(iterable)
        start = 0
        while True:
            size = sizer.size if sizer is not None else int(batch_size)
            chunk = list(itertools.islice(items, size))
            if not chunk:
                return
            sizes[start] = len(chunk)
            yield start, task.remote(chunk)
            start += len(chunk)

    def expand(start: int, value: tuple[float, list[Any]] | _Failure) -> list[tuple[int, Any]]:
        size = sizes.pop(start, 1)
        if isinstance(value, _Failure):
            # the whole task failed (e.g. its worker died): every item of it failed
            return [(start + offset, value) for offset in range(size)]
        seconds, results = value
        if sizer is not None:
            sizer.observe(size, seconds)
            stream.set_max_pending(limit)
        return [(start + offset, result) for offset, result in enumerate(results)]

    stream: ResultStream[Any] = ResultStream(
        submissions(),
        what="item",
        ordered=ordered,
        chunk_size=limit,
        max_pending=limit,
        return_exceptions=return_exceptions,
        timeout=check_timeout(timeout),
        cancel_on_close=True,
        expand=expand,
    )

    if sizer is not None:
        stream.set_max_pending(1)  # one probe batch first: see AutoBatchSize
    return stream


__all__ = [
    "MAX_BATCH_SECONDS",
    "MIN_BATCH_SECONDS",
    "TARGET_BATCH_SECONDS",
    "AutoBatchSize",
    "batched_map",
]
