"""limit-tasks, with ray-patterns: bounded_map never has more than max_in_flight pending."""

import time

import numpy as np
import ray

import ray_patterns as rp


@ray.remote
def process(block):
    time.sleep(0.01)  # slower than the loop below submits
    return float(block.sum())


def blocks(n):
    for i in range(n):
        yield np.full(1 << 14, i, dtype=np.float64)  # 128 KiB argument per task


def main(n=150, max_pending=8):
    # the generator is consumed lazily: at most max_pending blocks exist at once
    return sum(rp.bounded_map(process, blocks(n), max_in_flight=max_pending))


if __name__ == "__main__":
    print(main())
