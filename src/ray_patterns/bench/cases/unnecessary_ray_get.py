"""unnecessary-ray-get: fetch a large result to the driver only to pass it on, vs pass the ref.

There is no library call: the fix is to pass the ``ObjectRef`` itself.

The producer returns a 128 MiB array it is given from the object store (Ray stores
its result anew: one copy, store to store), not a fresh ``np.ones``: making a new
array each round page-faults 128 MiB of heap, which cost as much as the copy the
page is about and varied more than it (by hand 68-85 ms a round against the
anti-pattern's extra 15-20 ms). Each run times its rounds one by one and reports
the median (``pass_s``, seconds per round), in more, shorter interleaved runs
than the other cases (quick: 6 runs of 3 rounds): one burst of load on this
shared machine then moves one round of one run, not the verdict.
"""

from __future__ import annotations

import numpy as np
import ray

from ray_patterns.bench.cases._work import median_pass
from ray_patterns.bench.core import Case, Variant


@ray.remote
def produce(source: np.ndarray) -> np.ndarray:
    return source  # a result of the source's size, stored anew; no heap to fault in


@ray.remote
def consume(array: np.ndarray) -> float:
    return float(array.sum())


def setup() -> None:
    """Rounds each way before timing, as the full run's warm-ups: the driver's first
    rounds pay for mapping store pages it has not touched yet (quick, untimed before:
    its first 6 rounds 100-190 ms each, then 60), which the full run never counts."""
    source = ray.put(np.ones(128 * (1 << 20) // 8))
    for _ in range(6):
        ray.get(consume.remote(ray.get(produce.remote(source))))
    ray.get(consume.remote(produce.remote(source)))


def variants(quick: bool) -> list[Variant]:
    rounds, mb = (3, 128) if quick else (8, 128)
    expected = mb * (1 << 20) // 8
    source = ray.put(np.ones(expected))  # put once, before any timed run

    def anti() -> None:
        value = ray.get(produce.remote(source))  # the array travels to the driver...
        assert ray.get(consume.remote(value)) == expected  # ...and back
        del value

    def better() -> None:
        assert ray.get(consume.remote(produce.remote(source))) == expected

    return [
        Variant("ray.get, then pass the value", "anti", median_pass(anti, rounds)),
        Variant("pass the ObjectRef", "better", median_pass(better, rounds)),
    ]


CASE = Case(
    "unnecessary-ray-get",
    "producer -> consumer of a 128 MiB array: through the driver vs by ref (time per round)",
    variants,
    metric="pass_s",
    label="time per round",
    # even: the rounds alternate a b, b a, ..., so each variant runs first as often
    repeats=(6, 3),
    setup=setup,
    memory=True,
)
