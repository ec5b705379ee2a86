"""actor-sync, fixed by hand: an async actor holds an asyncio.Event; waiters sleep in one call."""

import asyncio
import time

import ray


@ray.remote(num_cpus=0)
class Signal:
    def __init__(self):
        self.event = asyncio.Event()

    async def set(self):
        self.event.set()

    async def wait(self):
        await self.event.wait()  # an async actor serves many waiters at once


@ray.remote
def worker(signal, i):
    ray.get(signal.wait.remote())  # one call, answered when the signal is set
    return i * i


def main(n=3):
    signal = Signal.remote()
    refs = [worker.remote(signal, i) for i in range(n)]
    time.sleep(0.5)  # stands for the setup the workers wait for
    ray.get(signal.set.remote())
    return ray.get(refs)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
