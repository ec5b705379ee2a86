"""return-ray-put, anti-pattern: a task puts its result into the store and returns the ref."""

import numpy as np
import ray


@ray.remote
def make(i):
    block = np.full(1 << 17, i, dtype=np.float64)  # 1 MiB
    # the task's worker now owns the object: the caller needs two gets, and the
    # object is lost if that worker dies (Ray cannot rebuild it from the task)
    return ray.put(block)


def main(n=3):
    inner_refs = ray.get([make.remote(i) for i in range(n)])
    return [float(ray.get(ref).sum()) for ref in inner_refs]


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
