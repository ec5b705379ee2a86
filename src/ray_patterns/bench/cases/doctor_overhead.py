"""doctor-overhead: a 10,000-task workload with and without ``ray-patterns doctor``.

The metric is the workload's own wall time (``workload_s``): what instrumentation
costs the program while it runs, with worker-side observation on (a quarter of the
tasks are submitted from inside tasks, and the definitions are made fresh for each
run, so the watch wraps them before their first export: the workers record too).
Building the report at the end (the workers' own records, Ray's task events for
what they did not time, the analysis) is paid once, after the program, and
reported apart as ``report_s``.

Fair to both: before each timed run, a small untimed run of the same shape brings
the worker pool to the workers the workload needs (the blocked parents make Ray
start extra ones, which it reaps when idle), so neither variant pays worker starts
in its timed part; the harness interleaves the repetitions. Both share one pool:
per-variant pools (a runtime_env per variant) made Ray start and reap workers all
the time on 2 CPUs. So the plain runs meet workers an earlier watch instrumented
(the doctor's patches stay installed there, recording nothing kept between
watches): a small cost on the plain side, so the ratio errs low by about that.
"""

from __future__ import annotations

import math
import time
from typing import Any

import ray

from ray_patterns.bench.core import Case, CaseResult, Extra, Variant


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


def variants(quick: bool) -> list[Variant]:
    n = 500 if quick else 10_000

    def without() -> Extra:
        workload(64)  # the workers the workload needs, started (untimed)
        start = time.perf_counter()
        workload(n)
        return {"workload_s": time.perf_counter() - start, "report_s": 0.0}

    def with_doctor() -> Extra:
        from ray_patterns.doctor import watch

        workload(64)
        start = time.perf_counter()
        with watch() as report:
            workload(n)
            end = time.perf_counter()
        return {
            "workload_s": end - start,
            "report_s": time.perf_counter() - end,
            "findings": float(len(report.findings)),
            "tasks_timed": float(report.observed.get("tasks_timed", 0)),
            "worker_processes_observed": float(report.observed.get("worker_processes", 0)),
        }

    return [
        Variant("without doctor", "better", without),
        Variant("under doctor.watch()", "library", with_doctor),
    ]


def verdict(res: CaseResult) -> str:
    """What ``doctor.watch()`` adds to the workload's time, and the report's own cost."""
    ratio = res.ratio("library")
    watched = res.by_role("library")
    report = f"; report {watched.extra_median('report_s'):.2f} s after" if watched else ""
    if math.isnan(ratio):
        return "no figure"
    if ratio <= 1.10:
        return f"doctor.watch() adds no measurable time ({ratio:.2f}x){report}"
    return f"doctor.watch() makes the workload {ratio:.2f}x slower{report}"


CASE = Case(
    "doctor-overhead",
    "n tiny tasks, submit all then one get: plain vs under the doctor",
    variants,
    metric="workload_s",
    verdict=verdict,
    label="workload",
)
