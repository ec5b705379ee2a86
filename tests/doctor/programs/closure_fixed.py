"""closure-capture, fixed: the array goes to the object store once; tasks get its ref."""

import numpy as np
import ray


@ray.remote
def lookup(table, i):
    return float(table[i])


def main():
    table_ref = ray.put(np.arange(1 << 19, dtype=np.float64))
    return ray.get([lookup.remote(table_ref, i) for i in range(4)])


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
