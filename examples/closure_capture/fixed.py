"""closure-capture, fixed by hand: ray.put the object once and pass its ref."""

import numpy as np
import ray


@ray.remote
def lookup(table, i):
    return float(table[i])  # Ray passes the stored array, zero-copy for numpy


def main(n=8):
    table_ref = ray.put(np.arange(1 << 19, dtype=np.float64))  # stored once
    return ray.get([lookup.remote(table_ref, i) for i in range(n)])


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
