"""How long the doctor takes to build its report: a measurement script, not a test.

    flock /tmp/ray.lock python tests/doctor/report_speed_benchmark.py [--history 100000]
        [--tasks 10000] [--interval-ms N]

Without ``--interval-ms``, runs itself twice, one local Ray each: at Ray's default
task-event flush (1 s: a Ray started outside the doctor) and at the 100 ms the doctor
sets when it starts the program's Ray. Each starts a local Ray (2 CPUs), optionally
runs ``--history`` tiny tasks in another job first (a cluster that has run 100k
tasks), then watched runs of ``--tasks`` tasks, and prints:

- ``read unfiltered``: Ray's accessor (every job's events) filtered here, what the
  doctor did before; ``read job filter``: the GCS's GetTaskEvents with a job filter;
- ``report build``: the whole end of ``watch()`` (waiting for the events to arrive,
  reading, analysing) after the block ends;
  split into ``waiting for workers`` (their records' settle and read),
  ``task events`` (waiting for and reading Ray's, for what the workers did not time)
  and ``analysis``; a second watch of as many tasks in the same job (which then
  holds twice as many task events);
- ``flush wait``: the same end for small jobs (10 and 100 tasks), which is
  mostly the workers' event flush (``--interval-ms`` sets it for this Ray).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

HISTORY = """
import ray, sys
ray.init(address=sys.argv[1], log_to_driver=False)

@ray.remote
def noop(i):
    return i

n = int(sys.argv[2])
for start in range(0, n, 10_000):
    ray.get([noop.remote(i) for i in range(start, min(n, start + 10_000))])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=0, help="tasks run before, in another job")
    parser.add_argument("--interval-ms", type=int, default=0, help="task event flush interval")
    args = parser.parse_args()
    if not args.interval_ms:  # both settings, each on its own Ray
        for ms in (1000, 100):
            argv = [a for a in sys.argv[1:] if not a.startswith("--interval-ms")]
            subprocess.run([sys.executable, __file__, *argv, "--interval-ms", str(ms)], check=True)
        return
    if args.interval_ms != 1000:
        os.environ["RAY_task_events_report_interval_ms"] = str(args.interval_ms)

    import ray

    from ray_patterns.doctor import _events, _patches, analysis, watch

    phases: dict[str, float] = {}
    for owner, name, phase in (
        (_patches, "_collect_workers", "waiting for workers"),
        (_events, "wait_for_spans", "task events"),
        (analysis, "analyze", "analysis"),
    ):
        setattr(owner, name, _timed(getattr(owner, name), phase, phases))

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    address = ray.get_runtime_context().gcs_address
    if args.history:
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", HISTORY, address, str(args.history)], check=True)
        print(f"history: {args.history} tasks in another job, {time.perf_counter() - began:.1f} s")
        time.sleep(2.0)  # their events reach the GCS

    @ray.remote
    def tiny(i: int) -> int:
        return i

    rows: list[tuple[str, float]] = []
    for n in (10, 100):
        for _ in range(2):
            with watch():
                ray.get([tiny.remote(i) for i in range(n)])
                ended = time.perf_counter()
            rows.append((f"flush wait, {n} tasks", time.perf_counter() - ended))

    for which in ("", ", 2nd watch in the job"):
        phases.clear()
        with watch() as report:
            ray.get([tiny.remote(i) for i in range(args.tasks)])
            ended = time.perf_counter()
        rows.append((f"report build, {args.tasks} tasks{which}", time.perf_counter() - ended))
        rows.extend((f"  {phase}", seconds) for phase, seconds in phases.items())
        timed = report.observed.get("tasks_timed")

    job = ray.get_runtime_context().get_job_id()
    for _ in range(2):
        began = time.perf_counter()
        unfiltered = _events._fetch_unfiltered(job)
        rows.append(("read unfiltered (before)", time.perf_counter() - began))
        began = time.perf_counter()
        filtered = _events.read_job(job)
        rows.append(("read job filter (after)", time.perf_counter() - began))
    assert len(unfiltered.spans) == len(filtered.spans), (len(unfiltered.spans), len(filtered))

    print(
        f"Ray {ray.__version__}, flush interval "
        f"{os.environ.get('RAY_task_events_report_interval_ms', '1000 (default)')} ms, "
        f"history {args.history} tasks, GCS holds {filtered.total_stored} attempts, "
        f"this job {len(filtered.spans)} attempts, {timed} tasks timed by the report"
    )
    for name, seconds in rows:
        print(f"  {name:<48} {seconds:7.3f} s")
    ray.shutdown()


def _timed(function: Any, phase: str, phases: dict[str, float]) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            phases[phase] = phases.get(phase, 0.0) + time.perf_counter() - began

    return timed


if __name__ == "__main__":
    main()
