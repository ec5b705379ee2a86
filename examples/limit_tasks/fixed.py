"""limit-tasks, fixed by hand: ray.wait for earlier tasks before submitting more."""

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


def main(n=150, max_pending=8):
    pending = []
    total = 0.0
    for block in blocks(n):
        if len(pending) >= max_pending:
            # backpressure: wait for one task to finish before submitting another
            ready, pending = ray.wait(pending, num_returns=1)
            total += ray.get(ready[0])
        pending.append(process.remote(block))
    return total + sum(ray.get(pending))


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
