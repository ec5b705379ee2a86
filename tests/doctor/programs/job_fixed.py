"""The fixed job: the same work batched, submitted before one get, and bounded."""

import time

import ray

from ray_patterns import bounded_map


@ray.remote
def tiny_batch(xs):
    return [x + 1 for x in xs]


@ray.remote
def slow(x):
    time.sleep(0.05)
    return x


@ray.remote
def piled(x):
    time.sleep(0.01)
    return x


def main():
    batches = ray.get([tiny_batch.remote(range(i, i + 100)) for i in range(0, 300, 100)])
    total = sum(sum(b) for b in batches)
    total += sum(ray.get([slow.remote(i) for i in range(6)]))
    return total + sum(bounded_map(piled, range(120), max_in_flight=8))


if __name__ == "__main__":
    ray.init()
    print("result", main())
