"""closure-capture, anti-pattern: a remote function uses a large object from outside it."""

import numpy as np
import ray

table = np.arange(1 << 19, dtype=np.float64)  # 4 MiB, pickled with the function below


@ray.remote
def lookup(i):
    return float(table[i])


def main(n=8):
    return ray.get([lookup.remote(i) for i in range(n)])


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
