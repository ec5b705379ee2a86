"""unnecessary-ray-get, fixed by hand: pass the ObjectRef; ray.get only the final result."""

import numpy as np
import ray


@ray.remote
def generate_rollout(size):
    return np.ones(size, dtype=np.float64)  # size * 8 bytes


@ray.remote
def reduce(rollout):
    return float(rollout.sum())


def main(size=1 << 20):
    rollout_ref = generate_rollout.remote(size)
    # Ray hands reduce() the value straight from the object store, never via the driver
    return ray.get(reduce.remote(rollout_ref))


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
