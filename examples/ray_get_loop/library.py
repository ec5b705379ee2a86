"""ray-get-loop, with ray-patterns: bounded_map keeps the CPUs busy without a get per task."""

import time

import ray

import ray_patterns as rp


@ray.remote
def work(i):
    time.sleep(0.05)  # stands for 50 ms of real work
    return i * i


def main(n=20):
    # at most max_in_flight tasks pending (default: twice the CPUs), any input length
    return list(rp.bounded_map(work, range(n), ordered=True))


if __name__ == "__main__":
    print(main())  # bounded_map starts Ray (or joins RAY_ADDRESS) if needed
