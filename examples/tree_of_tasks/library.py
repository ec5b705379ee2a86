"""tree-of-tasks, with ray-patterns: divide_and_conquer; no task waits on its children."""

import functools
import random

import ray_patterns as rp


def partition(collection):
    collection = list(collection)
    pivot = collection.pop()
    lesser = [x for x in collection if x <= pivot]
    greater = [x for x in collection if x > pivot]
    return [lesser, [pivot], greater]


def concatenate(parts):
    return [x for part in parts for x in part]


def small(collection, threshold):
    return len(collection) <= threshold


def main(n=400_000, threshold=100_000, seed=0):
    data = random.Random(seed).sample(range(10 * n), n)
    # children are combined by tasks that take their refs, so no worker sits in ray.get
    return rp.divide_and_conquer(
        data,
        split=partition,
        solve=sorted,
        combine=concatenate,
        is_base=functools.partial(small, threshold=threshold),
    )


if __name__ == "__main__":
    print(main()[:10])
