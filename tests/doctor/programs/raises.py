"""A program that fails after using Ray: the report must still be written."""

import ray

ray.init(num_cpus=2, include_dashboard=False)


@ray.remote
def work(i):
    return i


print("sum", sum(ray.get([work.remote(i) for i in range(4)])))
raise RuntimeError("the program's own error")
