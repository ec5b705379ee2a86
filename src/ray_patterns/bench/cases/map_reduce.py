"""map-reduce: values through the driver vs a reduce tree of tasks vs ``map_reduce``.

The page's point is that the values never travel through the driver, so the
headline is the driver's peak memory (exact: the kernel's peak RSS, reset per run).
"""

from __future__ import annotations

import numpy as np
import ray

from ray_patterns import map_reduce
from ray_patterns.bench.cases._peers import peer_variants
from ray_patterns.bench.cases._work import spin
from ray_patterns.bench.core import Case, Variant

SIZE = 50_000  # floats per mapped value (400 KB: stored in the object store)


def map_item(i: int) -> np.ndarray:
    spin(0.01)
    return np.full(SIZE, float(i))


def add_all(values: list[np.ndarray]) -> np.ndarray:
    return np.sum(values, axis=0)


@ray.remote
def map_task(i: int) -> np.ndarray:
    return map_item(i)


@ray.remote
def reduce_task(*values: np.ndarray) -> np.ndarray:
    return add_all(list(values))


def variants(quick: bool) -> list[Variant]:
    n = 40 if quick else 300
    expected = float(sum(range(n)))

    def anti() -> None:
        values = ray.get([map_task.remote(i) for i in range(n)])  # everything via the driver
        assert add_all(values)[0] == expected

    def better() -> None:
        refs = [map_task.remote(i) for i in range(n)]
        while len(refs) > 1:
            refs = [reduce_task.remote(*refs[i : i + 20]) for i in range(0, len(refs), 20)]
        assert ray.get(refs[0])[0] == expected

    def library() -> None:
        assert map_reduce(map_item, range(n), add_all)[0] == expected

    def finish(values: list[np.ndarray]) -> None:
        assert add_all(values)[0] == expected

    peers = [] if quick else peer_variants(map_item, lambda: range(n), finish)
    return [
        Variant("get all, reduce on driver", "anti", anti),
        Variant("tree reduce by hand (groups of 20)", "better", better),
        Variant("map_reduce", "library", library),
        *peers,
    ]


CASE = Case(
    "map-reduce",
    "n maps of 10 ms making 400 KB arrays, summed (peers in full runs)",
    variants,
    metric="driver_peak_mib",
)
