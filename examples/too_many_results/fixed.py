"""too-many-results, fixed by hand: fetch and process the results in batches."""

import numpy as np
import ray


@ray.remote
def make(i, size):
    return np.full(size, i, dtype=np.float64)  # size * 8 bytes each


def main(n=8, size=1 << 19, batch=4):
    refs = [make.remote(i, size) for i in range(n)]
    total = 0.0
    for start in range(0, len(refs), batch):
        arrays = ray.get(refs[start : start + batch])
        total += sum(float(a.sum()) for a in arrays)
        del arrays  # drop the batch before fetching the next one
    return total


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
