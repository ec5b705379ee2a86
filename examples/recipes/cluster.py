"""Using ray-patterns on a Ray cluster that is already running.

Run it as `RAY_ADDRESS=ray://head-node:10001 python cluster.py` (Ray Client) or, on
a node of the cluster, `RAY_ADDRESS=auto python cluster.py`. Without RAY_ADDRESS a
local Ray starts, as `ray.init()` does.
"""

import ray

import ray_patterns as rp


def square(x):
    return x * x


def main(n=1000):
    # --8<-- [start:connect]
    if not ray.is_initialized():
        # connects to RAY_ADDRESS when it is set; the cluster's nodes need
        # ray-patterns installed too, e.g. runtime_env={"pip": ["ray-patterns"]}
        ray.init()
    # every ray_patterns call from here on uses this connection: the library
    # never calls ray.init() when Ray is already initialized
    total = rp.map_reduce(square, range(n), sum)
    # --8<-- [end:connect]
    return total


if __name__ == "__main__":
    print(main())
