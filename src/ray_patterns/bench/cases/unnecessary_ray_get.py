"""unnecessary-ray-get: fetch a large result to the driver only to pass it on, vs pass the ref.

There is no library call: the fix is to pass the ``ObjectRef`` itself.
"""

from __future__ import annotations

import numpy as np
import ray

from ray_patterns.bench.core import Case, Variant


@ray.remote
def produce(megabytes: int) -> np.ndarray:
    return np.ones(megabytes * (1 << 20) // 8)


@ray.remote
def consume(array: np.ndarray) -> float:
    return float(array.sum())


def variants(quick: bool) -> list[Variant]:
    # smaller arrays, the one extra copy per round drowns in noise
    rounds, mb = (6, 128) if quick else (8, 128)  # 3 rounds: lost in noise once
    expected = mb * (1 << 20) // 8

    def anti() -> None:
        for _ in range(rounds):
            value = ray.get(produce.remote(mb))  # the array travels to the driver...
            assert ray.get(consume.remote(value)) == expected  # ...and back
            del value

    def better() -> None:
        for _ in range(rounds):
            assert ray.get(consume.remote(produce.remote(mb))) == expected

    return [
        Variant("ray.get, then pass the value", "anti", anti),
        Variant("pass the ObjectRef", "better", better),
    ]


CASE = Case(
    "unnecessary-ray-get",
    "producer -> consumer of a large array: through the driver vs by ref",
    variants,
    memory=True,
)
