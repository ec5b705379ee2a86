"""How many tasks in flight and how many items per task: the sizes the map patterns share.

``bounded_map``, ``batched_map`` and ``map_reduce`` all keep at most
``max_in_flight`` tasks pending (default :func:`default_max_in_flight`), and the
last two size their batches with :class:`AutoBatchSize` when ``batch_size="auto"``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sized
from typing import Any, Literal

import ray

from ray_patterns._ray import check_positive_int, ensure_ray

__all__ = [
    "MAX_BATCH_SECONDS",
    "MIN_BATCH_SECONDS",
    "MIN_TASKS_IN_FLIGHT",
    "TARGET_BATCH_SECONDS",
    "AutoBatchSize",
    "auto_sizer",
    "default_max_in_flight",
    "resolve_max_in_flight",
]

_cpus_seen: tuple[float, int] = (0.0, 0)  # (when, CPUs): asking the GCS costs ~1 ms


#: bounded_map's floor for its default window. Tasks of ~1 ms finish about as fast
#: as the driver submits them (~0.3 ms per .remote() plus a ray.wait/ray.get round
#: per batch of results), so a window of 2 x 2 CPUs drains before it refills: 10
#: tiny tasks took 1.2-1.4x as long as submitting them all at once, and 1.0-1.08x
#: with 16 (Ray's own map_unordered keeps 100). 16 pending arguments stay bounded.
MIN_TASKS_IN_FLIGHT = 16


def default_max_in_flight(minimum: int = 2) -> int:
    """Twice the cluster's CPUs (every CPU busy, one task queued behind each), >= ``minimum``."""
    global _cpus_seen
    ensure_ray()
    when, cpus = _cpus_seen
    if time.monotonic() - when > 5.0:  # clusters scale: look again now and then
        cpus = int(ray.cluster_resources().get("CPU", 1))
        _cpus_seen = (time.monotonic(), cpus)
    return max(minimum, 2 * cpus)


def resolve_max_in_flight(max_in_flight: int | None, minimum: int = 2) -> int:
    """``max_in_flight``, checked, or the default (at least ``minimum``) when it is None."""
    limit = default_max_in_flight(minimum) if max_in_flight is None else max_in_flight
    return check_positive_int(limit, "max_in_flight")


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
