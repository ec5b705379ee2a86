"""Test helpers that run on real Ray: a concurrency counter and worker counting."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

import psutil
import ray
from ray import cloudpickle


@ray.remote(num_cpus=0)
class Concurrency:
    """Counts how many tasks are inside ``enter``/``leave`` at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.started = 0

    def enter(self) -> None:
        self.now += 1
        self.started += 1
        self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        self.now -= 1

    def stats(self) -> dict[str, int]:
        return {"now": self.now, "peak": self.peak, "started": self.started}


def counted(counter: Any, seconds: float, value: Any) -> Any:
    ray.get(counter.enter.remote())
    time.sleep(seconds)
    ray.get(counter.leave.remote())
    return value


@ray.remote
def square(x: int) -> int:
    return x * x


@ray.remote
def sleep_then(seconds: float, value: Any) -> Any:
    time.sleep(seconds)
    return value


@ray.remote
def fail_with(message: str) -> None:
    raise ValueError(message)


@ray.remote(max_retries=0)
def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class CountingIterable:
    """An iterator that records how many items were pulled from it."""

    def __init__(self, limit: int | None = None) -> None:
        self.pulled = 0
        self.limit = limit

    def __iter__(self) -> Iterator[int]:
        while self.limit is None or self.pulled < self.limit:
            self.pulled += 1
            yield self.pulled - 1


def ray_workers() -> int:
    """Worker processes of the local raylet (not its agents)."""
    count = 0
    for proc in psutil.process_iter(["name", "ppid"]):
        try:
            parent = psutil.Process(proc.info["ppid"]).name()
        except (psutil.Error, ValueError):
            continue
        name = proc.info["name"] or ""
        if parent == "raylet" and name.startswith("ray::") and "Agent" not in name:
            count += 1
    return count


def wait_for_cpus(total: float, timeout: float = 30.0) -> bool:
    """True once Ray reports ``total`` CPUs free again (cancelled tasks released them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ray.available_resources().get("CPU", 0) >= total:
            return True
        time.sleep(0.1)
    return False


class DieOnce:
    """A callable that SIGKILLs its worker the first time it sees ``trigger``.

    A marker file remembers the death across processes, so Ray's retry of the
    task succeeds: the test sees whether the caller survives a lost worker.
    """

    def __init__(self, marker: str, trigger: object) -> None:
        self.marker = marker
        self.trigger = trigger

    def __call__(self, item: Any) -> Any:
        if item == self.trigger and not os.path.exists(self.marker):
            with open(self.marker, "w") as fh:
                fh.write(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return item


def ship_by_value(module_name: str) -> None:
    """Have Ray ship the test module's classes and functions to workers by value.

    By reference, every new worker process (each actor is one) would import that
    test module and pytest with it, a few tenths of a second per start on this
    2-core machine. Example: ``ship_by_value(__name__)`` at a test module's top.
    """
    cloudpickle.register_pickle_by_value(sys.modules[module_name])
