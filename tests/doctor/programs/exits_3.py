"""A program that exits non-zero on purpose; argv passes through."""

import sys

import ray

ray.init(num_cpus=2, include_dashboard=False)


@ray.remote
def work(i):
    time_sleep = __import__("time").sleep
    time_sleep(0.02)
    return i


results = []
for i in range(4):
    results.append(ray.get(work.remote(i)))
print("args", sys.argv[1:], "results", results)
sys.exit(3)
