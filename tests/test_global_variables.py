"""global-variables: shared state in an actor, on a real Ray."""

from __future__ import annotations

import uuid

import pytest
import ray

from ray_patterns.global_variables import shared_state
from tests._helpers import ship_by_value

global_var = 3

ship_by_value(__name__)


@ray.remote(num_cpus=0)
class _Reader:
    def read(self) -> int:
        return global_var + 3  # noqa: RAY101 - the anti-pattern under test


@ray.remote(num_cpus=0)
class _ClassVarCounter:
    count = 0

    def bump(self) -> int:
        type(self).count += 1  # noqa: RAY101 - the anti-pattern under test
        return type(self).count


@ray.remote
def _add(name: str, times: int) -> int:
    state = shared_state(name)  # get or create: the first task to get here creates it
    last = 0
    for _ in range(times):
        last = ray.get(state.increment.remote("n"))
    return last


def _unique() -> str:
    return f"gv-{uuid.uuid4().hex[:8]}"


def test_stale_global_is_the_anti_pattern(ray_session: None) -> None:
    global global_var
    actor = _Reader.remote()
    ray.get(actor.read.remote())  # class captured with global_var == 3
    global_var = 4
    try:
        # The handbook's point: the actor still computes with 3.
        assert ray.get(actor.read.remote()) == 6
        state = shared_state(_unique())
        ray.get(state.set.remote("global_var", 4))
        assert ray.get(state.get.remote("global_var")) + 3 == 7
        ray.kill(state)
    finally:
        global_var = 3
        ray.kill(actor)


def test_class_variables_are_not_shared(ray_session: None) -> None:
    a, b = _ClassVarCounter.remote(), _ClassVarCounter.remote()
    assert ray.get([a.bump.remote(), a.bump.remote()]) == [1, 2]
    assert ray.get(b.bump.remote()) == 1  # b's class is its own copy
    ray.kill(a)
    ray.kill(b)


def test_driver_created_state_counts_exactly(ray_session: None) -> None:
    name = _unique()
    state = shared_state(name, initial={"n": 0})
    ray.get([_add.remote(name, 50) for _ in range(20)])
    assert ray.get(state.get.remote("n")) == 1000
    ray.kill(state)


def test_task_created_state_counts_exactly_and_outlives_its_creator(ray_session: None) -> None:
    name = _unique()
    with pytest.raises(ValueError):
        ray.get_actor(name)  # nobody created it yet
    lasts = ray.get([_add.remote(name, 50) for _ in range(20)])
    assert max(lasts) == 1000
    state = ray.get_actor(name)  # still there after every task finished
    assert ray.get(state.get.remote("n")) == 1000
    assert shared_state(name)._actor_id == state._actor_id  # get, not create
    ray.kill(state)


def test_update_is_atomic_and_snapshot_copies(ray_session: None) -> None:
    state = shared_state(_unique())
    refs = [state.update.remote("seen", lambda s, i=i: (s or frozenset()) | {i}) for i in range(30)]
    ray.get(refs)
    snap = ray.get(state.snapshot.remote())
    assert snap == {"seen": frozenset(range(30))}
    ray.get(state.set.remote("x", [1]))
    assert ray.get(state.keys.remote()) == ["seen", "x"]
    assert ray.get(state.delete.remote("x")) is True
    assert ray.get(state.delete.remote("x")) is False
    with pytest.raises(TypeError, match="not a number"):
        ray.get(state.increment.remote("seen"))
    ray.kill(state)


def test_usable_from_an_actor(ray_session: None) -> None:
    name = _unique()

    @ray.remote(num_cpus=0)
    class User:
        def go(self) -> int:
            return ray.get(shared_state(name).increment.remote("k", 5))

    user = User.remote()
    assert ray.get(user.go.remote()) == 5
    assert ray.get(shared_state(name).get.remote("k")) == 5
    ray.kill(user)
    ray.kill(shared_state(name))


def test_bad_input_is_named(ray_session: None) -> None:
    with pytest.raises(ValueError, match="non-empty string"):
        shared_state("")
    with pytest.raises(TypeError, match="initial must be a dict"):
        shared_state("x", initial=[1])  # type: ignore[arg-type]


def test_job_scoped_state_ends_with_its_job(ray_session: None) -> None:
    """Created by another driver (job): it outlives that job's task, then exits with the job.

    The same job also creates a detached state, which must stay after the job ends.
    """
    import subprocess
    import sys
    import textwrap
    import time

    name, kept, ns = _unique(), _unique(), "rp-test-gv"
    script = textwrap.dedent(
        f"""
        import ray
        from ray_patterns.global_variables import shared_state

        @ray.remote
        def create(name, detached):
            state = shared_state(name, namespace={ns!r}, detached=detached)
            return ray.get(state.increment.remote("n"))

        ray.init(address={ray.get_runtime_context().gcs_address!r}, log_to_driver=False)
        assert ray.get([create.remote({name!r}, False), create.remote({kept!r}, True)]) == [1, 1]
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    # The other job is over; its state exits within a few watch intervals.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            ray.get_actor(name, namespace=ns)
        except ValueError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("job-scoped shared state outlived its job by 30 s")
    # The detached one stays (it was checked after the job-scoped one had gone).
    state = ray.get_actor(kept, namespace=ns)
    assert ray.get(state.get.remote("n")) == 1
    ray.kill(state)
