"""Workloads shared by bench cases: tasks that cost a known time."""

from __future__ import annotations

import time

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
