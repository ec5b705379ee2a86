"""actor-sync: n waiters until the driver sets a flag, busy-poll vs a signal actor.

The waiters are n concurrent calls into one async actor (n waiting *tasks* would be
n worker processes on this 2-CPU machine). Latency: from the driver's set to each
waiter's wake-up (same clock); CPU: the seconds the waiting side and the flag actor
burned while waiting (psutil, their processes).
"""

from __future__ import annotations

import asyncio
import statistics
import time

import psutil
import ray

from ray_patterns import Event
from ray_patterns.bench.core import Case, Extra, Variant

POLL_S = 0.05


@ray.remote(num_cpus=0)
class Flag:
    def __init__(self) -> None:
        self.ready = False

    def set(self) -> None:
        self.ready = True

    def clear(self) -> None:
        self.ready = False

    def is_set(self) -> bool:
        return self.ready

    def pid(self) -> int:
        import os

        return os.getpid()


@ray.remote(num_cpus=0)
class Signal:
    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def set(self) -> None:
        self.event.set()

    async def clear(self) -> None:
        self.event.clear()

    async def wait(self) -> None:
        await self.event.wait()

    async def pid(self) -> int:
        import os

        return os.getpid()


@ray.remote(num_cpus=0, max_concurrency=1000)
class Waiters:
    async def pid(self) -> int:
        import os

        return os.getpid()

    async def poll(self, flag: object) -> float:
        while not await flag.is_set.remote():  # type: ignore[attr-defined]
            await asyncio.sleep(POLL_S)
        return time.time()

    async def signal(self, signal: object) -> float:
        await signal.wait.remote()  # type: ignore[attr-defined]
        return time.time()

    async def event(self, event: Event) -> float:
        await event.wait_async()
        return time.time()


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


def variants(quick: bool) -> list[Variant]:
    # quick: 6 runs of a 0.15 s wait (not 3 of 0.3 s): the wake-ups take ~8 ms, and a
    # median of 3 moved 1.2-1.6x between the library and the same code by hand
    n, wait_s = (20, 0.15) if quick else (100, 2.0)
    waiters = Waiters.remote()
    waiter_pid = ray.get(waiters.pid.remote())

    def measure(calls: list[ray.ObjectRef], holder_pid: int, set_flag) -> Extra:  # type: ignore[no-untyped-def]
        pids = [waiter_pid, holder_pid]
        cpu0 = _cpu(pids)
        time.sleep(wait_s)  # the waiters wait this long before the flag flips
        set_at = time.time()
        set_flag()
        woke = ray.get(calls)
        cpu = _cpu(pids) - cpu0
        delays = sorted((w - set_at) * 1000 for w in woke)
        return {
            "wake_latency_ms": statistics.mean(delays),
            "p99_wake_ms": delays[int(0.99 * (len(delays) - 1))],
            "wait_cpu_s": cpu,
        }

    # one flag holder per variant, made here and cleared before each run: creating an
    # actor (a worker process) in every run would double the quick run's time
    flag, signal, event = Flag.remote(), Signal.remote(), Event()
    flag_pid, signal_pid = ray.get([flag.pid.remote(), signal.pid.remote()])
    event_pid = ray.get(event._actor.__ray_call__.remote(lambda self: __import__("os").getpid()))

    def anti() -> Extra:
        ray.get(flag.clear.remote())
        calls = [waiters.poll.remote(flag) for _ in range(n)]
        return measure(calls, flag_pid, lambda: ray.get(flag.set.remote()))

    def better() -> Extra:
        ray.get(signal.clear.remote())
        calls = [waiters.signal.remote(signal) for _ in range(n)]
        return measure(calls, signal_pid, lambda: ray.get(signal.set.remote()))

    def library() -> Extra:
        event.clear()
        return measure([waiters.event.remote(event) for _ in range(n)], event_pid, event.set)

    return [
        Variant(f"poll every {POLL_S * 1000:.0f} ms", "anti", anti),
        Variant("asyncio.Event actor by hand", "better", better),
        Variant("ray_patterns.Event", "library", library),
    ]


CASE = Case(
    "actor-sync",
    "100 waiters (quick: 20) until a flag flips: wake-up latency and CPU spent waiting",
    variants,
    metric="wake_latency_ms",
    label="wake-up latency",
    repeats=(6, 3),
)
