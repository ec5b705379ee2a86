"""ray-get-loop: ``ray.get`` inside the submitting loop vs submit all, then get."""

from __future__ import annotations

import ray

from ray_patterns import bounded_map
from ray_patterns.bench.cases._work import spin_task
from ray_patterns.bench.core import Case, Variant


def variants(quick: bool) -> list[Variant]:
    n, seconds = (10, 0.025) if quick else (20, 0.1)

    def anti() -> None:
        for _ in range(n):
            ray.get(spin_task.remote(seconds))

    def better() -> None:
        ray.get([spin_task.remote(seconds) for _ in range(n)])

    def library() -> None:
        list(bounded_map(spin_task, [seconds] * n, ordered=True))

    return [
        Variant("get in loop", "anti", anti),
        Variant("submit all, one get", "better", better),
        Variant("bounded_map", "library", library),
    ]


CASE = Case("ray-get-loop", "n tasks of CPU work: get each in the loop vs submit all", variants)
