"""redefine-task-actor-loop: ``ray.remote`` inside the loop vs defined once.

The library's own helpers (``bounded_map``, ``batched_map``, ...) make a plain
function remote once and cache it, which is the "library" variant here.
"""

from __future__ import annotations

import ray

from ray_patterns import bounded_map
from ray_patterns.bench.core import Case, Variant


def work(x: int) -> int:
    return x + 1


def variants(quick: bool) -> list[Variant]:
    # each redefinition costs ~4 ms; few calls per pass so that cost is not lost in the
    # noise of a loaded machine (40 x 2 calls: 1.9x; 40 x 10: 1.3-1.6x, once 0.9x)
    # quick: 20 passes a run, 6 runs (not 40 x 3): the same work, a median of more runs
    loops, calls = (20, 2) if quick else (50, 2)
    expected = [x + 1 for x in range(calls)]

    def anti() -> None:
        for _ in range(loops):
            task = ray.remote(work)  # exported to the workers again on every pass
            assert ray.get([task.remote(x) for x in range(calls)]) == expected

    task_once = ray.remote(work)

    def better() -> None:
        for _ in range(loops):
            assert ray.get([task_once.remote(x) for x in range(calls)]) == expected

    def library() -> None:
        for _ in range(loops):
            assert list(bounded_map(work, range(calls), ordered=True)) == expected

    return [
        Variant("ray.remote in the loop", "anti", anti),
        Variant("defined once", "better", better),
        Variant("bounded_map (remote once, cached)", "library", library),
    ]


CASE = Case(
    "redefine-task-actor-loop",
    "a loop of small task batches (2 calls): redefining the task each pass vs once",
    variants,
    repeats=(6, 3),
)
