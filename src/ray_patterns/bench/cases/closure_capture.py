"""closure-capture: a remote function that captures a large array vs ``ray.put`` once.

Each anti run defines the remote function anew, as a script or a notebook cell
would, so the captured array is pickled and exported with it every time.
"""

from __future__ import annotations

import numpy as np
import ray

from ray_patterns.bench.core import Case, Variant


def variants(quick: bool) -> list[Variant]:
    calls, mb = (4, 40) if quick else (8, 80)  # Ray refuses captures over ~95 MiB
    big = np.ones(mb * (1 << 20) // 8)
    expected = float(big.size)

    def anti() -> None:
        @ray.remote
        def total(i: int) -> float:
            return float(big.sum())  # `big` is pickled into the function itself

        assert ray.get([total.remote(i) for i in range(calls)]) == [expected] * calls

    @ray.remote
    def total_of(array: np.ndarray, i: int) -> float:
        return float(array.sum())

    def better() -> None:
        ref = ray.put(big)
        assert ray.get([total_of.remote(ref, i) for i in range(calls)]) == [expected] * calls

    return [
        Variant(f"capture a {mb} MB array", "anti", anti),
        Variant("ray.put once, pass the ref", "better", better),
    ]


CASE = Case(
    "closure-capture",
    "tasks reading a large array: captured in the definition vs put once",
    variants,
)
