"""memory-killed-tasks, anti: Ray's memory monitor kills the tasks.

Run with ``RAY_memory_usage_threshold`` below what the node already uses, so the
monitor kills every running task at once, without any real memory pressure."""

import time

import ray


@ray.remote(max_retries=1)
def hold(i):
    time.sleep(5)  # killed long before it ends
    return i


def main():
    refs = [hold.remote(i) for i in range(2)]  # FINDING memory-killed-tasks
    results = []
    for ref in refs:
        try:
            results.append(ray.get(ref))
        except ray.exceptions.OutOfMemoryError:
            results.append(None)
    return results


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    print("results", main())
