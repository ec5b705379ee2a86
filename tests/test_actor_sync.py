from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import ray
from hypothesis import given, settings
from hypothesis import strategies as st

from ray_patterns._errors import RayPatternsError
from ray_patterns.actor_sync import Barrier, Event, Semaphore, SyncActorDiedError
from tests._helpers import Concurrency, ship_by_value

pytestmark = pytest.mark.usefixtures("ray_session")

ship_by_value(__name__)


def until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@ray.remote
def wait_for(event: Event, timeout: float | None) -> tuple[bool, float]:
    ok = event.wait(timeout=timeout)
    return ok, time.time()


def test_event_wakes_every_waiting_task_and_costs_no_cpu() -> None:
    event = Event()
    assert not event.is_set()
    refs = [wait_for.remote(event, 30) for _ in range(3)]
    until(lambda: event.waiting() == 3)
    assert ray.wait(refs, timeout=0)[0] == []  # all asleep
    set_at = time.time()
    event.set()
    results = ray.get(refs, timeout=20)
    assert all(ok for ok, _ in results)
    assert max(woke for _, woke in results) - set_at < 2.0
    assert event.is_set() and event.wait(timeout=0)  # stays set until cleared
    event.clear()
    assert not event.wait(timeout=0.05)
    assert "CPU" not in ray.get(event._actor.__ray_call__.remote(_resources))  # zero-CPU actor
    event.kill()


def _resources(self: object) -> dict[str, float]:
    return {k: v for k, v in ray.get_runtime_context().get_assigned_resources().items() if v}


def test_event_timeout_returns_false_like_threading() -> None:
    event = Event()
    started = time.monotonic()
    assert ray.get(wait_for.remote(event, 0.2))[0] is False
    assert time.monotonic() - started < 10
    event.kill()


@ray.remote(num_cpus=0)
class AsyncWaiter:
    async def wait(self, event: Event, barrier: Barrier) -> tuple[bool, int]:
        # async code awaits: its event loop keeps serving other calls meanwhile
        return await event.wait_async(timeout=30), await barrier.wait_async(timeout=30)

    async def ping(self) -> str:
        return "pong"


def test_async_actor_awaits_without_blocking_its_loop() -> None:
    event, barrier = Event(), Barrier(2)
    actor = AsyncWaiter.remote()
    ref = actor.wait.remote(event, barrier)
    assert ray.get(actor.ping.remote(), timeout=10) == "pong"  # not blocked by the wait
    event.set()
    assert barrier.wait(timeout=30) in (0, 1)
    ok, index = ray.get(ref, timeout=20)
    assert ok is True and index in (0, 1)
    ray.kill(actor)
    event.kill()
    barrier.kill()


def test_named_event_is_shared_by_name() -> None:
    first = Event(name="ray-patterns-test-ready")
    second = Event(name="ray-patterns-test-ready")
    second.set()
    assert first.is_set()
    first.kill()


@ray.remote
def arrive(barrier: Barrier, timeout: float | None = 30) -> int:
    return barrier.wait(timeout=timeout)


def test_barrier_releases_all_parties_together_and_resets() -> None:
    barrier = Barrier(3)
    for _ in range(2):  # two rounds on the same barrier
        first = [arrive.remote(barrier), arrive.remote(barrier)]
        until(lambda: barrier.waiting() == 2)
        assert ray.wait(first, timeout=0)[0] == []  # two of three: still waiting
        indices = ray.get([*first, arrive.remote(barrier)], timeout=20)
        assert sorted(indices) == [0, 1, 2]
    barrier.kill()


def test_barrier_timeout_withdraws_the_caller() -> None:
    barrier = Barrier(2)
    with pytest.raises(TimeoutError, match="only 1 of the barrier's 2 parties"):
        barrier.wait(timeout=0.1)
    assert barrier.waiting() == 0
    # the withdrawal did not count: the next round still needs two
    ref = arrive.remote(barrier)
    assert sorted([barrier.wait(timeout=20), ray.get(ref, timeout=20)]) == [0, 1]
    barrier.kill()


@ray.remote
def limited(semaphore: Semaphore, counter: Any, i: int) -> int:
    with semaphore:
        ray.get(counter.enter.remote())
        time.sleep(0.1)
        ray.get(counter.leave.remote())
    return i


def test_semaphore_caps_holders_across_tasks() -> None:
    semaphore = Semaphore(2)
    counter = Concurrency.remote()  # type: ignore[attr-defined]
    assert ray.get([limited.remote(semaphore, counter, i) for i in range(8)]) == list(range(8))
    stats = ray.get(counter.stats.remote())
    assert stats["started"] == 8 and stats["peak"] <= 2
    assert semaphore.holders() == 0
    ray.kill(counter)
    semaphore.kill()


def test_semaphore_acquire_timeout_and_over_release() -> None:
    semaphore = Semaphore(1)
    assert semaphore.acquire(timeout=0)
    assert semaphore.acquire(timeout=0.1) is False
    assert semaphore.holders() == 1
    semaphore.release()
    with pytest.raises(ValueError, match="released more times"):
        semaphore.release()

    async def from_async_code() -> bool:
        async with semaphore:
            return semaphore.holders() == 1

    assert asyncio.run(from_async_code())
    assert semaphore.holders() == 0
    semaphore.kill()


def test_a_dead_sync_actor_is_a_clear_error_for_waiters() -> None:
    event = Event()
    ref = wait_for.remote(event, 60)
    until(lambda: event.waiting() == 1)
    event.kill()
    with pytest.raises(ray.exceptions.RayTaskError) as info:
        ray.get(ref, timeout=30)
    assert isinstance(info.value.as_instanceof_cause(), SyncActorDiedError)
    with pytest.raises(SyncActorDiedError, match="Event's actor died") as direct:
        event.set()
    assert isinstance(direct.value, RayPatternsError)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Barrier(0), ValueError, "parties"),
        (lambda: Semaphore(0), ValueError, "value"),
        (lambda: Semaphore(True), ValueError, "value"),
        (lambda: Event().wait(timeout=-1), ValueError, "timeout"),
    ],
)
def test_bad_arguments(make: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make()


@settings(max_examples=3, deadline=None)
@given(st.integers(1, 3))
def test_property_barrier_indices_are_a_permutation(parties: int) -> None:
    barrier = Barrier(parties)
    refs = [arrive.remote(barrier) for _ in range(parties - 1)]
    mine = barrier.wait(timeout=30)
    assert sorted([mine, *ray.get(refs, timeout=30)]) == list(range(parties))
    barrier.kill()
