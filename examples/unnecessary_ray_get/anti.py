"""unnecessary-ray-get, anti-pattern: fetch a large result only to pass it to another task."""

import numpy as np
import ray


@ray.remote
def generate_rollout(size):
    return np.ones(size, dtype=np.float64)  # size * 8 bytes


@ray.remote
def reduce(rollout):
    return float(rollout.sum())


def main(size=1 << 20):
    # the 8 MiB rollout travels to the driver here ...
    rollout = ray.get(generate_rollout.remote(size))
    # ... and back into the object store here
    return ray.get(reduce.remote(rollout))


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
