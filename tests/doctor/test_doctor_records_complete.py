"""The end of a watch waits for the workers' last records, with a bound.

A worker ships its records once it went quiet (``_worker._flush_loop``); on a loaded
machine that can come later than any fixed settle. The driver waits until every
task it saw finish has its call record in the KV (or its worker is dead), and
names the tasks whose records never came. Both tests delay the flush of one fresh
worker with the documented test hook ``_worker.FLUSH_DELAY_ENV`` (a task's
runtime_env, so only that worker waits), on the session's real Ray.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import ray

from ray_patterns.doctor import Report, _worker, watch

#: the task's worker holds every flush back by this long
LATE = {"env_vars": {_worker.FLUSH_DELAY_ENV: "1.0"}}


def _nested(report: Report) -> set[int]:
    return {f.line for f in report.by_check("nested-ray-get") if Path(f.path) == Path(__file__)}


def test_a_late_flush_is_waited_for(ray_session: None) -> None:
    """The finding inside the task is in the report though its worker shipped it
    about 1 s after the task returned (the old fixed 0.15 s settle lost it)."""

    @ray.remote
    def gets_nested(refs: list[ray.ObjectRef]) -> int:
        return sum(ray.get(refs))  # nested-ray-get inside the task

    refs = [ray.put(i) for i in range(3)]
    with watch() as report:
        assert ray.get(gets_nested.options(runtime_env=LATE).remote(refs)) == 3
        ended = time.monotonic()
    waited = time.monotonic() - ended
    assert _nested(report), (report.findings, report.not_observed)
    assert not [n for n in report.not_observed if "last records" in n], report.not_observed
    assert waited >= 0.5, waited  # the flush really came late: the wait was exercised


def test_records_lost_with_their_worker_are_named(ray_session: None) -> None:
    """A worker that dies after its task returned, before its delayed flush: the
    report names the task whose records never came and why, without waiting for the
    whole bound."""

    def exit_soon() -> None:
        time.sleep(0.2)  # the task has returned its result by then
        os._exit(1)

    @ray.remote
    def gets_nested_then_dies(refs: list[ray.ObjectRef]) -> int:
        threading.Thread(target=exit_soon, daemon=True).start()
        return sum(ray.get(refs))  # nested-ray-get, lost with the worker

    refs = [ray.put(i) for i in range(3)]
    with watch() as report:
        ref = gets_nested_then_dies.options(runtime_env=LATE).remote(refs)
        assert ray.get(ref) == 3
        ended = time.monotonic()
    waited = time.monotonic() - ended
    lost = [n for n in report.not_observed if "last records" in n]
    assert len(lost) == 1, report.not_observed
    assert "gets_nested_then_dies" in lost[0] and ref.task_id().hex()[:12] in lost[0], lost
    assert "died before shipping them" in lost[0], lost
    assert not _nested(report)  # lost with the worker: not made up
    assert waited < _worker.COMPLETE_S, waited
