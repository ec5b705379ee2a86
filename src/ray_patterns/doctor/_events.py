"""Task run times from Ray's own task events, read from the GCS.

Why task events and not timing inside the worker: Ray already records, for every
task attempt, when it ran (``task:execute`` profile event, ns) and when its result
was ready (``FINISHED`` state), on which worker and node. Reading them costs the
program nothing while it runs, needs no code in the workers, and works without
the dashboard (``ray.util.state.list_tasks`` needs the dashboard, which tests and
many clusters turn off). The price: workers flush events about once a second, so
the doctor waits up to a few seconds at the end, and the GCS keeps a bounded
number per job (``RAY_task_events_max_num_task_in_gcs``, 100,000 by default);
tasks whose events are missing are counted as not observed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

FINISHED = 11
FAILED = 12


@dataclass(slots=True)
class TaskSpan:
    """One task attempt as Ray saw it (times in seconds since the epoch)."""

    task_id: bytes
    name: str
    worker: str
    node: str
    pid: int
    start: float | None
    end: float | None
    ready: float | None
    failed: bool = False


def read_task_spans(job_hex: str, since: float) -> dict[bytes, TaskSpan]:
    """Every task of job ``job_hex`` that was created after ``since``, by task id."""
    import ray._private.state as state

    spans: dict[bytes, TaskSpan] = {}
    for event in state.state._get_all_task_events():
        if event.job_id.hex() != job_hex:
            continue
        span = spans.get(event.task_id)
        if span is None:
            span = TaskSpan(event.task_id, "", "", "", 0, None, None, None)
            spans[event.task_id] = span
        if event.HasField("task_info") and event.task_info.func_or_class_name:
            span.name = event.task_info.func_or_class_name
        if event.HasField("state_updates"):
            updates = event.state_updates
            if updates.worker_id:
                span.worker = updates.worker_id.hex()
            if updates.node_id:
                span.node = updates.node_id.hex()
            if updates.worker_pid:
                span.pid = updates.worker_pid
            ts = updates.state_ts_ns
            if FINISHED in ts:
                span.ready = ts[FINISHED] / 1e9
            if FAILED in ts:
                span.failed = True
                span.ready = span.ready or ts[FAILED] / 1e9
        if event.HasField("profile_events"):
            for item in event.profile_events.events:
                if item.event_name == "task:execute":
                    span.start = item.start_time / 1e9
                    span.end = item.end_time / 1e9
            if not span.worker:
                span.worker = event.profile_events.component_id.hex()
    return {tid: s for tid, s in spans.items() if (s.start or s.ready or since) >= since - 1.0}


def wait_for_spans(
    job_hex: str, since: float, wanted: set[bytes], timeout: float = 4.0
) -> dict[bytes, TaskSpan]:
    """``read_task_spans``, polled until every ``wanted`` task has its times or ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        began = time.monotonic()
        spans = read_task_spans(job_hex, since)
        took = time.monotonic() - began
        # state updates and profile events are flushed apart: wait for both
        missing = [
            t for t in wanted if t not in spans or spans[t].ready is None or spans[t].end is None
        ]
        if not missing or time.monotonic() >= deadline:
            return spans
        # each read returns every event of the job: with many tasks, read less often
        time.sleep(max(0.25, took))
