"""When the doctor stops waiting for a task's events: finished and ran, or its worker died."""

from __future__ import annotations

from ray_patterns.doctor._events import TaskSpan, _accounted_for, _died


def _span(worker: str, *, ready: bool, end: bool, error: str = "") -> TaskSpan:
    return TaskSpan(
        b"t" + worker.encode(),
        "f",
        worker,
        "node",
        1,
        start=1.0,
        end=2.0 if end else None,
        ready=2.0 if ready else None,
        failed=bool(error),
        error_type=error,
    )


def test_a_finished_task_waits_for_its_run_time_until_its_worker_is_known_dead() -> None:
    done_unflushed = _span("w1", ready=True, end=False)
    assert not _accounted_for(done_unflushed, set())  # its profile event is on its way
    # the next call on that worker failed because the actor's process died
    crash = _span("w1", ready=True, end=False, error="ACTOR_UNAVAILABLE")
    assert _died(crash) and _accounted_for(crash, set())
    assert _accounted_for(done_unflushed, {s.worker for s in (crash,) if _died(s)})
    # a worker that is alive elsewhere does not release it
    assert not _accounted_for(done_unflushed, {"w2"})


def test_a_task_that_raised_still_sends_its_run_time() -> None:
    raised = _span("w1", ready=True, end=False, error="TASK_EXECUTION_EXCEPTION")
    assert not _died(raised) and not _accounted_for(raised, set())
    assert _accounted_for(_span("w1", ready=True, end=True), set())
