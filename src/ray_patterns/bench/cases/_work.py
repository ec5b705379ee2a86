"""Workloads shared by bench cases: tasks that cost a known time, passes timed one by one."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import ray


def spin(seconds: float) -> None:
    """Busy-wait: CPU work of a known length (``time.sleep`` frees the CPU)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


@ray.remote
def sleep_task(seconds: float, value: object = None) -> object:
    time.sleep(seconds)
    return value


@ray.remote
def spin_task(seconds: float, value: object = None) -> object:
    spin(seconds)
    return value


def median_pass(fn: Callable[[], object], passes: int) -> Callable[[], dict[str, float]]:
    """A variant's ``run`` that times ``passes`` calls of ``fn`` one by one and reports the
    median (``pass_s``): for passes of milliseconds, where this machine's jitter makes
    one pass in twenty take several times the others, by hand and library alike.

    Example: ``Variant("by hand", "better", median_pass(lambda: ray.get(refs()), 5))``.
    """

    def run() -> dict[str, float]:
        took = []
        for _ in range(passes):
            start = time.perf_counter()
            fn()
            took.append(time.perf_counter() - start)
        return {"pass_s": statistics.median(took)}

    return run
