"""too-many-results: one ``ray.get`` of many large results vs fetching in chunks.

The point is memory: the driver maps numpy results zero-copy from the object
store, so its mapped store pages (``driver_shm_mib``) show the difference.
"""

from __future__ import annotations

import numpy as np
import ray

from ray_patterns import iter_results
from ray_patterns.bench.core import Case, Variant


@ray.remote
def make_array(megabytes: int) -> np.ndarray:
    return np.ones(megabytes * (1 << 20) // 8)


def variants(quick: bool) -> list[Variant]:
    n, mb, chunk = (30, 4, 4) if quick else (60, 16, 4)  # quick: 120 MiB in all, not 240

    def anti() -> None:
        values = ray.get([make_array.remote(mb) for _ in range(n)])
        total = sum(float(v[0]) for v in values)
        assert total == n

    def better() -> None:
        refs = [make_array.remote(mb) for _ in range(n)]
        total = 0.0
        for i in range(0, n, chunk):
            batch = ray.get(refs[i : i + chunk])
            refs[i : i + chunk] = [None] * len(batch)  # let Ray evict what was processed
            total += sum(float(v[0]) for v in batch)
            del batch
        assert total == n

    def library() -> None:
        results = iter_results([make_array.remote(mb) for _ in range(n)], chunk_size=chunk)
        assert sum(float(v[0]) for v in results) == n

    return [
        Variant("one ray.get of all", "anti", anti),
        Variant("ray.get in chunks by hand", "better", better),
        Variant("iter_results", "library", library),
    ]


CASE = Case(
    "too-many-results",
    "n numpy results of several MB: one get vs chunks (driver-mapped store memory)",
    variants,
    metric="store_peak_mib",
)
