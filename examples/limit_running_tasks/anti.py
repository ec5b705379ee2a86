"""limit-running-tasks, anti-pattern: memory-hungry tasks, one per CPU, whatever memory holds."""

import numpy as np
import ray

MIB = 1 << 20


@ray.remote
def process(i, mib):
    block = np.ones(mib * MIB // 8)  # stands for a task that needs `mib` MiB of heap
    return float(block.sum()) + i


def main(n=4, mib=16):
    # Ray starts one task per CPU: on a node with many CPUs and little memory per CPU,
    # the memory monitor kills them (and Ray retries them) or the node runs out
    return ray.get([process.remote(i, mib) for i in range(n)])


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
