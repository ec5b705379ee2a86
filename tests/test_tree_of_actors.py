"""tree-of-actors: supervised actor trees on a real Ray."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import ray

from ray_patterns.fault_tolerance_actor_checkpointing import checkpointed
from ray_patterns.tree_of_actors import ChildFailedError, Supervisor, supervise
from tests._helpers import ship_by_value

W0 = {"num_cpus": 0}

ship_by_value(__name__)


class Worker:
    def __init__(self, base: int = 0, *, scale: int = 1) -> None:
        self.base = base
        self.scale = scale
        self.calls = 0

    def value(self) -> int:
        return self.base

    def add(self, x: int) -> int:
        self.base += x
        return self.base

    def square(self, x: int) -> tuple[int, int]:
        self.calls += 1
        return x * x * self.scale, os.getpid()

    def die_once(self, marker: str, result: int) -> int:
        # First call anywhere in the tree dies mid-call; the retry succeeds.
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL))  # exactly one caller wins
        except FileExistsError:
            return result + self.base
        os._exit(1)

    def die_once_item(self, item: tuple[str, int]) -> int:
        return self.die_once(*item)

    def always_die(self) -> None:
        os._exit(1)

    def fail(self) -> None:
        raise ValueError("bad input in worker")

    def pid(self) -> int:
        return os.getpid()


@ray.remote(num_cpus=0)
class MeanTree(Supervisor):
    """The handbook's supervisor that post-processes results before returning."""

    def mean_value(self) -> float:
        values = self.broadcast("value")
        return sum(values) / len(values)


def _state(actor_id: str) -> str:
    # Ray's GCS actor table (ray.util.state needs the dashboard, which the shared
    # test instance does not start).
    from ray._private import state

    info = state.actors(actor_id)
    return str(info["State"]) if info else "MISSING"


def _wait_dead(actor_ids: list[str], timeout: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        states = [_state(aid) for aid in actor_ids]
        if all(s == "DEAD" for s in states) or time.monotonic() > deadline:
            return states
        time.sleep(0.02)


def test_broadcast_scatter_children(ray_session: None) -> None:
    sup = supervise(Worker, 2, 5, scale=10, worker_options=W0)
    assert ray.get(sup.broadcast.remote("add", 1)) == [6, 6]
    out = ray.get(sup.scatter.remote("square", range(12)))
    assert [v for v, _ in out] == [x * x * 10 for x in range(12)]  # input order
    assert len({pid for _, pid in out}) == 2  # both workers took items
    kids = ray.get(sup.children.remote())
    assert len(kids) == 2 and ray.get(kids[0].value.remote()) == 6
    assert ray.get(sup.stats.remote())["replacements"] == [0, 0]
    ray.kill(sup)


def test_subclass_post_processes_and_trees_nest(ray_session: None) -> None:
    tree = MeanTree.remote(Worker, 3, 4, worker_options=W0)
    assert ray.get(tree.mean_value.remote()) == 4.0
    ray.kill(tree)
    # A supervisor of supervisors: 2 x 2 workers.
    top = supervise(Supervisor, 2, Worker, 2, 1, worker_options=W0)
    assert ray.get(top.broadcast.remote("broadcast", "add", 2)) == [[3, 3], [3, 3]]
    ray.kill(top)


@pytest.mark.parametrize("how", ["ray.kill", "SIGKILL"])
def test_children_die_with_the_supervisor(ray_session: None, how: str) -> None:
    sup = supervise(Worker, 2, worker_options=W0)
    kids = ray.get(sup.children.remote())
    assert ray.get([k.value.remote() for k in kids]) == [0, 0]
    ids = [k._actor_id.hex() for k in kids]
    assert {_state(a) for a in ids} == {"ALIVE"}
    if how == "ray.kill":
        ray.kill(sup)
    else:
        os.kill(ray.get(sup.stats.remote())["pid"], signal.SIGKILL)
    assert _wait_dead(ids) == ["DEAD", "DEAD"]


def test_dead_child_is_replaced_and_the_call_retried(ray_session: None, tmp_path: Path) -> None:
    sup = supervise(Worker, 2, 100, worker_options=W0)
    marker = str(tmp_path / "died")
    assert ray.get(sup.broadcast.remote("die_once", marker, 1)) == [101, 101]
    assert sum(ray.get(sup.stats.remote())["replacements"]) == 1
    # scatter: an item lost with its worker is redone, nothing else is lost
    marker2 = str(tmp_path / "died2")
    out = ray.get(sup.scatter.remote("die_once_item", [(marker2, i) for i in range(6)]))
    assert out == [100 + i for i in range(6)]
    ray.kill(sup)


def test_replacement_restores_a_checkpointed_worker(ray_session: None, tmp_path: Path) -> None:
    ckpt = checkpointed(str(tmp_path / "ckpt"))(Worker)
    # max_restarts=0: let the supervisor (not Ray) bring the worker back.
    sup = supervise(ckpt, 2, 0, worker_options={"num_cpus": 0, "max_restarts": 0})
    ray.get(sup.broadcast.remote("add", 7))
    assert ray.get(sup.broadcast.remote("die_once", str(tmp_path / "m"), 0)) == [7, 7]
    stats = ray.get(sup.stats.remote())
    assert stats["checkpointed"] and sum(stats["replacements"]) == 1
    ray.kill(sup)


def test_child_that_keeps_dying_is_named_and_other_results_kept(ray_session: None) -> None:
    sup = supervise(Worker, 2, worker_options=W0, supervisor_options={"max_retries": 1})

    with pytest.raises(ChildFailedError) as info:
        ray.get(sup.broadcast.remote("always_die"))
    err = info.value
    assert err.index == 0 and err.attempts == 2 and err.failures == 2
    assert "child 0 failed in 'always_die' after 2 attempt(s)" in str(err)
    assert isinstance(err.child_error, ray.exceptions.RayActorError)

    with pytest.raises(ChildFailedError, match="child 0 failed in 'fail'.*bad input") as info2:
        ray.get(sup.broadcast.remote("fail"))
    assert info2.value.attempts == 1  # the worker's own error is not retried
    ray.kill(sup)


def test_partial_results_survive_a_failing_item(ray_session: None) -> None:
    @ray.remote(num_cpus=0)
    class Picky:
        def check(self, x: int) -> int:
            if x == 3:
                raise ValueError("no threes")
            return x

    sup = supervise(Picky, 2)
    with pytest.raises(ChildFailedError, match="item 3 on child") as info:
        ray.get(sup.scatter.remote("check", range(6)))
    assert info.value.results == [0, 1, 2, None, 4, 5]
    assert info.value.item == 3
    ray.kill(sup)


def test_bad_input_is_named(ray_session: None) -> None:
    with pytest.raises(ValueError, match="num_workers"):
        supervise(Worker, 0)
    sup = supervise(Worker, 1, worker_options=W0)
    with pytest.raises(AttributeError, match="no method 'nope'"):
        ray.get(sup.broadcast.remote("nope"))
    with pytest.raises(TypeError, match="items must be an iterable"):
        ray.get(sup.scatter.remote("square", 5))
    ray.kill(sup)
    with pytest.raises(ValueError, match="detached"):
        supervise(Worker, 1, worker_options={"lifetime": "detached"})


def test_ray_exception_behaviour(ray_session: None) -> None:
    """The error crossing the actor boundary keeps its fields (Ray wraps it)."""
    sup = supervise(Worker, 1, worker_options=W0)
    try:
        ray.get(sup.broadcast.remote("fail"))
    except ChildFailedError as exc:
        assert exc.index == 0 and isinstance(exc.child_error, ValueError)
        assert exc.results == [None]
    else:
        raise AssertionError("expected ChildFailedError")
    ray.kill(sup)
