"""pass-large-arg-by-value, fixed: ray.put the array once and pass its ref to every call."""

import numpy as np
import ray


@ray.remote
def score(table, i):
    return float(table[i])


def main(n=4):
    table_ref = ray.put(np.arange(1 << 17, dtype=np.float64))  # 1 MiB, stored once
    # the tasks get the array itself (Ray resolves the ref), all reading one copy
    return ray.get([score.remote(table_ref, i) for i in range(n)])


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
