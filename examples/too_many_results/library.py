"""too-many-results, with ray-patterns: iter_results holds at most chunk_size values."""

import numpy as np
import ray

import ray_patterns as rp


@ray.remote
def make(i, size):
    return np.full(size, i, dtype=np.float64)  # size * 8 bytes each


def main(n=8, size=1 << 19, chunk_size=4):
    refs = [make.remote(i, size) for i in range(n)]
    results = rp.iter_results(refs, chunk_size=chunk_size)
    del refs  # the iterator drops each ref once yielded, so Ray can evict it
    return sum(float(array.sum()) for array in results)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
