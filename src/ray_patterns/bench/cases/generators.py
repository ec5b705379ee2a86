"""generators: a task returning n large outputs at once vs yielding them one at a time.

The producer records its own peak heap in a small actor: the high-water mark of
the memory it holds in Python objects and numpy arrays (``tracemalloc``, which
numpy reports its buffers to), kept by the allocator itself, so exact: no sampling
that could miss a peak, and no allocator or OS page bookkeeping. Not its RSS,
which also counts the object store's shared pages the worker wrote its outputs
into (the same variant measured 16 and 104 MiB), nor its RssAnon, which counts
heap freed but not yet given back and read 16 or 24 MiB for the same variant. The
harness measures the consumer (driver) and the object store. The handbook's
20 x 100 MB; quick: 10 x 8 MiB.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import ray

from ray_patterns import generate
from ray_patterns.bench.core import Case, Extra, Variant

MIB = 1 << 20


@ray.remote(num_cpus=0)
class Peaks:
    def __init__(self) -> None:
        self.last = 0.0

    def put(self, mib: float) -> None:
        self.last = mib

    def get(self) -> float:
        return self.last


def _block(i: int, mib: int) -> np.ndarray:
    return np.full(mib * MIB // 8, i, dtype=np.float64)


@contextmanager
def _heap_peak(peaks: object) -> Iterator[None]:
    """Trace this worker's allocations over the body; report their peak (MiB) to ``peaks``."""
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1] / MIB
    finally:
        tracemalloc.stop()
    ray.get(peaks.put.remote(peak))  # type: ignore[attr-defined]


@ray.remote
def make_list(n: int, mib: int, peaks: object) -> list[np.ndarray]:
    with _heap_peak(peaks):
        blocks = [_block(i, mib) for i in range(n)]
    return blocks


def make_each(n: int, mib: int, peaks: object):  # type: ignore[no-untyped-def]
    with _heap_peak(peaks):
        for i in range(n):
            block = _block(i, mib)
            yield block
            del block  # as soon as Ray has it, as if yielded without a name


remote_each = ray.remote(make_each)


def variants(quick: bool) -> list[Variant]:
    n, mib = (10, 8) if quick else (20, 100)
    expected = sum(float(i * mib * MIB // 8) for i in range(n))
    peaks = Peaks.remote()

    def row(total: float) -> Extra:
        assert total == expected
        return {"producer_peak_mib": ray.get(peaks.get.remote())}

    def anti() -> Extra:
        blocks = ray.get(make_list.remote(n, mib, peaks))
        total = sum(float(b.sum()) for b in blocks)
        del blocks
        return row(total)

    def better() -> Extra:
        return row(sum(float(ray.get(ref).sum()) for ref in remote_each.remote(n, mib, peaks)))

    def library() -> Extra:
        return row(sum(float(b.sum()) for b in generate(make_each, n, mib, peaks)))

    return [
        Variant("return a list", "anti", anti),
        Variant("generator task, by hand", "better", better),
        Variant("generate (back-pressure 2)", "library", library),
    ]


CASE = Case(
    "generators",
    "n large outputs: one returned list vs a generator task (producer peak, store, consumer)",
    variants,
    metric="producer_peak_mib",
    label="producer peak",
)
