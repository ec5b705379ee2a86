"""doctor-overhead: a tiny-task workload with and without ``ray-patterns doctor``.

The metric is the workload's own wall time (``workload_s``): what instrumentation
costs the program while it runs, with worker-side observation on (a quarter of the
tasks are submitted from inside tasks, and the definitions are made fresh for each
run, so the watch wraps them before their first export: the workers record too).
Beside it, ``cpu_s``: the CPU seconds every process of this Ray (driver, workers,
raylet, GCS) spent in the workload, which the other programs on a shared machine
move far less than the wall time. Building the report at the end (the workers'
own records, Ray's task events for what they did not time, the analysis) is paid
once, after the program, and reported apart as ``report_s``.

Many short repetitions, interleaved (plain, watched, watched, plain, ...), read as
pairs: on this shared 2-core machine one repetition moves by about 10% with what
the other programs do, so the ratio is taken pair by pair (the two runs of a pair
ran next to each other, under about the same load) and the verdict gives the
median of the pairs' ratios with its 90% interval (resampling the pairs), for the
wall time and for the CPU seconds. Twenty-four pairs of 2,000 tasks take what
twelve of 4,000 took, and give the median twice the pairs.

Fair to both: before each timed run, a small untimed run of the same shape brings
the worker pool to the workers the workload needs (the blocked parents make Ray
start extra ones, which it reaps when idle), so neither variant pays worker starts
in its timed part; a fresh worker's first watched call still pays for importing the
doctor there, in the timed part, as a user's program would. Both share one pool:
per-variant pools (a runtime_env per variant) made Ray start and reap workers all
the time on 2 CPUs. So the plain runs meet workers an earlier watch instrumented
(the doctor's patches stay installed there, recording nothing kept between
watches): a small cost on the plain side, so the ratio errs low by about that.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import psutil
import ray

from ray_patterns.bench.core import Case, CaseResult, Extra, Variant, round_ratios


def _inc(x: int) -> int:
    return x + 1


def _fan_out(inc: Any, start: int, n: int) -> int:
    """Tasks submitted from inside a task: what the workers' own recording sees."""
    return sum(ray.get([inc.remote(i) for i in range(start, start + n)]))


def workload(n: int) -> None:
    """Tiny tasks: the worst case for per-call instrumentation cost."""
    inc, fan_out = ray.remote(_inc), ray.remote(_fan_out)  # fresh: exported in this run
    half = n // 8  # two parents, a quarter of the tasks in all
    parents = [fan_out.remote(inc, k * half, half) for k in range(2)]
    refs = [inc.remote(i) for i in range(2 * half, n)]
    total = sum(ray.get(refs)) + sum(ray.get(parents))
    assert total == n * (n + 1) // 2


def _ray_processes() -> list[psutil.Process]:
    """This driver and the local Ray's raylet, GCS and workers (empty if unknown)."""
    try:
        node = ray._private.worker._global_node  # type: ignore[attr-defined]
        procs = [psutil.Process()]
        for infos in node.all_processes.values():
            for info in infos:
                top = psutil.Process(info.process.pid)
                procs.append(top)
                procs.extend(top.children(recursive=True))
        return procs
    except Exception:  # a cluster joined, or a Ray that changed: no CPU figure
        return []


def _cpu(procs: list[psutil.Process]) -> dict[int, float]:
    out = {}
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.Error:  # exited (a reaped worker)
            continue
        out[p.pid] = t.user + t.system
    return out


def _measuring() -> Callable[[], Extra]:
    """Start measuring a block: the returned ``stop()`` gives its wall time and the
    CPU seconds of this Ray's processes in it (``cpu_s``; NaN when they are unknown)."""
    procs = _ray_processes()
    before = _cpu(procs)
    start = time.perf_counter()

    def stop() -> Extra:
        wall = time.perf_counter() - start
        after = _cpu(procs + _ray_processes())  # workers started in the block too
        cpu = sum(v - before.get(pid, 0.0) for pid, v in after.items())
        return {"workload_s": wall, "cpu_s": cpu if procs else math.nan}

    return stop


def variants(quick: bool) -> list[Variant]:
    n = 500 if quick else 2_000

    def without() -> Extra:
        workload(64)  # the workers the workload needs, started (untimed)
        stop = _measuring()
        workload(n)
        return {**stop(), "report_s": 0.0}

    def with_doctor() -> Extra:
        from ray_patterns.doctor import watch

        workload(64)
        stop = _measuring()
        with watch() as report:
            workload(n)
            out = stop()
            end = time.perf_counter()
        return {
            **out,
            "report_s": time.perf_counter() - end,
            "findings": float(len(report.findings)),
            "tasks_timed": float(report.observed.get("tasks_timed", 0)),
            "worker_processes_observed": float(report.observed.get("worker_processes", 0)),
        }

    return [
        Variant("without doctor", "better", without),
        Variant("under doctor.watch()", "library", with_doctor),
    ]


def median_interval(ratios: list[float]) -> tuple[float, float]:
    """The 90% interval of the median of ``ratios``, resampling them (a fixed seed).

    >>> median_interval([1.1, 1.1, 1.1])
    (1.1, 1.1)
    """
    if len(ratios) < 2:
        return math.nan, math.nan
    draw = random.Random(0)
    medians = sorted(
        statistics.median(ratios[draw.randrange(len(ratios))] for _ in ratios) for _ in range(2000)
    )
    return round(medians[len(medians) // 20], 6), round(medians[-len(medians) // 20 - 1], 6)


def _paired(res: CaseResult, key: str) -> tuple[float, float, float, int]:
    """The median of the pairs' ratios of ``key`` (the metric or an extra), its 90%
    interval and the number of pairs."""
    plain, watched = res.by_role("better"), res.by_role("library")
    if plain is None or watched is None:
        return math.nan, math.nan, math.nan, 0
    ratios = round_ratios(
        [e.get(key, math.nan) for e in watched.extras], [e.get(key, math.nan) for e in plain.extras]
    )
    if not ratios:
        return math.nan, math.nan, math.nan, 0
    return (statistics.median(ratios), *median_interval(ratios), len(ratios))


def verdict(res: CaseResult) -> str:
    """What ``doctor.watch()`` adds to the workload's time (the median of the pairs'
    ratios, with its spread), the CPU it adds, and the report's own cost."""
    ratio, low, high, pairs = _paired(res, res.metric)
    watched = res.by_role("library")
    if math.isnan(ratio) or watched is None:
        return "no figure"
    said = f"{ratio:.2f}x (90% interval {low:.2f}-{high:.2f}x, {pairs} pairs)"
    cpu, cpu_low, cpu_high, _ = _paired(res, "cpu_s")
    tail = (
        f"; CPU {cpu:.2f}x ({cpu_low:.2f}-{cpu_high:.2f}x)" if not math.isnan(cpu) else ""
    ) + f"; report {watched.extra_median('report_s'):.2f} s after"
    if high <= 1.05:
        return f"doctor.watch() adds at most 5% to the workload: {said}{tail}"
    if ratio <= 1.05:
        return f"doctor.watch() within 5% at the median, not shown by the spread: {said}{tail}"
    return f"doctor.watch() makes the workload {said} slower{tail}"


CASE = Case(
    "doctor-overhead",
    "n tiny tasks, submit all then one get: plain vs under the doctor",
    variants,
    metric="workload_s",
    repeats=(6, 24),
    verdict=verdict,
    label="workload",
)
