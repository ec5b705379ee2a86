"""return-ray-put: tasks that ray.put their result and return the ref vs return the value.

What the page is about, measured:

- the object store: a small result (here 64 KiB, under Ray's 100 KiB inline limit)
  returned as a value travels back inline with the reply and never enters the
  store; ``ray.put`` always writes it there (``store_peak_mib``), and the caller
  needs a second ``ray.get`` (and a round trip) for the value (``seconds``);
- fault tolerance (a figure measured once per run): the worker that called
  ``ray.put`` owns the object, so when that worker dies the result is gone although
  its task succeeded; a returned value is owned by the caller. (Such a worker is
  also kept alive while its object is referenced: ``max_calls=1`` does not end it.)

For large results (many MiB) both forms write the store once and time does not
show the difference (full runs of 40 x 16 MiB measured the two within noise).
"""

from __future__ import annotations

import os
import time

import numpy as np
import psutil
import ray

from ray_patterns.bench.core import Case, CaseResult, Variant, compare

KIB = 1 << 10
SIZE_KIB = 64  # inlined when returned (Ray's limit: 100 KiB)


def _block(i: int) -> np.ndarray:
    return np.full(SIZE_KIB * KIB // 8, i, dtype=np.float64)


@ray.remote
def put_and_return(i: int) -> ray.ObjectRef:
    return ray.put(_block(i))


@ray.remote
def return_value(i: int) -> np.ndarray:
    return _block(i)


# the fault-tolerance figure: the result, and separately the pid of the worker that made it
@ray.remote(num_returns=2, max_retries=0)
def put_with_pid(i: int) -> tuple[ray.ObjectRef, int]:
    return ray.put(_block(i)), os.getpid()


@ray.remote(num_returns=2, max_retries=0)
def value_with_pid(i: int) -> tuple[np.ndarray, int]:
    return _block(i), os.getpid()


def _expected(n: int) -> float:
    return sum(float(i * SIZE_KIB * KIB // 8) for i in range(n))


def variants(quick: bool) -> list[Variant]:
    n = 200 if quick else 1000
    expected = _expected(n)

    def anti() -> None:
        inner = ray.get([put_and_return.remote(i) for i in range(n)])  # first get: the refs
        assert sum(float(a.sum()) for a in ray.get(inner)) == expected  # second: the values

    def better() -> None:
        arrays = ray.get([return_value.remote(i) for i in range(n)])
        assert sum(float(a.sum()) for a in arrays) == expected

    return [
        Variant("return ray.put(value)", "anti", anti),
        Variant("return value", "better", better),
    ]


def figures(quick: bool) -> dict[str, float]:
    """Results lost when the workers that made them die (killed here, after the tasks ended).

    Ray needs about a second to learn that an owner died; until then a ref still
    reads from the local store. So the anti-pattern's refs are read until they
    fail or 5 s pass, and the fix's values after that same wait.
    """
    n = 2
    anti: list[tuple[ray.ObjectRef, ray.ObjectRef]] = [put_with_pid.remote(i) for i in range(n)]
    fix: list[tuple[ray.ObjectRef, ray.ObjectRef]] = [value_with_pid.remote(i) for i in range(n)]
    inner = ray.get([pair[0] for pair in anti])  # the tasks are done: their put refs
    ray.wait([pair[0] for pair in fix], num_returns=n)
    for pid in set(ray.get([pair[1] for pair in anti + fix])):
        try:
            psutil.Process(pid).kill()  # a bench worker, made for this figure's tasks
        except psutil.NoSuchProcess:
            pass
    lost, deadline = 0, time.monotonic() + 5
    while inner and time.monotonic() < deadline:
        still = []
        for ref in inner:
            try:
                ray.get(ref, timeout=1)
            except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError):
                lost += 1
            else:
                still.append(ref)
        inner = still
        if inner:
            time.sleep(0.1)
    fix_lost = 0
    for i, pair in enumerate(fix):
        try:
            fix_lost += int(float(ray.get(pair[0], timeout=10)[0]) != i)
        except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError):
            fix_lost += 1
    return {
        "results made": float(n),
        "anti lost after its workers died": float(lost),
        "fix lost after its workers died": float(fix_lost),
    }


def verdict(res: CaseResult) -> str:
    """Lost results, store bytes and time, from this run's figures."""
    anti, better = res.by_role("anti"), res.by_role("better")
    if anti is None or better is None:
        return "no figure"
    parts = []
    made = res.figures.get("results made")
    if made:
        lost = res.figures["anti lost after its workers died"]
        fix = res.figures["fix lost after its workers died"]
        parts.append(f"anti-pattern lost {lost:.0f} of {made:.0f} results when their workers died")
        parts[-1] += f" ({fix:.0f} by hand)"
    store_a, store_b = anti.extra_median("store_peak_mib"), better.extra_median("store_peak_mib")
    parts.append(f"{store_a:.1f} vs {store_b:.1f} MiB in the store")
    said = compare(res.ratio("anti"), "speed")
    parts.append("time =" if said in ("=", "-") else f"{said} (second get)")
    return "; ".join(parts) + "; fix: plain Ray"


CASE = Case(
    "return-ray-put",
    "n tasks of 64 KiB results: ray.put ref returned vs value returned (store, lost results)",
    variants,
    memory=True,
    figures=figures,
    verdict=verdict,
)
