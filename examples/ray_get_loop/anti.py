"""ray-get-loop, anti-pattern: ray.get inside the submitting loop runs one task at a time."""

import time

import ray


@ray.remote
def work(i):
    time.sleep(0.05)  # stands for 50 ms of real work
    return i * i


def main(n=20):
    results = []
    for i in range(n):
        # blocks until task i is done before task i + 1 is even submitted
        results.append(ray.get(work.remote(i)))
    return results


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
