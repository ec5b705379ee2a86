"""limit-tasks: submit everything at once vs keep a bounded number in flight.

Each task takes a 4 MB argument; without backpressure the driver puts all the
arguments into the object store before the first results come back.
"""

from __future__ import annotations

from collections.abc import Iterator

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


def _arrays(n: int) -> Iterator[np.ndarray]:
    for _ in range(n):
        yield np.ones((4 << 20) // 8)


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
)
