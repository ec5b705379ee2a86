"""overlapping-computation-communication: prefetch on a real Ray."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import ray

from ray_patterns.overlapping_computation_communication import NO_SENTINEL, aprefetch, prefetch
from tests._helpers import ship_by_value

ship_by_value(__name__)


@ray.remote(num_cpus=0)
class WorkQueue:
    def __init__(self, n: int, delay: float = 0.0, bad: int | None = None):
        self.items = list(range(n))
        self.delay = delay
        self.bad = bad
        self.calls = 0

    def get_work_item(self) -> Any:
        self.calls += 1
        time.sleep(self.delay)
        if not self.items:
            return None
        item = self.items.pop(0)
        if item == self.bad:
            raise ValueError(f"item {item} is broken")
        return item

    def num_calls(self) -> int:
        return self.calls


@ray.remote(num_cpus=0)
def consume_in_task(queue: Any) -> list[int]:
    return [x * 10 for x in prefetch(queue.get_work_item.remote, depth=2)]


@ray.remote(num_cpus=0)
class AsyncConsumer:
    async def run(self, queue: Any) -> list[int]:
        return [x async for x in aprefetch(queue.get_work_item.remote, depth=2)]


@ray.remote(num_cpus=0)
class SyncConsumer:
    def run(self, queue: Any) -> list[int]:
        return list(prefetch(queue.get_work_item))  # an ActorMethod works too


def test_driver_gets_every_item_in_order_and_stops_at_sentinel(ray_session: None) -> None:
    q = WorkQueue.remote(20)
    assert list(prefetch(q.get_work_item.remote, depth=3)) == list(range(20))
    # 20 items + the sentinel + at most depth-1... depth fetches issued past the end.
    assert 21 <= ray.get(q.num_calls.remote()) <= 24


def test_keeps_depth_fetches_in_flight_while_processing(ray_session: None) -> None:
    q = WorkQueue.remote(100)
    it = prefetch(q.get_work_item.remote, depth=3)
    assert next(it) == 0
    # While the caller holds item 0, three more fetches were already submitted.
    assert ray.get(q.num_calls.remote()) == 4
    pending = it.unconsumed()
    assert ray.get(pending) == [1, 2, 3]  # not lost if we stop early
    assert list(it) == []


def test_overlap_is_faster_than_fetch_then_process(ray_session: None) -> None:
    n, delay = 15, 0.05
    q1 = WorkQueue.remote(n, delay)
    ray.get(q1.num_calls.remote())  # actor started
    t0 = time.perf_counter()
    while (item := ray.get(q1.get_work_item.remote())) is not None:
        time.sleep(delay)
    serial = time.perf_counter() - t0
    q2 = WorkQueue.remote(n, delay)
    ray.get(q2.num_calls.remote())
    t0 = time.perf_counter()
    seen = []
    for item in prefetch(q2.get_work_item.remote):
        seen.append(item)
        time.sleep(delay)
    overlapped = time.perf_counter() - t0
    assert seen == list(range(n))
    assert overlapped < serial  # generous: the bench measures the real ratio


def test_error_surfaces_at_its_item_and_iteration_continues(ray_session: None) -> None:
    q = WorkQueue.remote(6, bad=3)
    it = prefetch(q.get_work_item.remote, depth=2)
    got = [next(it), next(it), next(it)]
    assert got == [0, 1, 2]
    with pytest.raises(ValueError, match="item 3 is broken"):
        next(it)
    assert list(it) == [4, 5]


def test_custom_sentinel_and_no_sentinel(ray_session: None) -> None:
    @ray.remote(num_cpus=0)
    class Countdown:
        def __init__(self) -> None:
            self.n = 5

        def next(self) -> int:
            self.n -= 1
            return self.n

    c = Countdown.remote()
    assert list(prefetch(c.next.remote, until=0)) == [4, 3, 2, 1]
    c2 = Countdown.remote()
    it = prefetch(c2.next.remote, until=NO_SENTINEL)
    assert [next(it) for _ in range(7)] == [4, 3, 2, 1, 0, -1, -2]


def test_works_in_a_task_and_in_sync_and_async_actors(ray_session: None) -> None:
    assert ray.get(consume_in_task.remote(WorkQueue.remote(5))) == [0, 10, 20, 30, 40]
    assert ray.get(AsyncConsumer.remote().run.remote(WorkQueue.remote(5))) == [0, 1, 2, 3, 4]
    assert ray.get(SyncConsumer.remote().run.remote(WorkQueue.remote(3))) == [0, 1, 2]


def test_async_variant_in_the_driver(ray_session: None) -> None:
    async def main() -> list[int]:
        return [x async for x in aprefetch(WorkQueue.remote(4).get_work_item.remote)]

    assert asyncio.run(main()) == [0, 1, 2, 3]


def test_bad_input_is_named(ray_session: None) -> None:
    with pytest.raises(ValueError, match="depth"):
        prefetch(lambda: None, depth=0)
    with pytest.raises(TypeError, match="not an ObjectRef"):
        next(prefetch(lambda: 42))
    with pytest.raises(TypeError, match="callable"):
        prefetch(42)
