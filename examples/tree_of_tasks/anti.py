"""tree-of-tasks, without the pattern: a sequential quicksort on one core."""

import random


def partition(collection):
    pivot = collection.pop()
    greater, lesser = [], []
    for element in collection:
        if element > pivot:
            greater.append(element)
        else:
            lesser.append(element)
    return lesser, pivot, greater


def quick_sort(collection, threshold):
    if len(collection) <= threshold:
        return sorted(collection)
    lesser, pivot, greater = partition(collection)
    return quick_sort(lesser, threshold) + [pivot] + quick_sort(greater, threshold)


def main(n=400_000, threshold=100_000, seed=0):
    data = random.Random(seed).sample(range(10 * n), n)
    return quick_sort(data, threshold)


if __name__ == "__main__":
    print(main()[:10])
