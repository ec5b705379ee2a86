"""limit-running-tasks: request ``memory=`` so only as many tasks run as fit in memory.

Handbook: Ray runs one task per CPU by default. Tasks that each need a lot of memory
then run too many at once, and the memory monitor kills (and retries) them, or the
node runs out of memory. Asking for ``memory=`` (a logical resource, like ``num_cpus``)
makes Ray run only as many at once as the nodes' memory holds; the others wait.
"""

from __future__ import annotations

import inspect
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import psutil
import ray
from ray import ObjectRef

from ray_patterns._errors import RayPatternsError
from ray_patterns._ray import as_remote, check_iterable, check_timeout, ensure_ray
from ray_patterns._stream import ResultStream, Submission, annotate
from ray_patterns._units import human_bytes

_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(i?)b?\s*$", re.IGNORECASE)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}


class TaskTooLargeError(RayPatternsError, ValueError):
    """One task needs more memory than any node offers Ray: it could never run."""


def parse_memory(value: Any, argument: str = "memory") -> int:
    """Bytes from an int or a size string (``"2 GiB"``, ``"500MB"``, ``"1.5g"``).

    ``k``/``m``/``g`` are binary (1024-based), with or without the ``i``, as in
    Ray's own memory figures.

    >>> parse_memory("1.5 GiB"), parse_memory(4096)
    (1610612736, 4096)
    """
    if isinstance(value, bool):
        raise TypeError(f"{argument} must be a number of bytes or a size like '2 GiB', got a bool")
    if isinstance(value, (int, float)):
        nbytes = value
    elif isinstance(value, str) and (match := _SIZE.match(value)):
        nbytes = float(match.group(1)) * 1024 ** _POWERS[match.group(2).lower()]
    else:
        raise ValueError(
            f"{argument} must be a number of bytes or a size like '2 GiB' or '500MB', got {value!r}"
        )
    if not math.isfinite(nbytes) or nbytes <= 0:
        raise ValueError(f"{argument} must be more than 0 bytes, got {value!r}")
    return math.ceil(nbytes)


def node_memory() -> dict[str, float]:
    """Memory (bytes) each alive node offers Ray's scheduler, by node id."""
    ensure_ray()
    return {
        n["NodeID"]: float(n["Resources"].get("memory", 0.0)) for n in ray.nodes() if n["Alive"]
    }


def tasks_that_fit(memory: int | str) -> int:
    """How many tasks that each request ``memory`` can run at once on the cluster now.

    Raises ``TaskTooLargeError`` when not even one fits on any node.

    >>> import ray_patterns
    >>> ray_patterns.tasks_that_fit("1 KiB") > 0
    True
    """
    need = parse_memory(memory)
    nodes = node_memory()
    fit = sum(int(mem // need) for mem in nodes.values())
    if fit == 0:
        largest = max(nodes.values(), default=0.0)
        raise TaskTooLargeError(
            f"each task needs {human_bytes(need)} of memory, but the largest of the "
            f"{len(nodes)} nodes offers Ray {human_bytes(largest)}: Ray would keep the tasks "
            "pending forever. Make one task use less (smaller pieces of work), or add a node "
            "with more memory"
        )
    return fit


def with_memory(fn: Any, memory: int | str) -> Any:
    """``fn`` with ``memory=`` requested per call, checked against the cluster's nodes.

    ``fn`` is a remote function, an actor class, or a plain function (made remote once).
    Ray then starts a call only on a node with that much memory not yet requested by
    other running calls, so at most ``tasks_that_fit(memory)`` run at once, whatever the
    CPU count. ``TaskTooLargeError`` if no node has that much memory at all.

    >>> import ray, ray_patterns
    >>> def total(n):
    ...     return sum(range(n))
    >>> ray.get(ray_patterns.with_memory(total, "64 MiB").remote(10))
    45
    """
    need = parse_memory(memory)
    tasks_that_fit(need)
    remote = as_remote(fn) if not inspect.isclass(fn) else fn
    options = getattr(remote, "options", None)
    if options is None:
        raise TypeError(
            f"fn must be a remote function, actor class or plain function, got {type(fn).__name__}"
        )
    return options(memory=need)


def _high_water_mark() -> int | None:
    """The process's peak resident memory (bytes) since the last reset; None off Linux."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_high_water_mark() -> bool:
    try:  # Linux >= 4.0: "5" resets VmHWM to the current resident size
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_rss(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run ``fn`` in this worker and measure its peak resident memory; (peak bytes, result).

    The kernel's high-water mark is exact; a sampling thread is the fallback, and it
    misses peaks made while ``fn`` holds the GIL (one big numpy or bytes operation).
    """
    if _reset_high_water_mark():
        result = fn(*args, **kwargs)
        return _high_water_mark(), result
    process = psutil.Process()
    peak = [process.memory_info().rss]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.002):
            peak[0] = max(peak[0], process.memory_info().rss)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        result = fn(*args, **kwargs)
    finally:
        stop.set()
        thread.join()
    return max(peak[0], process.memory_info().rss), result


_probe_task = ray.remote(num_returns=2)(_peak_rss)


def _python_function(fn: Any) -> Callable[..., Any]:
    inner = getattr(fn, "_function", None)  # a RemoteFunction wraps the plain function
    if inner is not None:
        return inner  # type: ignore[no-any-return]
    if inspect.isfunction(fn) or (callable(fn) and not inspect.isclass(fn)):
        return fn  # type: ignore[no-any-return]
    raise TypeError(
        f"fn must be a plain or remote function to measure, got {type(fn).__name__} "
        "(for an actor, measure the work as a function, or state memory=)"
    )


@dataclass(frozen=True)
class _Probe:
    peak: ObjectRef
    result: ObjectRef


def _start_probe(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Probe:
    ensure_ray()
    refs: Any = _probe_task.remote(_python_function(fn), args, kwargs)
    return _Probe(*refs)


def measure_memory(fn: Any, *args: Any, **kwargs: Any) -> int:
    """Peak resident memory (bytes) of one Ray worker running ``fn(*args, **kwargs)``.

    The figure includes the worker's own footprint (each running task has one), so
    it is what one running task really occupies: pass it, with
    some headroom, to ``with_memory``. ``fn``'s exception is raised if it fails.

    >>> import ray_patterns
    >>> def fill(n):
    ...     return len(b"x" * n)
    >>> ray_patterns.measure_memory(fill, 50 << 20) > 50 << 20
    True
    """
    return int(ray.get(_start_probe(fn, args, kwargs).peak))


def memory_map(
    fn: Any,
    iterable: Iterable[Any],
    *,
    memory: int | str | None = None,
    headroom: float = 1.25,
    ordered: bool = False,
    return_exceptions: bool = False,
    timeout: float | None = None,
) -> ResultStream[Any]:
    """``fn(item)`` for each item as Ray tasks, only as many running at once as fit in memory.

    Each task requests ``memory`` (a stated size, like ``"2 GiB"``), or, when it is
    None, the peak measured while the first item ran (``measure_memory``) times
    ``headroom``; the first item's result is delivered, not computed twice. At most
    twice as many tasks as fit are pending, so the input is consumed lazily.
    Results, errors and timeouts behave as in ``bounded_map``.
    ``TaskTooLargeError`` when one task needs more memory than any node has.

    >>> import ray_patterns
    >>> def double(x):
    ...     return 2 * x
    >>> list(ray_patterns.memory_map(double, range(4), memory="64 MiB", ordered=True))
    [0, 2, 4, 6]
    """
    if isinstance(headroom, bool) or not isinstance(headroom, (int, float)) or headroom < 1:
        raise ValueError(f"headroom must be a number >= 1, got {headroom!r}")
    check_iterable(iterable)
    limit = check_timeout(timeout)
    stated = None if memory is None else parse_memory(memory)
    items = iter(iterable)
    ensure_ray()

    first: list[Submission] = []
    if stated is None:
        try:
            item = next(items)
        except StopIteration:
            item = _EMPTY
        if item is not _EMPTY:
            probe = _start_probe(fn, (item,), {})
            started = time.monotonic()
            try:
                peak = int(ray.get(probe.peak, timeout=limit))
            except ray.exceptions.GetTimeoutError:
                raise TimeoutError(
                    f"the first item (which measures the memory a task needs) did not finish "
                    f"within timeout={limit}s"
                ) from None
            except Exception as exc:  # fn failed on the probe: nothing to measure by
                annotate(
                    exc,
                    "ray-patterns: raised by item 0, run first to measure the memory a task "
                    "needs; pass memory= to skip the measurement",
                )
                raise
            stated = math.ceil(peak * headroom)
            if limit is not None:
                limit = max(0.0, limit - (time.monotonic() - started))
            first.append((0, probe.result))
    if stated is None:  # empty input, nothing measured
        return _stream(iter(()), 1, ordered, return_exceptions, limit)
    remote = with_memory(fn, stated)
    max_pending = 2 * tasks_that_fit(stated)

    def submissions() -> Iterator[Submission]:
        yield from first
        for index, item in enumerate(items, start=len(first)):
            yield index, remote.remote(item)

    return _stream(submissions(), max_pending, ordered, return_exceptions, limit)


_EMPTY = object()


def _stream(
    source: Iterator[Submission],
    max_pending: int,
    ordered: bool,
    return_exceptions: bool,
    timeout: float | None,
) -> ResultStream[Any]:
    return ResultStream(
        source,
        what="item",
        ordered=ordered,
        chunk_size=max_pending,
        max_pending=max_pending,
        return_exceptions=return_exceptions,
        timeout=timeout,
        cancel_on_close=True,
    )


__all__ = [
    "TaskTooLargeError",
    "measure_memory",
    "memory_map",
    "node_memory",
    "parse_memory",
    "tasks_that_fit",
    "with_memory",
]
