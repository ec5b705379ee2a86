"""fine-grained-tasks: many items per Ray task, with the batch size found at run time.

Handbook: a task costs far more than a function call, so tiny tasks are slower
than a plain loop; batch items so each task does enough work.
"""

from __future__ import annotations

import functools
import itertools
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sized
from typing import Any, Literal

import ray

from ray_patterns._ray import check_iterable, check_positive_int, check_timeout, ensure_ray
from ray_patterns._stream import ResultStream, Submission, _Failure, annotate
from ray_patterns.limit_tasks import resolve_max_in_flight

# Ray's per-task overhead here is ~0.5-4 ms (measured-raw-ray.md), against joblib's
# ~0.1 ms per batch for processes: tasks of 50-500 ms keep it under a few percent,
# while tasks shorter than joblib's 0.2-2 s window keep both CPUs busy to the end
# of short jobs (one 2 s straggler would idle the other core for 2 s).
MIN_BATCH_SECONDS = 0.05
TARGET_BATCH_SECONDS = 0.1
MAX_BATCH_SECONDS = 0.5


class AutoBatchSize:
    """Steers the batch size toward ``TARGET_BATCH_SECONDS`` (joblib's scheme, adapted).

    Each finished batch reports its duration measured inside the worker (so Ray's
    queueing does not count); the per-item time is smoothed (EMA, weight 0.5 on
    the newest), and the size grows at most 2x per finished batch while batches
    run shorter than ``MIN_BATCH_SECONDS``, or drops to what the target implies
    when they run longer than ``MAX_BATCH_SECONDS``.

    Unlike joblib, the first batch is a one-item probe and the size then jumps
    straight to the target: a Ray task costs ~1 ms, so joblib's ramp from 1 by
    doublings (a dozen rounds of tiny tasks for 10 us items) would cost more
    than short jobs take. ``cap`` (from the input's length) keeps enough batches
    for every CPU.
    """

    def __init__(self, initial: int = 1, cap: int | None = None) -> None:
        self.size = initial
        self._cap = cap
        self._per_item: float | None = None

    @property
    def probing(self) -> bool:
        """True until the first batch has been measured."""
        return self._per_item is None

    def observe(self, size: int, seconds: float) -> None:
        per_item = max(seconds, 1e-9) / max(size, 1)
        if self._per_item is None:
            self._per_item = per_item
            ideal = max(1, int(TARGET_BATCH_SECONDS / per_item))
            self.size = max(1, min(ideal, self._cap) if self._cap is not None else ideal)
            return
        self._per_item = 0.5 * self._per_item + 0.5 * per_item
        ideal = max(1, int(TARGET_BATCH_SECONDS / self._per_item))
        expected = self.size * self._per_item
        if expected < MIN_BATCH_SECONDS:
            new = max(self.size, min(2 * self.size, ideal))
        elif expected > MAX_BATCH_SECONDS:
            new = ideal
        else:
            return
        if self._cap is not None:
            new = min(new, self._cap)
        self.size = max(1, new)


def auto_sizer(
    batch_size: int | Literal["auto"], iterable: Iterable[Any], max_in_flight: int
) -> AutoBatchSize | None:
    """The sizer for ``batch_size="auto"`` (None for a fixed size, which is checked).

    An input with a length caps batches at a quarter of each in-flight slot's share.
    """
    if batch_size != "auto":
        check_positive_int(batch_size, "batch_size")
        return None
    cap = max(1, len(iterable) // (4 * max_in_flight)) if isinstance(iterable, Sized) else None
    return AutoBatchSize(cap=cap)


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


_cached_batch_task = functools.lru_cache(maxsize=128)(_make_batch_task)


def _batch_task(fn: Callable[[Any], Any]) -> Any:
    # one remote function per user function: exported once, not once per batch
    try:
        return _cached_batch_task(fn)
    except TypeError:  # an unhashable callable
        return _make_batch_task(fn)


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
    task = _batch_task(fn)
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


__all__ = ["AutoBatchSize", "batched_map"]
