"""redefine-task-actor-loop: ``ray.remote`` inside the loop vs defined once.

The library's own helpers (``bounded_map``, ``batched_map``, ...) make a plain
function remote once and cache it, which is the "library" variant here.
"""

from __future__ import annotations

import ray

from ray_patterns import bounded_map
from ray_patterns.bench.cases._work import median_pass
from ray_patterns.bench.core import Case, Variant


def work(x: int) -> int:
    return x + 1


def variants(quick: bool) -> list[Variant]:
    # each redefinition costs ~4 ms; few calls per pass so that cost is not lost in the
    # noise of a loaded machine (40 x 2 calls: 1.9x; 40 x 10: 1.3-1.6x, once 0.9x)
    # a pass (2 calls) takes ~3 ms by hand, the library ~4% more (one ray.wait and a second
    # ray.get per pass; 30 interleaved runs: 1.04x); runs of 40 whole loops moved it
    # 0.97-1.15x with the machine's jitter. Each run times its passes one by one and
    # reports the median pass (metric: seconds per pass); quick: 8 runs of 20 passes
    passes, calls = (20, 2) if quick else (50, 2)
    expected = [x + 1 for x in range(calls)]

    def anti() -> None:
        task = ray.remote(work)  # exported to the workers again on every pass
        assert ray.get([task.remote(x) for x in range(calls)]) == expected

    task_once = ray.remote(work)

    def better() -> None:
        assert ray.get([task_once.remote(x) for x in range(calls)]) == expected

    def library() -> None:
        assert list(bounded_map(work, range(calls), ordered=True)) == expected

    return [
        Variant("ray.remote in the loop", "anti", median_pass(anti, passes)),
        Variant("defined once", "better", median_pass(better, passes)),
        Variant("bounded_map (remote once, cached)", "library", median_pass(library, passes)),
    ]


CASE = Case(
    "redefine-task-actor-loop",
    "a loop of small task batches (2 calls): redefining the task each pass vs once (per pass)",
    variants,
    metric="pass_s",
    label="time per pass",
    repeats=(8, 3),
)
