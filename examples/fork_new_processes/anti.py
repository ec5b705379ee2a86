"""fork-new-processes, anti-pattern: a Ray task forks child processes."""

import math
import multiprocessing

import ray


# max_calls=1: the forked worker is not reused; max_retries=0: a crash is reported, not retried
@ray.remote(max_calls=1, max_retries=0)
def factorials(n):
    # the children are copies of a Ray worker, with its threads and connections
    # to Ray in an unknown state: they can hang, crash, or corrupt the worker
    with multiprocessing.get_context("fork").Pool(2) as pool:
        return pool.map(math.factorial, range(n))


def main(n=6, timeout=60):
    ref = factorials.remote(n)
    try:
        return ray.get(ref, timeout=timeout)  # a timeout, so a hang cannot last
    except ray.exceptions.GetTimeoutError:
        ray.cancel(ref, force=True)  # the forked pool hung: end the worker
        return None


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
