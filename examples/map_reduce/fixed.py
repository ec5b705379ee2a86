"""map-reduce, by hand: map tasks on batches, then one reduce task that takes their refs."""

import ray


def score(x):
    return sum(i * i for i in range(x % 100))  # the per-item work


@ray.remote
def map_batch(items):
    return sum(score(x) for x in items)  # reducing inside the map task keeps results small


@ray.remote
def reduce_partials(*partials):
    return sum(partials)


def main(n=20_000, batch=1_000):
    items = list(range(n))
    partial_refs = [map_batch.remote(items[i : i + batch]) for i in range(0, n, batch)]
    # the reduce task receives the values straight from the object store
    return ray.get(reduce_partials.remote(*partial_refs))


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
