"""return-ray-put: tasks that ray.put their result and return the ref vs return the value."""

from __future__ import annotations

import numpy as np
import ray

from ray_patterns.bench.core import Case, Variant

MIB = 1 << 20


@ray.remote
def put_and_return(i: int, mib: int) -> ray.ObjectRef:
    return ray.put(np.full(mib * MIB // 8, i, dtype=np.float64))


@ray.remote
def return_value(i: int, mib: int) -> np.ndarray:
    return np.full(mib * MIB // 8, i, dtype=np.float64)


def variants(quick: bool) -> list[Variant]:
    n, mib = (10, 2) if quick else (40, 16)
    expected = sum(float(i * mib * MIB // 8) for i in range(n))

    def anti() -> None:
        inner = ray.get([put_and_return.remote(i, mib) for i in range(n)])
        assert sum(float(a.sum()) for a in ray.get(inner)) == expected

    def better() -> None:
        arrays = ray.get([return_value.remote(i, mib) for i in range(n)])
        assert sum(float(a.sum()) for a in arrays) == expected

    return [
        Variant("return ray.put(value)", "anti", anti),
        Variant("return value", "better", better),
    ]


CASE = Case(
    "return-ray-put",
    "n tasks of 16 MiB results (quick: 2 MiB): ray.put ref returned vs value returned",
    variants,
    memory=True,
)
