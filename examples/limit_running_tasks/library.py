"""limit-running-tasks, with ray-patterns: memory_map measures one task, then requests that."""

import functools

import numpy as np

import ray_patterns as rp

MIB = 1 << 20


def process(i, mib):
    block = np.ones(mib * MIB // 8)
    return float(block.sum()) + i


def main(n=4, mib=16):
    # the first item runs alone and its peak memory is measured; the others then
    # request that (plus headroom), so only as many run at once as fit
    work = functools.partial(process, mib=mib)
    return list(rp.memory_map(work, range(n), ordered=True))


if __name__ == "__main__":
    print(main())  # memory_map starts Ray (or joins RAY_ADDRESS) if needed
