"""When the doctor stops waiting for a task's events: finished and ran, or its worker died."""

from __future__ import annotations

import time

import ray

from ray_patterns.doctor._events import TaskSpan, _accounted_for, _died, _missing


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


@ray.remote(num_cpus=0)
class _Counter:
    def ping(self) -> int:
        return 1


def test_a_finished_call_of_an_actor_that_is_gone_is_not_waited_for(ray_session: None) -> None:
    from ray._private.state import state

    gone, alive = _Counter.remote(), _Counter.remote()
    assert ray.get([gone.ping.remote(), alive.ping.remote()]) == [1, 1]
    gone_id, alive_id = gone._ray_actor_id, alive._ray_actor_id
    del gone  # out of scope: Ray destroys it, with any run times it had not flushed
    deadline = time.monotonic() + 30
    while state.actor_table(gone_id.hex()).get("State") != "DEAD":
        assert time.monotonic() < deadline, "the actor was not destroyed"
        time.sleep(0.05)
    spans = {}
    for name, actor in (("g", gone_id), ("a", alive_id)):
        span = _span(name, ready=True, end=False)
        span.actor = actor.binary()
        spans[span.task_id] = span
    # the gone actor's call will get no more events; the live one's may
    assert _missing(spans, list(spans)) == [b"ta"]
