"""blocking-get-in-async, anti: ray.get inside an async actor method and an async driver."""

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
            total += ray.get(fetch.remote(i))  # FINDING blocking-get-in-async worker
        return total


async def driver_main():
    return ray.get(fetch.remote(1))  # FINDING blocking-get-in-async driver


def main():
    poller = Poller.remote()
    total = ray.get(poller.poll.remote(3))
    return total, asyncio.run(driver_main())


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    print(main())
