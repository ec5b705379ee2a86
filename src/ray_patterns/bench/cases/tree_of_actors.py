"""tree-of-actors: a supervisor fanning out to 2 workers vs the driver using one.

Each item keeps a worker busy for ``work_s`` (CPU). The driver calling one
worker at a time pays every item in turn; a supervisor spreading items over its
two workers halves it (2 CPUs). Actors are created before the timed runs.
"""

from __future__ import annotations

from typing import Any

import ray

from ray_patterns import supervise
from ray_patterns._ray import ensure_ray
from ray_patterns.bench.cases._work import spin
from ray_patterns.bench.core import Case, Variant


class _Worker:
    def work(self, seconds: float) -> float:
        spin(seconds)
        return seconds


# num_cpus=0: three sets of workers live at once on 2 CPUs; the OS shares the cores.
_RemoteWorker: Any = ray.remote(num_cpus=0)(_Worker)


@ray.remote(num_cpus=0)
class _HandSupervisor:
    """The handbook's supervisor written by hand: owns 2 workers, splits the items."""

    def __init__(self) -> None:
        self.workers = [_RemoteWorker.remote() for _ in range(2)]

    def run(self, items: list[float]) -> list[Any]:
        refs = [self.workers[i % 2].work.remote(x) for i, x in enumerate(items)]
        return ray.get(refs)


def variants(quick: bool) -> list[Variant]:
    ensure_ray()
    n, work_s = (6, 0.1) if quick else (6, 0.5)
    items = [work_s] * n
    hand = _HandSupervisor.remote()
    lib = supervise(_Worker, 2, worker_options={"num_cpus": 0})
    # Warm up: every worker process started and ready before timing.
    ray.get([hand.run.remote([0.0, 0.0]), lib.broadcast.remote("work", 0)])
    single = ray.get(lib.children.remote())[0]  # the same kind of worker, driven directly

    def anti() -> None:
        for x in items:
            ray.get(single.work.remote(x))

    def better() -> None:
        ray.get(hand.run.remote(items))

    def library() -> None:
        ray.get(lib.scatter.remote("work", items))

    return [
        Variant("driver, one worker at a time", "anti", anti),
        Variant("supervisor by hand", "better", better),
        Variant("supervise().scatter", "library", library),
    ]


CASE = Case(
    "tree-of-actors",
    "6 CPU-bound items: driver calling one worker vs a supervisor over 2 workers",
    variants,
)
