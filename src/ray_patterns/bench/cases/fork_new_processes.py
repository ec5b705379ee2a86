"""fork-new-processes: a fork-started Pool inside a Ray task vs a spawn-started one.

Correctness, not speed: ``ok`` is 1 when the task returned the right result within
its timeout and 0 when it hung or crashed. The forking task runs in a worker of its
own (``max_calls=1``) with no retries, so a broken worker is thrown away.
"""

from __future__ import annotations

import math
import multiprocessing

import ray

from ray_patterns.bench.core import Case, Extra, Variant

EXPECTED = [math.factorial(i) for i in range(12)]


@ray.remote(max_calls=1, max_retries=0)
def pool_in_task(method: str, rounds: int) -> bool:
    ok = True
    for _ in range(rounds):
        with multiprocessing.get_context(method).Pool(2) as pool:
            ok = ok and pool.map(math.factorial, range(12)) == EXPECTED
    return ok


def variants(quick: bool) -> list[Variant]:
    rounds, timeout = (2, 20.0) if quick else (5, 30.0)

    def run(method: str) -> Extra:
        ref = pool_in_task.remote(method, rounds)
        try:
            ok = bool(ray.get(ref, timeout=timeout))
        except (ray.exceptions.GetTimeoutError, ray.exceptions.RayError):
            ray.cancel(ref, force=True)
            ok = False
        return {"ok": float(ok)}

    return [
        Variant("fork-started Pool", "anti", lambda: run("fork")),
        Variant("spawn-started Pool", "better", lambda: run("spawn")),
    ]


CASE = Case(
    "fork-new-processes",
    "a multiprocessing Pool inside a Ray task, fork vs spawn (ok = right result in time)",
    variants,
    correct="ok",
    repeats=(1, 2),
)
