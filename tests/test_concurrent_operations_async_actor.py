"""concurrent-operations-async-actor: PollingActor on a real Ray."""

from __future__ import annotations

import asyncio
import time

import pytest
import ray

from ray_patterns.concurrent_operations_async_actor import PollingActor, run_blocking


@ray.remote(num_cpus=0)
class Busy(PollingActor):
    """Polls flat out: CPU work with no await inside poll()."""

    def __init__(self) -> None:
        self.total = 0

    async def poll(self) -> None:
        t_end = time.perf_counter() + 0.002
        while time.perf_counter() < t_end:
            self.total += 1

    async def ping(self) -> int:
        return 1


@ray.remote(num_cpus=0)
class Flaky(PollingActor):
    backoff_initial = 0.01
    backoff_max = 0.05
    autostart = False

    def __init__(self) -> None:
        self.calls = 0

    async def poll(self) -> None:
        self.calls += 1
        if self.calls in (3, 4):
            raise RuntimeError(f"boom {self.calls}")
        await asyncio.sleep(0.001)


@ray.remote(num_cpus=0)
class Blocking(PollingActor):
    async def poll(self) -> None:
        await run_blocking(time.sleep, 0.2)  # blocking code in a thread

    async def ping(self) -> str:
        return "pong"


@ray.remote(num_cpus=0)
class Producer:
    def __init__(self) -> None:
        self.n = 0

    def fetch(self) -> int:
        self.n += 1
        return self.n


@ray.remote(num_cpus=0)
class Consumer(PollingActor):
    def __init__(self, producer: object) -> None:
        self.producer = producer
        self.seen: list[int] = []

    async def poll(self) -> None:
        self.seen.append(await self.producer.fetch.remote())  # type: ignore[attr-defined]

    async def count(self) -> int:
        return len(self.seen)


def _wait_status(actor: object, pred: object, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        st = ray.get(actor.status.remote())  # type: ignore[attr-defined]
        if pred(st) or time.monotonic() > deadline:  # type: ignore[operator]
            return st  # type: ignore[no-any-return]
        time.sleep(0.05)


def test_other_calls_answer_while_the_loop_runs_flat_out(ray_session: None) -> None:
    actor = Busy.remote()
    assert ray.get(actor.ping.remote()) == 1  # first call starts the loop
    latencies = []
    for _ in range(100):
        t0 = time.perf_counter()
        ray.get(actor.ping.remote())
        latencies.append(time.perf_counter() - t0)
    st = ray.get(actor.status.remote())
    assert st["running"] and st["iterations"] > 100
    p99 = sorted(latencies)[98]
    assert p99 < 1.0, f"p99 {p99:.3f}s"
    stopped = ray.get(actor.stop.remote())
    assert stopped["running"] is False
    it = stopped["iterations"]
    time.sleep(0.2)
    assert ray.get(actor.status.remote())["iterations"] == it  # really stopped
    ray.kill(actor)


def test_errors_are_counted_and_the_loop_restarts(ray_session: None) -> None:
    actor = Flaky.remote()
    assert ray.get(actor.status.remote())["running"] is False  # autostart off
    assert ray.get(actor.start.remote()) is True
    assert ray.get(actor.start.remote()) is False  # already running
    st = _wait_status(actor, lambda s: s["iterations"] >= 20)
    assert st["running"] is True
    assert st["errors"] == 2
    assert st["last_error"] == "RuntimeError: boom 4"
    assert "Traceback" in st["last_error_traceback"] and "boom 4" in st["last_error_traceback"]
    assert st["consecutive_errors"] == 0
    ray.kill(actor)


def test_await_ref_and_blocking_helper_keep_the_actor_responsive(ray_session: None) -> None:
    producer = Producer.remote()
    consumer = Consumer.remote(producer)
    ray.get(consumer.start.remote())
    deadline = time.monotonic() + 20
    while ray.get(consumer.count.remote()) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ray.get(consumer.count.remote()) >= 20

    blocking = Blocking.remote()
    ray.get(blocking.start.remote())
    t0 = time.perf_counter()
    for _ in range(10):
        assert ray.get(blocking.ping.remote()) == "pong"
    assert time.perf_counter() - t0 < 1.5  # a 0.2 s sleep on the loop would take >= 2 s
    for a in (producer, consumer, blocking):
        ray.kill(a)


def test_missing_poll_is_reported_in_status(ray_session: None) -> None:
    @ray.remote(num_cpus=0)
    class Empty(PollingActor):
        backoff_initial = 0.01

    actor = Empty.remote()
    ray.get(actor.start.remote())
    st = _wait_status(actor, lambda s: s["errors"] >= 1)
    assert "must override" in st["last_error"]
    ray.kill(actor)


def test_run_blocking_runs_in_another_thread() -> None:
    import threading

    main = threading.get_ident()
    assert asyncio.run(run_blocking(threading.get_ident)) != main
    with pytest.raises(ZeroDivisionError):
        asyncio.run(run_blocking(lambda: 1 / 0))


@ray.remote(num_cpus=0)
class Ticker(PollingActor):
    poll_interval = 0.005

    async def ping(self) -> str:
        return "pong"

    async def poll(self) -> None:
        pass


def test_stop_is_final_until_start(ray_session: None) -> None:
    actor = Ticker.remote()
    assert ray.get(actor.ping.remote()) == "pong"  # the first call starts the loop
    assert _wait_status(actor, lambda s: s["iterations"] >= 3)["running"] is True
    stopped = ray.get(actor.stop.remote())
    assert stopped["running"] is False
    for _ in range(3):  # no later call of any kind brings the loop back
        assert ray.get(actor.ping.remote()) == "pong"
        st = ray.get(actor.status.remote())
        assert st["running"] is False, st
    time.sleep(0.05)
    assert ray.get(actor.status.remote())["iterations"] == stopped["iterations"]
    assert ray.get(actor.start.remote()) is True  # start() does
    assert _wait_status(actor, lambda s: s["iterations"] > stopped["iterations"])["running"]
    ray.kill(actor)


def test_stop_before_the_first_call_keeps_the_loop_off(ray_session: None) -> None:
    actor = Ticker.remote()
    assert ray.get(actor.stop.remote())["running"] is False
    assert ray.get(actor.ping.remote()) == "pong"
    assert ray.get(actor.status.remote())["running"] is False
    ray.kill(actor)
