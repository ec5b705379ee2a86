"""Helpers shared by the tree-of-tasks and ResultStream tests and their stress runs."""

from __future__ import annotations

from typing import Any

import ray


def halves(xs: list[int]) -> list[list[int]]:
    mid = len(xs) // 2
    return [xs[:mid], xs[mid:]]


def merge(parts: list[list[int]]) -> list[int]:
    return sorted(x for part in parts for x in part)


def small(xs: list[int]) -> bool:
    return len(xs) <= 2


@ray.remote
def _one() -> int:
    return 1


def still_works() -> None:
    """The driver is alive and Ray still runs tasks (after a stress run)."""
    assert ray.get(_one.remote(), timeout=60) == 1


@ray.remote
def consume(x: Any) -> Any:
    """A task whose argument is a ref (resolved by Ray before it runs)."""
    return x
