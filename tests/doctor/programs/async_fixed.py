"""blocking-get-in-async, fixed: await the refs."""

import asyncio

import ray


@ray.remote
def fetch(i):
    return i


@ray.remote
class Poller:
    async def poll(self, n):
        total = 0
        for i in range(n):
            total += await fetch.remote(i)
        return total


async def driver_main():
    return await fetch.remote(1)


def main():
    poller = Poller.remote()
    total = ray.get(poller.poll.remote(3))
    return total, asyncio.run(driver_main())


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    print(main())
