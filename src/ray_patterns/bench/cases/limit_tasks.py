"""limit-tasks: submit everything at once vs keep a bounded number in flight.

Each task takes a 4 MB argument; without backpressure the driver puts all the
arguments into the object store before the first results come back.

Figures (full runs): ``bounded_map`` against joblib's loky backend (its best peer
on time) for argument sizes from 50 KB to 16 MB, and the idle gap a worker has
between two tasks (from timestamps the tasks take): where the time goes.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import ray
import ray.util
from ray.util import ActorPool
from ray.util.multiprocessing import Pool

from ray_patterns import bounded_map
from ray_patterns.bench.cases._peers import peer_variants
from ray_patterns.bench.cases._work import spin
from ray_patterns.bench.core import Case, Variant

MAX_IN_FLIGHT = 4


@ray.remote
def consume(array: np.ndarray) -> float:
    spin(0.02)
    return float(array[0])


def consume_plain(array: np.ndarray) -> float:
    spin(0.02)
    return float(array[0])


@ray.remote(num_cpus=1)
class Consumer:
    def consume(self, array: np.ndarray) -> float:
        return consume_plain(array)


def _arrays(n: int, mb: float = 4) -> Iterator[np.ndarray]:
    for _ in range(n):
        yield np.ones(int(mb * (1 << 20)) // 8)


def stamped(array: np.ndarray) -> tuple[float, float, float, int]:
    """``consume_plain``, with when it ran and where: (result, start, end, pid)."""
    start = time.time()
    value = consume_plain(array)
    return value, start, time.time(), os.getpid()


stamped_task = ray.remote(stamped)


def _gap_ms(rows: Iterable[tuple[float, float, float, int]]) -> float:
    """Median idle time of a worker between the end of one task and the start of its next."""
    by_worker: dict[int, list[tuple[float, float]]] = {}
    for _, start, end, pid in rows:
        by_worker.setdefault(pid, []).append((start, end))
    gaps = [
        nxt[0] - prev[1]
        for spans in by_worker.values()
        for prev, nxt in zip(sorted(spans), sorted(spans)[1:], strict=False)
    ]
    return statistics.median(gaps) * 1000 if gaps else float("nan")


def figures(quick: bool) -> dict[str, float]:
    """bounded_map vs joblib loky by argument size (best of 2, one run), and the gaps."""
    if quick:
        return {}
    import joblib

    n, cpus = 80, int(ray.cluster_resources().get("CPU", 2))
    out: dict[str, float] = {}
    with joblib.Parallel(n_jobs=cpus) as warm:  # loky's workers start once, as Ray's did
        warm(joblib.delayed(consume_plain)(a) for a in _arrays(cpus, 0.05))
    for mb in (0.05, 0.5, 4, 16):
        runs: dict[str, Callable[[], list[tuple[float, float, float, int]]]] = {
            "bounded_map": lambda mb=mb: list(
                bounded_map(stamped_task, _arrays(n, mb), max_in_flight=MAX_IN_FLIGHT)
            ),
            "joblib loky": lambda mb=mb: list(
                joblib.Parallel(n_jobs=cpus)(joblib.delayed(stamped)(a) for a in _arrays(n, mb))
            ),
        }
        for name, run in runs.items():
            best, gap = float("inf"), float("nan")
            for _ in range(2):
                start = time.perf_counter()
                rows = run()
                took = time.perf_counter() - start
                assert sum(r[0] for r in rows) == n
                if took < best:
                    best, gap = took, _gap_ms(rows)
            out[f"{mb:g} MB x {n}: {name} s"] = best
            out[f"{mb:g} MB x {n}: {name} gap ms"] = gap
    out[f"ideal (n x 20 ms / {cpus} CPUs) s"] = n * 0.02 / cpus
    return out


def variants(quick: bool) -> list[Variant]:
    n = 20 if quick else 150
    cpus = int(ray.cluster_resources().get("CPU", 2))

    def anti() -> None:
        refs = [consume.remote(a) for a in _arrays(n)]
        assert sum(ray.get(refs)) == n

    def better() -> None:
        total, refs = 0.0, []
        for a in _arrays(n):
            if len(refs) >= MAX_IN_FLIGHT:
                ready, refs = ray.wait(refs, num_returns=1)
                total += ray.get(ready[0])
            refs.append(consume.remote(a))
        assert total + sum(ray.get(refs)) == n

    def library() -> None:
        assert sum(bounded_map(consume, _arrays(n), max_in_flight=MAX_IN_FLIGHT)) == n

    def map_unordered() -> None:
        results = ray.util.map_unordered(
            consume, _arrays(n), backpressure_size=MAX_IN_FLIGHT, chunk_size=1
        )
        assert sum(results) == n

    def actor_pool() -> None:
        # actors are created inside the timing: they hold the CPUs while alive
        pool = ActorPool([Consumer.remote() for _ in range(cpus)])
        assert sum(pool.map_unordered(lambda a, v: a.consume.remote(v), _arrays(n))) == n
        for actor in pool._idle_actors:
            ray.kill(actor)

    def mp_pool() -> None:
        with Pool(processes=cpus) as pool:
            assert sum(pool.imap_unordered(consume_plain, _arrays(n))) == n

    def finish(values: list[float]) -> None:
        assert sum(values) == n

    peers = [] if quick else peer_variants(consume_plain, lambda: _arrays(n), finish)
    return [
        *peers,
        Variant("submit all", "anti", anti),
        Variant("ray.wait backpressure by hand", "better", better),
        Variant("bounded_map", "library", library),
        Variant("ray.util.map_unordered", "peer", map_unordered),
        *(
            []
            if quick
            else [
                Variant("ActorPool.map_unordered (incl. start)", "peer", actor_pool),
                Variant("ray.util.multiprocessing.Pool (incl. start)", "peer", mp_pool),
            ]
        ),
    ]


CASE = Case(
    "limit-tasks",
    "n tasks of 20 ms, each with a 4 MB argument: all at once vs 4 in flight",
    variants,
    metric="store_peak_mib",
    figures=figures,
)
