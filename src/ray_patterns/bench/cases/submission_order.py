"""submission-order: latency from a task's end to its result being processed.

Total time ties (measured-raw-ray.md), so the metric is the mean delay between
a task finishing and the driver processing its result; ``first_result_s`` is
the time to the first processed result (one task is fast, the rest slow).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable

import ray
import ray.util

from ray_patterns import as_completed, iter_results
from ray_patterns.bench.core import Case, Extra, Variant


@ray.remote
def timed_sleep(seconds: float) -> float:
    time.sleep(seconds)
    return time.time()


def _durations(quick: bool) -> list[float]:
    rng = random.Random(7)
    # quick: 8 runs of 8 tasks of 0.03-0.09 s (~0.2 s a run; was 5 runs of 0.05-0.15 s,
    # ~0.33 s). The by-hand and library delays are ~2 ms and a whole run's mean moves
    # +-10% with the machine's load, whatever its size (8, 16 or 32 results a run: the
    # same spread), so what steadies the median is more runs: 40 runs here, library /
    # by hand in blocks of 5 runs 0.92-1.03x (5 runs of the old size: 0.94-1.16x).
    n, shortest, longest = (8, 0.03, 0.09) if quick else (30, 0.05, 0.4)
    return [0.01] + [rng.uniform(shortest, longest) for _ in range(n - 1)]


def _measure(durations: list[float], consume: Callable[[list], Iterable[float]]) -> Extra:
    start = time.time()
    refs = [timed_sleep.remote(d) for d in durations]
    delays, first = [], None
    for finished_at in consume(refs):
        now = time.time()
        first = now - start if first is None else first
        delays.append(now - finished_at)
        time.sleep(0.005)  # processing a result takes a little time
    return {"mean_delay_s": sum(delays) / len(delays), "first_result_s": first or 0.0}


def setup() -> None:
    ray.get([timed_sleep.remote(0) for _ in range(4)])  # exported, the workers up


def variants(quick: bool) -> list[Variant]:
    durations = _durations(quick)

    def anti(refs: list) -> Iterable[float]:
        for ref in refs:
            yield ray.get(ref)

    def better(refs: list) -> Iterable[float]:
        unfinished = refs
        while unfinished:
            ready, unfinished = ray.wait(unfinished, num_returns=1)
            yield ray.get(ready[0])

    def library(refs: list) -> Iterable[float]:
        for ref in as_completed(refs):
            yield ray.get(ref)

    def peer(refs: list) -> Iterable[float]:
        yield from ray.util.as_completed(refs)  # default chunk_size=10

    def run(consume: Callable[[list], Iterable[float]]) -> Callable[[], Extra]:
        return lambda: _measure(durations, consume)

    return [
        Variant("ray.get in submission order", "anti", run(anti)),
        Variant("ray.wait(num_returns=1) loop", "better", run(better)),
        Variant("as_completed", "library", run(library)),
        Variant("ray.util.as_completed", "peer", run(peer)),
    ]


def figures(quick: bool) -> dict[str, float]:
    """Iterating 20,000 finished refs against one ``ray.get`` of the same list (full run only:
    it took a third of the case's quick time and says nothing about the page's point)."""
    if quick:
        return {}
    n = 20_000
    refs = [ray.put(i) for i in range(n)]
    ray.get(refs)
    times: dict[str, list[float]] = {"get": [], "as_completed": [], "iter_results": []}
    for _ in range(3):
        start = time.perf_counter()
        ray.get(refs)
        times["get"].append(time.perf_counter() - start)
        start = time.perf_counter()
        for _ref in as_completed(refs):
            pass
        times["as_completed"].append(time.perf_counter() - start)
        start = time.perf_counter()
        for _value in iter_results(refs, cancel_on_close=False):
            pass
        times["iter_results"].append(time.perf_counter() - start)
    get_s = min(times["get"])
    return {
        f"as_completed over {n} finished refs / one ray.get": min(times["as_completed"]) / get_s,
        f"iter_results over {n} finished refs / one ray.get": min(times["iter_results"]) / get_s,
    }


CASE = Case(
    "submission-order",
    "tasks of uneven length: delay from a task's end to its result being processed",
    variants,
    metric="mean_delay_s",
    repeats=(8, 3),
    setup=setup,
    figures=figures,
)
