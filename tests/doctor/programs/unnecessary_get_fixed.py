"""unnecessary-ray-get, fixed: the ObjectRef goes straight to the consumer."""

import numpy as np
import ray


@ray.remote
def produce():
    return np.ones(1 << 20)  # 8 MiB


@ray.remote
def consume(array):
    return float(array.sum())


def main():
    return ray.get(consume.remote(produce.remote()))


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
