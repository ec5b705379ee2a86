"""submission-order, with ray-patterns: as_completed yields each ref when it is ready."""

import time

import ray

import ray_patterns as rp


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
    refs = [work.remote(s) for s in durations(n)]
    processed = []
    # everything already finished is taken in one ray.wait, so n refs cost O(n)
    for ref in rp.as_completed(refs):
        process(ray.get(ref), processed)
    return processed


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
