"""too-many-results, fixed: fetch in small batches and drop each before the next."""

import numpy as np
import ray


@ray.remote
def make(i):
    return np.full(1 << 19, i, dtype=np.float64)  # 4 MiB


def main():
    refs = [make.remote(i) for i in range(8)]
    total = 0.0
    for start in range(0, len(refs), 2):
        batch = ray.get(refs[start : start + 2])
        total += sum(float(a[0]) for a in batch)
        del batch
    return total


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
