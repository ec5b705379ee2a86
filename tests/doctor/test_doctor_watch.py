"""``watch()`` as a context manager: restores Ray, survives errors, leaves the library alone."""

from __future__ import annotations

import sys
import time

import pytest
import ray
import ray.actor
import ray.remote_function

from ray_patterns import as_completed, batched_map, bounded_map, iter_results
from ray_patterns.doctor import Thresholds, watch


@ray.remote
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_ray_is_restored_after_the_block_even_on_error(ray_session: None) -> None:
    before = (ray.get, ray.wait, ray.put, ray.remote, ray.init, ray.shutdown)
    methods = (
        ray.remote_function.RemoteFunction._remote,
        ray.actor.ActorClass._remote,
        ray.actor.ActorMethod._remote,
    )
    with pytest.raises(ZeroDivisionError), watch() as report:
        assert ray.get is not before[0]
        for _ in range(4):
            line = sys._getframe().f_lineno + 1
            ray.get(nap.remote(0.01))  # a get loop, then the block's own error
        _ = 1 / 0
    assert (ray.get, ray.wait, ray.put, ray.remote, ray.init, ray.shutdown) == before
    assert (
        ray.remote_function.RemoteFunction._remote,
        ray.actor.ActorClass._remote,
        ray.actor.ActorMethod._remote,
    ) == methods
    assert report.complete
    assert [f.line for f in report.by_check("ray-get-loop")] == [line]


def test_nested_watch_is_refused(ray_session: None) -> None:
    original = ray.get
    with watch(), pytest.raises(RuntimeError, match="already active"), watch():
        pass
    assert ray.get is original


def test_a_patch_that_cannot_attach_is_reported_and_the_rest_works(
    ray_session: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ray_patterns.doctor import _patches

    # a target that does not exist, as after a Ray upgrade renamed something
    broken = (object(), "no_such_attribute", _patches._make_fetch("get"), "some Ray entry point")
    monkeypatch.setattr(_patches, "_PATCHES", [*_patches._PATCHES, broken])
    with watch() as report:
        for _ in range(4):
            ray.get(nap.remote(0.01))
    assert any(
        item.startswith("some Ray entry point: could not instrument")
        for item in report.not_observed
    )
    assert report.by_check("ray-get-loop")


def test_library_result_flow_is_clean(ray_session: None) -> None:
    clean = {
        "ray-get-loop",
        "submission-order",
        "fine-grained-tasks",
        "unbounded-submission",
        "redefine-task-actor-loop",
    }
    with watch(Thresholds(unbounded_pending_tasks=50)) as report:
        refs = [nap.remote(s) for s in (0.3, 0.01, 0.01, 0.01)]
        assert sorted(ray.get(r) for r in as_completed(refs)) == [0.01, 0.01, 0.01, 0.3]
        assert (
            sorted(iter_results([nap.remote(0.01) for _ in range(8)], chunk_size=2)) == [0.01] * 8
        )
        assert sum(bounded_map(nap, [0.012] * 30, max_in_flight=4)) == pytest.approx(0.36)
        assert list(batched_map(lambda x: 2 * x, range(300))) == [2 * x for x in range(300)]
    assert report.names.isdisjoint(clean), report.findings
    assert report.observed["tasks"] > 40


def test_actor_calls_are_counted_and_timed(ray_session: None) -> None:
    @ray.remote
    class Counter:
        def __init__(self) -> None:
            self.n = 0

        def add(self, k: int) -> int:
            self.n += k
            return self.n

    with watch() as report:
        counter = Counter.remote()
        assert ray.get([counter.add.remote(1) for _ in range(5)]) == [1, 2, 3, 4, 5]
    assert report.observed["actors"] == 1
    assert report.observed["actor_tasks"] == 5
    assert report.observed["tasks_timed"] >= 5
    rows = {item["row"] for item in report.timeline if item["cat"] == "task"}
    assert rows  # the actor's worker has a row in the timeline


def test_worker_records_ship_in_chunks_that_merge_to_the_whole(
    ray_session: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's flushes through Ray's KV: each ships only what is new, the driver's
    read joins them; a submission fetched after its chunk shipped still reads done; a
    later watch without ``forget`` reads indices from 0; after ``forget``, only the
    new epoch counts."""
    from ray_patterns.doctor import _worker
    from ray_patterns.doctor._recorder import Recorder

    t = Thresholds().resolved()
    rec = Recorder(t, worker=True)
    rec.token = _worker.key_prefix("chunk-test")
    monkeypatch.setattr(_worker, "_state", {"rec": rec, "shipped": -1, "whole_job": True})
    ref_a, ref_b, ref_c, ref_d = (ray.put(i) for i in range(4))
    site = ("job.py", 3)

    def submit(ref: ray.ObjectRef) -> None:
        rec.on_submit(ref, site, False, None, "task", (1,), None, time.time())

    def read(since: float) -> Recorder:
        (data,), missing = _worker.collect("chunk-test")
        assert missing == []
        return Recorder.from_shipped(data, t, since)

    start = time.time()
    submit(ref_a)
    _worker.flush()
    submit(ref_b)
    rec.on_get(ref_a, 0, site, False, time.time(), time.time(), False, False)
    assert rec.done_log and rec.submissions[0].done is not None
    _worker.flush()
    assert _worker.flush() == 0.0  # nothing new: nothing shipped
    got = read(start)
    assert [s.done for s in got.submissions] == [s.done for s in rec.submissions]
    assert got.submissions[0].done is not None and got.submissions[1].done is None
    assert [g.single for g in got.gets] == [0]

    second = time.time()  # a second watch: the first one's chunks were read and deleted
    submit(ref_c)
    rec.on_get(ref_c, 2, site, False, time.time(), time.time(), False, False)
    _worker.flush()
    got = read(second)
    assert [s.index for s in got.submissions] == [0]
    assert got.submissions[0].done is not None and [g.single for g in got.gets] == [0]

    submit(ref_b)  # after that watch: shipped, left in the KV
    _worker.flush()
    rec.forget()  # no watch on: the next records start a new epoch
    submit(ref_d)
    _worker.flush()
    got = read(start)  # the old epoch's chunk is dropped by its epoch, not by its time
    assert len(got.submissions) == 1 and got.gets == [] and got.epoch == 1
