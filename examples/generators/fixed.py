"""generators, fixed by hand: the task yields one block at a time, the caller takes each."""

import numpy as np
import ray


@ray.remote
def make_blocks(n):
    for i in range(n):
        # one 1 MiB block in the heap at a time; `yield from` does not work in a Ray task
        yield np.full(1 << 17, i, dtype=np.float64)


def main(n=4):
    # iterating the ObjectRefGenerator gives each block's ref as soon as it is yielded
    return [float(ray.get(ref).sum()) for ref in make_blocks.remote(n)]


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
