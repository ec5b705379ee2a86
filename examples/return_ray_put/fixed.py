"""return-ray-put, fixed: the task returns the value itself; Ray stores it as the task's result."""

import numpy as np
import ray


@ray.remote
def make(i):
    return np.full(1 << 17, i, dtype=np.float64)  # 1 MiB, owned by the caller


def main(n=3):
    return [float(block.sum()) for block in ray.get([make.remote(i) for i in range(n)])]


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
