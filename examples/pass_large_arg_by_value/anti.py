"""pass-large-arg-by-value, anti-pattern: the same large array passed by value to every call."""

import numpy as np
import ray


@ray.remote
def score(table, i):
    return float(table[i])


def main(n=4):
    table = np.arange(1 << 17, dtype=np.float64)  # 1 MiB
    # each .remote() serialises the array into the object store again: n copies
    return ray.get([score.remote(table, i) for i in range(n)])


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
