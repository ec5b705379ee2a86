"""fork-new-processes, fixed: start the children with spawn (or use Ray tasks instead)."""

import math
import multiprocessing

import ray


@ray.remote
def factorials(n):
    # spawned children are fresh interpreters: nothing of the Ray worker is copied
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        return pool.map(math.factorial, range(n))


def main(n=6):
    return ray.get(factorials.remote(n), timeout=60)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
