"""ray-get-loop, fixed by hand: submit every task first, then one ray.get on the list."""

import time

import ray


@ray.remote
def work(i):
    time.sleep(0.05)  # stands for 50 ms of real work
    return i * i


def main(n=20):
    refs = [work.remote(i) for i in range(n)]  # all n tasks are queued at once
    return ray.get(refs)  # one wait for all of them, results in input order


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
