"""map-reduce: map in batched tasks, reduce in a tree of tasks that take refs.

Handbook: map with one task per item or batch; reduce with one task over all
map refs, or a tree (groups of refs reduced first, then the partial results).
Values never travel through the driver until the final one.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

import ray
from ray import ObjectRef

from ray_patterns._ray import (
    check_iterable,
    check_positive_int,
    check_refs,
    ensure_ray,
    remote_once,
)
from ray_patterns._sizing import auto_sizer, resolve_max_in_flight
from ray_patterns._stream import annotate

Reduce = Callable[[list[Any]], Any]
DEFAULT_FAN_IN = 16


def _make_reducer(reduce_fn: Reduce) -> Any:
    def reduce_values(*values: Any) -> Any:
        return reduce_fn(list(values))

    return ray.remote(reduce_values)


def _make_mapper(map_fn: Callable[[Any], Any], reduce_fn: Reduce) -> Any:
    def map_then_reduce(items: list[Any]) -> tuple[float, Any]:
        start = time.perf_counter()
        partial = reduce_fn([map_fn(item) for item in items])
        return time.perf_counter() - start, partial

    return ray.remote(num_returns=2)(map_then_reduce)


def _check_fn(fn: Any, argument: str) -> None:
    if not callable(fn) or hasattr(fn, "remote"):
        raise TypeError(f"{argument} must be a plain function, got {type(fn).__name__}")


def _reduce_level(reducer: Any, refs: list[ObjectRef], fan_in: int) -> list[ObjectRef]:
    return [reducer.remote(*refs[i : i + fan_in]) for i in range(0, len(refs), fan_in)]


def tree_reduce(
    reduce_fn: Reduce, refs: Iterable[ObjectRef], *, fan_in: int = DEFAULT_FAN_IN
) -> ObjectRef:
    """Reduce ``refs`` by a tree of tasks; returns the ref of the final value.

    ``reduce_fn(list_of_values) -> value`` must accept its own outputs (e.g.
    ``sum``), as it is applied to groups of ``fan_in`` consecutive refs, then to
    the partial results, until one remains; input order is kept, so ``reduce_fn``
    need not be commutative. Each task receives values straight from the object
    store, never through the driver.

    >>> import ray, ray_patterns
    >>> refs = [ray.put(i) for i in range(10)]
    >>> ray.get(ray_patterns.tree_reduce(sum, refs, fan_in=3))
    45
    """
    _check_fn(reduce_fn, "reduce_fn")
    level = check_refs(refs)
    check_positive_int(fan_in, "fan_in", minimum=2)
    if not level:
        raise ValueError("tree_reduce needs at least one ref (reduce of an empty list)")
    ensure_ray()
    reducer = remote_once(_make_reducer, reduce_fn)  # exported once, not per call
    level = _reduce_level(reducer, level, fan_in)  # reduce_fn runs at least once
    while len(level) > 1:
        level = _reduce_level(reducer, level, fan_in)
    return level[0]


def map_reduce(
    map_fn: Callable[[Any], Any],
    iterable: Iterable[Any],
    reduce_fn: Reduce,
    *,
    fan_in: int = DEFAULT_FAN_IN,
    batch_size: int | Literal["auto"] = "auto",
    max_in_flight: int | None = None,
) -> Any:
    """``reduce_fn([map_fn(x) for x in iterable])``, on Ray, returning the value.

    Items are mapped in batches (``batch_size``, auto-tuned as in ``batched_map``),
    each batch reduced in its own task; partial results are combined in a tree of
    tasks of ``fan_in`` refs as soon as enough are ready, keeping input order.
    At most ``max_in_flight`` map tasks are pending, so the input can be a
    generator of any length. An empty input gives ``reduce_fn([])``.

    >>> import ray_patterns
    >>> ray_patterns.map_reduce(lambda x: x * x, range(10), sum)
    285
    """
    _check_fn(map_fn, "map_fn")
    _check_fn(reduce_fn, "reduce_fn")
    check_positive_int(fan_in, "fan_in", minimum=2)
    check_iterable(iterable)
    limit = resolve_max_in_flight(max_in_flight)
    sizer = auto_sizer(batch_size, iterable, limit)
    ensure_ray()
    mapper = remote_once(_make_mapper, map_fn, reduce_fn)
    reducer = remote_once(_make_reducer, reduce_fn)  # exported once, not per call

    # levels[k] holds partials that each cover fan_in**k batches, in input order;
    # a full level is reduced into the next, like carries in a counter
    levels: list[list[ObjectRef]] = [[]]
    timings: dict[ObjectRef, tuple[int, int]] = {}  # duration ref -> (first index, size)

    def push(ref: ObjectRef) -> None:
        levels[0].append(ref)
        for k in range(len(levels)):
            if len(levels[k]) < fan_in:
                break
            if k + 1 == len(levels):
                levels.append([])
            levels[k + 1].append(reducer.remote(*levels[k]))
            levels[k] = []

    def drain(block: bool) -> None:
        if not timings:
            return
        refs = list(timings)
        if block:
            ready, _ = ray.wait(refs, num_returns=1)
        else:
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        for ref in ready:
            start, size = timings.pop(ref)
            try:
                seconds = ray.get(ref)
            except Exception as exc:
                raise annotate(
                    exc, f"ray-patterns: raised while mapping items {start}..{start + size - 1}"
                ) from None
            if sizer is not None:
                sizer.observe(size, seconds)

    items: Iterator[Any] = iter(iterable)
    start = 0
    while True:
        size = sizer.size if sizer is not None else int(batch_size)
        chunk = list(itertools.islice(items, size))
        if not chunk:
            break
        while len(timings) >= limit:
            drain(block=True)
        seconds_ref, partial_ref = mapper.remote(chunk)
        timings[seconds_ref] = (start, len(chunk))
        start += len(chunk)
        push(partial_ref)
        drain(block=False)
        while sizer is not None and sizer.probing and timings:
            drain(block=True)  # one probe batch first: see AutoBatchSize

    while timings:  # surface a failed map with its item range, not from a reduce
        drain(block=True)
    # the highest level holds the earliest batches
    ordered = [ref for level in reversed(levels) for ref in level]
    if not ordered:
        return reduce_fn([])
    if len(ordered) == 1:
        return ray.get(ordered[0])
    return ray.get(tree_reduce(reduce_fn, ordered, fan_in=fan_in))


__all__ = ["map_reduce", "tree_reduce"]
