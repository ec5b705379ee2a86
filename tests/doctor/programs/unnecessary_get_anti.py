"""unnecessary-ray-get, anti: a large result goes to the driver only to be passed on."""

import numpy as np
import ray


@ray.remote
def produce():
    return np.ones(1 << 20)  # 8 MiB


@ray.remote
def consume(array):
    return float(array.sum())


def main():
    value = ray.get(produce.remote())  # FINDING unnecessary-ray-get
    return ray.get(consume.remote(value))  # RELATED unnecessary-ray-get


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
