"""sync-actor-polling-loop, fixed: an async actor awaits inside its loop, so another
call to it gets in while the loop runs."""

import asyncio
import time

import ray


@ray.remote(num_cpus=0)
class Store:
    def __init__(self, n):
        self.left = n

    def next(self):
        self.left -= 1
        return self.left if self.left >= 0 else None


@ray.remote(num_cpus=0)
class Executor:
    def __init__(self, store):
        self.store = store
        self.done = 0

    async def run(self):
        while True:
            task = await self.store.next.remote()
            if task is None:
                return self.done
            await asyncio.sleep(0.01)
            self.done += 1

    async def count(self):
        return self.done


def main():
    executor = Executor.remote(Store.remote(30))
    running = executor.run.remote()
    time.sleep(0.05)
    return ray.get(executor.count.remote()), ray.get(running)  # (< 30, 30)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    print(main())
