"""unbounded-submission, fixed: at most 8 tasks in flight (backpressure with ray.wait)."""

import time

import ray


@ray.remote
def work(i):
    time.sleep(0.012)
    return i


def main():
    in_flight, total = [], 0
    for i in range(150):
        if len(in_flight) >= 8:
            ready, in_flight = ray.wait(in_flight, num_returns=1)
            total += ray.get(ready[0])
        in_flight.append(work.remote(i))
    return total + sum(ray.get(in_flight))


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
