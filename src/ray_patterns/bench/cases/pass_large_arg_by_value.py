"""pass-large-arg-by-value: the same large array passed by value to n calls vs ray.put once."""

from __future__ import annotations

import numpy as np
import ray

from ray_patterns.bench.core import Case, Variant

MIB = 1 << 20


@ray.remote
def score(table: np.ndarray, i: int) -> float:
    return float(table[i])


def variants(quick: bool) -> list[Variant]:
    n, mib = (10, 4) if quick else (50, 32)
    table = np.arange(mib * MIB // 8, dtype=np.float64)
    expected = [float(i) for i in range(n)]

    def anti() -> None:
        assert ray.get([score.remote(table, i) for i in range(n)]) == expected

    def better() -> None:
        ref = ray.put(table)
        assert ray.get([score.remote(ref, i) for i in range(n)]) == expected

    return [
        Variant("by value, every call", "anti", anti),
        Variant("ray.put once, pass the ref", "better", better),
    ]


CASE = Case(
    "pass-large-arg-by-value",
    "one 32 MiB array (quick: 4 MiB) to n calls: copied each call vs stored once",
    variants,
    memory=True,
)
