"""too-many-results, anti: every large result fetched by one ray.get (tests: limit 16 MiB)."""

import numpy as np
import ray


@ray.remote
def make(i):
    return np.full(1 << 19, i, dtype=np.float64)  # 4 MiB


def main():
    refs = [make.remote(i) for i in range(8)]
    arrays = ray.get(refs)  # FINDING too-many-results
    return sum(float(a[0]) for a in arrays)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
