import ray


@ray.remote
def inc(x):
    return x + 1


@ray.remote
def slow(x):
    for _ in range(x):
        x -= 1
    return x
