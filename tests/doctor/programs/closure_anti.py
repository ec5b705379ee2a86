"""closure-capture, anti: a remote function refers to a large module-level array."""

import numpy as np
import ray

table = np.arange(1 << 19, dtype=np.float64)  # 4 MiB, pickled with the function


@ray.remote  # FINDING closure-capture
def lookup(i):
    return float(table[i])


def main():
    return ray.get([lookup.remote(i) for i in range(4)])


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
