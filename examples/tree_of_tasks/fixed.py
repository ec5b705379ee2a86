"""tree-of-tasks, by hand (the handbook's code): a task submits tasks of itself."""

import random

import ray


def partition(collection):
    pivot = collection.pop()
    greater, lesser = [], []
    for element in collection:
        if element > pivot:
            greater.append(element)
        else:
            lesser.append(element)
    return lesser, pivot, greater


@ray.remote
def quick_sort_distributed(collection, threshold):
    # the page sorts in place below 200,000 items: a task should run ~1 s or more
    if len(collection) <= threshold:
        return sorted(collection)
    lesser, pivot, greater = partition(collection)
    lesser = quick_sort_distributed.remote(lesser, threshold)
    greater = quick_sort_distributed.remote(greater, threshold)
    # this task blocks (holding its worker) until both children are done
    return ray.get(lesser) + [pivot] + ray.get(greater)


def main(n=400_000, threshold=100_000, seed=0):
    data = random.Random(seed).sample(range(10 * n), n)
    return ray.get(quick_sort_distributed.remote(data, threshold))


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main()[:10])
