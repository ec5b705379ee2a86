"""limit-tasks, anti-pattern: submit every task at once, with nothing holding submission back."""

import time

import numpy as np
import ray


@ray.remote
def process(block):
    time.sleep(0.01)  # slower than the loop below submits
    return float(block.sum())


def blocks(n):
    for i in range(n):
        yield np.full(1 << 14, i, dtype=np.float64)  # 128 KiB argument per task


def main(n=150):
    # every argument is copied into the object store before any task has run
    refs = [process.remote(block) for block in blocks(n)]
    return sum(ray.get(refs))


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
