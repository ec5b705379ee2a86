"""limit-running-tasks, fixed by hand: each task requests the memory it needs."""

import numpy as np
import ray

MIB = 1 << 20
WORKER_MIB = 256  # a Ray worker's own footprint, on top of what the task allocates


@ray.remote
def process(i, mib):
    block = np.ones(mib * MIB // 8)
    return float(block.sum()) + i


def main(n=4, mib=16):
    # memory= is a logical resource, like num_cpus: Ray starts a task only where that
    # much memory is not yet requested by running tasks, so the rest wait their turn
    sized = process.options(memory=(mib + WORKER_MIB) * MIB)
    return ray.get([sized.remote(i, mib) for i in range(n)])


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
