"""fine-grained-tasks: one task per tiny item vs batches vs ``batched_map``.

Figures (full run): ``batched_map(batch_size="auto")`` against the best fixed
batch size of a scan, for per-item costs of 10 us, 1 ms and 50 ms, and against
one task per item at 10 us.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import ray

from ray_patterns import batched_map
from ray_patterns.bench.cases._peers import peer_variants
from ray_patterns.bench.cases._work import median_pass, spin
from ray_patterns.bench.core import Case, Variant


def double(x: int) -> int:
    return 2 * x


@ray.remote
def double_task(x: int) -> int:
    return 2 * x


@ray.remote
def double_batch(xs: list[int]) -> list[int]:
    return [2 * x for x in xs]


def setup() -> None:
    """Every task exported and the workers up before timing: a first ``batched_map``
    exports its batch task (~30 ms, as much as a whole quick pass)."""
    ray.get([double_task.remote(0), double_batch.remote([0])])
    list(batched_map(double, range(10)))


def variants(quick: bool) -> list[Variant]:
    # below ~3000 items the library's sizing (batches grow from 1, at most 2x a step)
    # outweighs its batching
    n = 3_000 if quick else 10_000
    # a pass of the fast variants takes ~30 ms at the quick size, and this machine's jitter
    # makes one pass in 20 take 2-15x that, by hand and library alike: each of their runs
    # times 5 passes and reports the median one (metric: seconds per pass), so one slow
    # pass cannot decide the library-vs-hand verdict; the 3-second one-task-per-item pass
    # need not be repeated for it
    passes = 5 if quick else 1
    expected = [2 * x for x in range(n)]

    def anti() -> None:
        assert ray.get([double_task.remote(x) for x in range(n)]) == expected

    def better() -> None:
        refs = [double_batch.remote(list(range(i, min(i + 100, n)))) for i in range(0, n, 100)]
        assert [y for batch in ray.get(refs) for y in batch] == expected

    def library() -> None:
        assert list(batched_map(double, range(n))) == expected

    def plain() -> None:
        assert [double(x) for x in range(n)] == expected

    def finish(values: list[int]) -> None:
        assert sorted(values) == expected  # ray.data does not keep input order

    peers = [] if quick else peer_variants(double, lambda: range(n), finish)
    return [
        Variant("one task per item", "anti", median_pass(anti, 1)),
        Variant("batches of 100 by hand", "better", median_pass(better, passes)),
        Variant("batched_map (auto)", "library", median_pass(library, passes)),
        Variant("plain Python loop", "peer", median_pass(plain, passes)),
        *[Variant(p.name, p.role, median_pass(p.run, 1)) for p in peers],
    ]


class Spin:
    """A per-item function of known cost (picklable, unlike a closure over a lambda)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, x: int) -> int:
        spin(self.seconds)
        return x


def _best_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _auto_against_scan(cost: float, n: int) -> tuple[float, int]:
    """auto's time over the best fixed batch size's, and that size."""
    fn = Spin(cost)
    sizes = [s for s in (1, 3, 10, 30, 100, 300, 1_000, 3_000, 10_000) if s <= n]
    sizes = [s for s in sizes if n // s <= 20_000]  # 200k one-item tasks take minutes
    fixed = {
        size: _best_of(2, lambda size=size: list(batched_map(fn, range(n), batch_size=size)))
        for size in sizes
    }
    auto = _best_of(2, lambda: list(batched_map(fn, range(n))))
    best = min(fixed, key=fixed.__getitem__)
    return auto / fixed[best], best


def figures(quick: bool) -> dict[str, float]:
    if quick:
        return {}
    out: dict[str, float] = {}
    # (per-item seconds, items): about 2 s of serial work each
    for cost, n in ((10e-6, 200_000), (1e-3, 2_000), (50e-3, 40)):
        ratio, best = _auto_against_scan(cost, n)
        out[f"{cost * 1e6:g}us x {n}: auto / best fixed (size {best})"] = ratio
    fn = Spin(10e-6)
    n = 20_000
    per_item = _best_of(1, lambda: ray.get([double_task.remote(x) for x in range(n)]))
    auto = _best_of(2, lambda: list(batched_map(fn, range(n))))
    out[f"10us x {n}: one task per item / auto"] = per_item / auto
    return out


CASE = Case(
    "fine-grained-tasks",
    "n items of trivial work: one task each vs batches (seconds per pass over the items)",
    variants,
    metric="pass_s",
    label="time per pass",
    # quick: 2 rounds (each fast run already the median of 5 passes; the one task per
    # item pass takes 3-4 s a round, 83-92x the fix's)
    repeats=(2, 3),
    setup=setup,
    figures=figures,
)
