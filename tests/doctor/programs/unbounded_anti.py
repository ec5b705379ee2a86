"""unbounded-submission, anti: every task submitted at once (tests: limit 50 pending)."""

import time

import ray


@ray.remote
def work(i):
    time.sleep(0.012)
    return i


def main():
    refs = [work.remote(i) for i in range(150)]  # FINDING unbounded-submission
    return sum(ray.get(refs))


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
