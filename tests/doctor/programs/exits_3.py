"""A program that exits non-zero on purpose; argv passes through."""

import os
import sys
import time

import ray

# the tests' cluster (RAY_ADDRESS), else a local Ray of its own
ray.init(**({} if os.environ.get("RAY_ADDRESS") else {"num_cpus": 2, "include_dashboard": False}))


@ray.remote
def work(i):
    time.sleep(0.02)
    return i


results = []
for i in range(4):
    results.append(ray.get(work.remote(i)))  # FINDING ray-get-loop
print("args", sys.argv[1:], "results", results)
ray.shutdown()  # the doctor reads Ray's task events before the cluster goes
sys.exit(3)
