"""submission-order, anti-pattern: ray.get each ref in submission order."""

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
    refs = [work.remote(s) for s in durations(n)]
    processed = []
    for ref in refs:
        # waits for the straggler while the finished results sit unprocessed
        process(ray.get(ref), processed)
    return processed


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
