"""ray-get-loop, anti: each result is fetched before the next task is submitted."""

import time

import ray


@ray.remote
def work(i):
    time.sleep(0.02)
    return i


def main():
    results = []
    for i in range(8):
        results.append(ray.get(work.remote(i)))  # FINDING ray-get-loop
    return results


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    assert main() == list(range(8))
