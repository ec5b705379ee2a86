"""generators, with ray-patterns: generate() bounds memory in the producer and the consumer."""

import numpy as np

import ray_patterns as rp


def make_blocks(n):
    for i in range(n):
        yield np.full(1 << 17, i, dtype=np.float64)  # 1 MiB each


def main(n=4):
    # the task pauses while 2 blocks are unread; the loop holds one block at a time
    return [float(block.sum()) for block in rp.generate(make_blocks, n, max_unconsumed=2)]


if __name__ == "__main__":
    print(main())  # generate starts Ray (or joins RAY_ADDRESS) if needed
