"""limit-running-tasks: memory-hungry tasks with and without memory=.

Each task touches ``size`` of heap. ``num_cpus=0.25`` stands for a node with four
times the CPUs per GiB of this one, so that without ``memory=`` eight run at once.
The node's used memory is sampled (psutil) and each task counts its starts in an
actor, so retries after memory-monitor kills show. On this shared 24 GiB machine
the sizes stay below Ray's 95% kill threshold: what shows is how much memory the
running tasks take at once, not the kills themselves: Ray's ``memory`` resource is
about 70% of the node here, so these tasks all fit and ``memory=`` caps nothing; the
figures show what ``memory=`` and the library's measuring probe cost when all fit.
A kill needs more memory at once than this shared machine can safely give.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import psutil
import ray

from ray_patterns import memory_map, tasks_that_fit
from ray_patterns.bench.core import Case, Extra, Variant, sampling

MIB = 1 << 20
WORKER_MIB = 256


@ray.remote(num_cpus=0)
class Starts:
    def __init__(self) -> None:
        self.n = 0

    def add(self) -> None:
        self.n += 1

    def take(self) -> int:
        n, self.n = self.n, 0
        return n


def touch(i: int, mib: int, starts: object) -> float:
    ray.get(starts.add.remote())  # type: ignore[attr-defined]
    block = np.ones(mib * MIB // 8)
    return float(block[i % len(block)])


crowded = ray.remote(num_cpus=0.25)(touch)


@contextmanager
def node_peak() -> Iterator[Extra]:
    """The node's used memory (psutil) over the body: its peak growth, sampled every 10 ms."""
    out: Extra = {}
    base = psutil.virtual_memory().used
    peak = [base]

    def sample() -> None:
        peak[0] = max(peak[0], psutil.virtual_memory().used)

    try:
        with sampling(sample, 0.01):
            yield out
    finally:
        out["node_peak_mib"] = (peak[0] - base) / MIB


def variants(quick: bool) -> list[Variant]:
    n, mib = (4, 128) if quick else (8, 512)  # quick: 4 worker starts, not 8
    starts = Starts.remote()

    def run(submit) -> Extra:  # type: ignore[no-untyped-def]
        ray.get(starts.take.remote())
        with node_peak() as peak:
            assert sum(submit()) == n
        return {**peak, "retried": float(ray.get(starts.take.remote()) - n)}

    def anti() -> Extra:
        return run(lambda: ray.get([crowded.remote(i, mib, starts) for i in range(n)]))

    def better() -> Extra:
        sized = crowded.options(memory=(mib + WORKER_MIB) * MIB)
        return run(lambda: ray.get([sized.remote(i, mib, starts) for i in range(n)]))

    def library() -> Extra:
        def work(i: int) -> float:
            return touch(i, mib, starts)

        return run(lambda: list(memory_map(work, range(n))))

    return [
        Variant("one task per 0.25 CPU, no memory=", "anti", anti),
        Variant("memory= stated by hand", "better", better),
        Variant("memory_map (measured)", "library", library),
    ]


CASE = Case(
    "limit-running-tasks",
    "8 tasks touching 512 MiB each (quick: 4 x 128 MiB) in 8 CPU slots: node memory at once",
    variants,
    metric="node_peak_mib",
    label="node memory peak",
    repeats=(1, 2),
    figures=lambda quick: {"tasks_that_fit": float(tasks_that_fit((128 if quick else 512) * MIB))},
    quick_caveat="kills need more memory at once than this shared machine can give",
)
