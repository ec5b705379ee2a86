"""overlapping-computation-communication: fetch-then-process vs prefetching.

A work queue answers each request after ``fetch_s``; processing an item takes
``compute_s`` on the driver. Fetch-then-process pays both per item; requesting
the next item first overlaps them (ideal: max of the two per item).
"""

from __future__ import annotations

import time

import ray

from ray_patterns import prefetch
from ray_patterns._ray import ensure_ray
from ray_patterns.bench.core import Case, Variant


@ray.remote(num_cpus=0)
class _WorkQueue:
    def __init__(self, fetch_s: float) -> None:
        self.fetch_s = fetch_s
        self.items: list[int] = []

    def reset(self, n: int) -> None:
        self.items = list(range(n))

    def get_work_item(self) -> int | None:
        time.sleep(self.fetch_s)  # the RPC / database round trip
        return self.items.pop(0) if self.items else None


def variants(quick: bool) -> list[Variant]:
    ensure_ray()
    n, fetch_s, compute_s = (15, 0.02, 0.02) if quick else (50, 0.02, 0.02)
    queue = _WorkQueue.remote(fetch_s)
    ray.get(queue.reset.remote(0))

    def anti() -> None:
        ray.get(queue.reset.remote(n))
        while (item := ray.get(queue.get_work_item.remote())) is not None:
            time.sleep(compute_s)
        del item

    def better() -> None:
        ray.get(queue.reset.remote(n))
        ref = queue.get_work_item.remote()
        while (item := ray.get(ref)) is not None:
            ref = queue.get_work_item.remote()  # ask for the next before working
            time.sleep(compute_s)
        del item

    def library() -> None:
        ray.get(queue.reset.remote(n))
        for _item in prefetch(queue.get_work_item.remote):
            time.sleep(compute_s)

    return [
        Variant("fetch then process", "anti", anti),
        Variant("prefetch by hand", "better", better),
        Variant("prefetch", "library", library),
    ]


CASE = Case(
    "overlapping-computation-communication",
    "work items with 20 ms fetch + 20 ms compute: fetch-then-process vs prefetch",
    variants,
)
