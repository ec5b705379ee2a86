"""too-many-results, anti-pattern: one ray.get on every large result at once."""

import numpy as np
import ray


@ray.remote
def make(i, size):
    return np.full(size, i, dtype=np.float64)  # size * 8 bytes each


def main(n=8, size=1 << 19):
    refs = [make.remote(i, size) for i in range(n)]
    # every result is in the object store and mapped into the driver together
    arrays = ray.get(refs)
    return sum(float(a.sum()) for a in arrays)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
