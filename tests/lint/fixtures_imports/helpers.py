"""Tasks defined here and submitted from pipeline.py (found through its imports)."""

import numpy as np
import ray


@ray.remote
def double(x):
    return x * 2


@ray.remote
def heavy(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


@ray.remote
def make_block(i):
    return np.zeros((1024, 1024), dtype=np.float32)


@ray.remote
def summary(i):
    values = list(range(i))
    return sum(values)


def plain(x):
    return x * 2
