"""ray-get-loop, fixed: submit everything, then one ray.get."""

import time

import ray


@ray.remote
def work(i):
    time.sleep(0.02)
    return i


def main():
    refs = [work.remote(i) for i in range(8)]
    return ray.get(refs)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    assert main() == list(range(8))
