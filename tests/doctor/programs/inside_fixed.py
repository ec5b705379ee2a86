"""The fixes of ``inside_anti.py``: the same work, and nothing for the doctor to report."""

import asyncio
import multiprocessing
import os
import time

import numpy as np
import ray


@ray.remote
def leaf(seconds):
    time.sleep(seconds)
    return seconds


@ray.remote
def batch(xs):
    return sum(xs)


@ray.remote
def size_of(array):
    return array.nbytes


@ray.remote
def total(*values):
    return sum(values)


@ray.remote
def parent(n):
    return ray.get([leaf.remote(0.02) for _ in range(n)])


@ray.remote
def fan_out(n):
    refs = [batch.remote(list(range(i, min(i + 100, n)))) for i in range(0, n, 100)]
    return sum(ray.get(refs))


@ray.remote
def as_they_finish():
    refs = [leaf.remote(s) for s in (0.4, 0.02, 0.02, 0.02, 0.02)]
    out = []
    while refs:
        ready, refs = ray.wait(refs)
        out.extend(ray.get(ready))
    return out


@ray.remote
def returns_values():
    return [0, 1, 2]


@ray.remote
def spawns():
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(abs, (-1,)) == 1


@ray.remote
def passes_large_by_ref():
    data = ray.put(np.ones(1 << 18))
    return sum(ray.get([size_of.remote(data) for _ in range(4)]))


@ray.remote(num_returns="streaming")
def big_items():
    for i in range(4):
        yield np.full(1 << 17, float(i))


@ray.remote
def takes_big_items():
    return sum(float(ray.get(ref)[0]) for ref in big_items.remote())


@ray.remote
class Signal:  # one actor for three roles: each actor is a process to start
    def __init__(self):
        self.event = asyncio.Event()

    def send(self):
        self.event.set()

    async def wait(self):
        await self.event.wait()
        return True

    async def add(self, x):
        await asyncio.sleep(0.02)
        return x

    async def poll(self, seconds):
        return await leaf.remote(seconds)


@ray.remote
class Waiter:
    def wait_for(self, signal):
        return ray.get(signal.wait.remote())

    def sum_calls(self, flag):
        return sum(ray.get([flag.add.remote(i) for i in range(5)]))


def main():
    if not ray.is_initialized():  # a cluster's RAY_ADDRESS, else a local Ray
        ray.init(**({} if os.environ.get("RAY_ADDRESS") else {"num_cpus": 2}), log_to_driver=False)
    assert ray.get(parent.remote(4)) == [0.02] * 4
    assert ray.get(fan_out.remote(300)) == sum(range(300))
    assert len(ray.get(as_they_finish.remote())) == 5
    assert ray.get(total.remote(leaf.remote(0.0), leaf.remote(0.0))) == 0.0
    assert ray.get(returns_values.remote()) == [0, 1, 2]
    assert ray.get(spawns.remote())
    assert ray.get(passes_large_by_ref.remote()) == 4 * (1 << 21)
    assert ray.get(takes_big_items.remote()) == 6.0
    signal, waiter = Signal.remote(), Waiter.remote()
    waiting = waiter.wait_for.remote(signal)
    signal.send.remote()
    assert ray.get(waiting)
    assert ray.get(waiter.sum_calls.remote(signal)) == 10
    assert ray.get(signal.poll.remote(0.05)) == 0.05
    print("inside_fixed done")


if __name__ == "__main__":
    main()
