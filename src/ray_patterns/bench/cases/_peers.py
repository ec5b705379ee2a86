"""The tools a user might pick instead of Ray tasks, run on the same workload.

Each peer maps a picklable module-level ``fn`` over ``items`` and hands the
results to ``finish``. Pools are started inside the timed run, as a script
would; the variant names say so. Process pools use "spawn": forking a process
that runs Ray's threads can deadlock. Missing optional packages (joblib, dask)
leave their peers out rather than failing the bench.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import ray

from ray_patterns.bench.core import Variant

Finish = Callable[[list[Any]], None]


def _cpus() -> int:
    return max(1, int(ray.cluster_resources().get("CPU", os.cpu_count() or 1)))


def peer_variants(
    fn: Callable[[Any], Any], items: Callable[[], Iterable[Any]], finish: Finish
) -> list[Variant]:
    """Peers for ``finish([fn(x) for x in items()])``."""
    cpus = _cpus()
    spawn = multiprocessing.get_context("spawn")

    def process_pool_executor() -> None:
        with ProcessPoolExecutor(max_workers=cpus, mp_context=spawn) as pool:
            finish(list(pool.map(fn, items())))

    def multiprocessing_pool() -> None:
        with spawn.Pool(cpus) as pool:
            finish(pool.map(fn, list(items())))

    def ray_pool() -> None:
        from ray.util.multiprocessing import Pool

        with Pool(processes=cpus) as pool:
            finish(pool.map(fn, list(items())))

    def ray_data() -> None:
        rows = ray.data.from_items([{"x": x} for x in items()])
        out = rows.map_batches(
            lambda batch: {"y": [fn(x) for x in batch["x"]]}, batch_format="numpy"
        )
        finish([row["y"] for row in out.iter_rows()])

    variants = [
        Variant("ProcessPoolExecutor.map (incl. start)", "peer", process_pool_executor),
        Variant("multiprocessing.Pool.map (incl. start)", "peer", multiprocessing_pool),
        Variant("ray.util.multiprocessing.Pool.map (incl. start)", "peer", ray_pool),
        Variant("ray.data map_batches", "peer", ray_data),
    ]
    if importlib.util.find_spec("joblib") is not None:
        import joblib

        def joblib_loky() -> None:
            finish(joblib.Parallel(n_jobs=cpus)(joblib.delayed(fn)(x) for x in items()))

        def joblib_ray() -> None:
            from ray.util.joblib import register_ray

            register_ray()
            with joblib.parallel_backend("ray", n_jobs=cpus):
                finish(joblib.Parallel()(joblib.delayed(fn)(x) for x in items()))

        variants += [
            Variant("joblib loky (auto batching)", "peer", joblib_loky),
            Variant("joblib ray backend", "peer", joblib_ray),
        ]
    if importlib.util.find_spec("dask") is not None:

        def dask_processes() -> None:
            import dask.bag

            bag = dask.bag.from_sequence(list(items()), npartitions=4 * cpus).map(fn)
            finish(bag.compute(scheduler="processes", num_workers=cpus))

        variants.append(Variant("dask.bag, processes scheduler", "peer", dask_processes))
    return variants
