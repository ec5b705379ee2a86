"""submission-order, fixed by hand: process each result as soon as it is ready."""

import time

import ray


@ray.remote
def work(seconds):
    time.sleep(seconds)
    return seconds


def process(value, processed):
    processed.append(value)  # stands for real work on each result


def durations(n):
    # the first task is a straggler; the others finish long before it
    return [0.5] + [0.02] * (n - 1)


def main(n=10):
    unfinished = [work.remote(s) for s in durations(n)]
    processed = []
    while unfinished:
        # returns as soon as any one ref is ready
        ready, unfinished = ray.wait(unfinished, num_returns=1)
        process(ray.get(ready[0]), processed)
    return processed


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
