"""closure-capture, other fix: build the object inside the task from a small recipe."""

import numpy as np
import ray


def make_table(size):
    # a factory: only its name and `size` are pickled, never the array
    return np.arange(size, dtype=np.float64)


@ray.remote
def lookup(i, size):
    return float(make_table(size)[i])


def main(n=8):
    return ray.get([lookup.remote(i, 1 << 19) for i in range(n)])


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
