"""doctor-overhead: a 10,000-task workload with and without ``ray-patterns doctor``.

The metric is the workload's own wall time (``workload_s``): what instrumentation
costs the program while it runs. Building the report at the end (reading Ray's
task events, which workers flush about once a second, and analysing them) is
paid once, after the program, and reported apart as ``report_s``.
"""

from __future__ import annotations

import math
import time

import ray

from ray_patterns.bench.core import Case, CaseResult, Extra, Variant


@ray.remote
def inc(x: int) -> int:
    return x + 1


def workload(n: int) -> None:
    """Tiny tasks: the worst case for per-call instrumentation cost."""
    refs = [inc.remote(i) for i in range(n)]
    assert sum(ray.get(refs)) == n * (n + 1) // 2


def variants(quick: bool) -> list[Variant]:
    n = 500 if quick else 10_000

    def without() -> Extra:
        start = time.perf_counter()
        workload(n)
        return {"workload_s": time.perf_counter() - start, "report_s": 0.0}

    def with_doctor() -> Extra:
        from ray_patterns.doctor import watch

        start = time.perf_counter()
        with watch() as report:
            workload(n)
            end = time.perf_counter()
        return {
            "workload_s": end - start,
            "report_s": time.perf_counter() - end,
            "findings": float(len(report.findings)),
            "tasks_timed": float(report.observed.get("tasks_timed", 0)),
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
