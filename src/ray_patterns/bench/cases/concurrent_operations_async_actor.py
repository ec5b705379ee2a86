"""concurrent-operations-async-actor: latency of other calls while a polling loop runs.

Metric ``p90_ms``: the latency of trivial calls made while the actor's polling
loop is busy (``p99_ms`` beside it: the p99 of 120 calls is the second-slowest, one
moment of this machine's jitter, which moved library/by-hand 0.8-1.25x between runs).
The loop polls a source actor. The sync actor (anti) runs the
loop in a method, so calls queue until the loop ends (bounded at ``loop_s``
here; a real ``while True`` never answers). The async actors answer at once. The
peer row is the handbook's own async loop yielding with ``await
asyncio.sleep(0)`` between CPU-bound polls: on Ray 2.60 its calls wait for the
whole loop too (capped at ``loop_s``), see the module docs of the library.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import ray

from ray_patterns import PollingActor
from ray_patterns._ray import ensure_ray
from ray_patterns.bench.cases._work import spin
from ray_patterns.bench.core import Case, Extra, Variant


@ray.remote(num_cpus=0)
class _Source:
    def fetch(self) -> int:
        spin(0.001)  # a little work per poll, like a database query
        return 1


@ray.remote(num_cpus=0)
class _SyncPoller:
    def __init__(self, source: Any) -> None:
        self.source = source
        self.polls = 0

    def loop(self, seconds: float) -> int:
        end = time.monotonic() + seconds
        while time.monotonic() < end:  # the handbook's while True, bounded here
            self.polls += ray.get(self.source.fetch.remote())
        return self.polls

    def other(self) -> int:
        return self.polls


@ray.remote(num_cpus=0)
class _AsyncPoller:
    """The fix by hand: async actor, ``await ref``, loop as a background task."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.polls = 0
        self.running = False

    async def start(self) -> None:
        self.running = True
        asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while self.running:
            self.polls += await self.source.fetch.remote()

    async def stop(self) -> int:
        self.running = False
        return self.polls

    async def other(self) -> int:
        return self.polls


@ray.remote(num_cpus=0)
class _Sleep0Poller:
    """The handbook's ``await asyncio.sleep(0)`` yield after CPU-bound polls."""

    def __init__(self) -> None:
        self.polls = 0

    async def loop(self, seconds: float) -> int:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            spin(0.001)
            self.polls += 1
            await asyncio.sleep(0)
        return self.polls

    async def other(self) -> int:
        return self.polls


@ray.remote(num_cpus=0)
class _LibraryPoller(PollingActor):
    autostart = False

    def __init__(self, source: Any) -> None:
        self.source = source
        self.polls = 0

    async def poll(self) -> None:
        self.polls += await self.source.fetch.remote()

    async def other(self) -> int:
        return self.polls


def _latencies(actor: Any, calls: int, cap_s: float) -> list[float]:
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        try:
            ray.get(actor.other.remote(), timeout=cap_s)
        except ray.exceptions.GetTimeoutError:
            pass  # counted at the cap; the call is still queued
        out.append(time.perf_counter() - t0)
    return out


def _row(lat: list[float], polls: int) -> Extra:
    ordered = sorted(lat)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000

    return {
        "p50_ms": statistics.median(lat) * 1000,
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "polls": float(polls),
    }


def variants(quick: bool) -> list[Variant]:
    ensure_ray()
    loop_s = 0.2 if quick else 3.0  # the sync actor and the sleep(0) peer answer after it
    # quick: 5 runs of 120 calls, not 3 of 200, so one run with a slow moment of the
    # machine is not the median
    calls = 120 if quick else 200
    source = _Source.remote()
    sync = _SyncPoller.remote(source)
    hand = _AsyncPoller.remote(source)
    sleep0 = _Sleep0Poller.remote()
    lib = _LibraryPoller.remote(source)
    ray.get([a.other.remote() for a in (sync, hand, sleep0, lib)])

    def anti() -> Extra:
        done = sync.loop.remote(loop_s)
        time.sleep(0.05)  # the loop is running
        lat = _latencies(sync, 1, loop_s * 2)  # one call: it waits out the loop
        return _row(lat, ray.get(done))

    def better() -> Extra:
        ray.get(hand.start.remote())
        time.sleep(0.05)
        lat = _latencies(hand, calls, loop_s)
        return _row(lat, ray.get(hand.stop.remote()))

    def library() -> Extra:
        ray.get(lib.start.remote())
        time.sleep(0.05)
        lat = _latencies(lib, calls, loop_s)
        st = ray.get(lib.stop.remote())
        return _row(lat, st["iterations"])

    def peer() -> Extra:
        done = sleep0.loop.remote(loop_s)
        time.sleep(0.05)
        lat = _latencies(sleep0, 1, loop_s * 2)
        return _row(lat, ray.get(done))

    return [
        Variant("sync actor, loop in a method", "anti", anti),
        Variant("async actor by hand (await ref)", "better", better),
        Variant("PollingActor", "library", library),
        Variant("async, CPU poll + sleep(0)", "peer", peer),
    ]


CASE = Case(
    "concurrent-operations-async-actor",
    "latency of a trivial call while the actor's polling loop runs (p90, ms)",
    variants,
    metric="p90_ms",
    label="p90 latency",
    repeats=(5, 3),
)
