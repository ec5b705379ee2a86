"""submission-order, fixed: process each result as soon as it is ready (ray.wait)."""

import time

import ray


@ray.remote
def work(seconds):
    time.sleep(seconds)
    return seconds


def main():
    unfinished = [work.remote(s) for s in [0.6, 0.02, 0.02, 0.02, 0.02, 0.02]]
    done = []
    while unfinished:
        ready, unfinished = ray.wait(unfinished, num_returns=1)
        done.append(ray.get(ready[0]))
    return done


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
