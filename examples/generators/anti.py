"""generators, anti-pattern: a task builds every large output, then returns them all at once."""

import numpy as np
import ray


@ray.remote
def make_blocks(n):
    # all n blocks of 1 MiB live in the task's heap until it returns,
    # and the caller gets them all in one list
    return [np.full(1 << 17, i, dtype=np.float64) for i in range(n)]


def main(n=4):
    blocks = ray.get(make_blocks.remote(n))
    return [float(block.sum()) for block in blocks]


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
