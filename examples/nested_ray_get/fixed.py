"""nested-ray-get, fixed: pass the refs as top-level arguments; Ray resolves them first."""

import ray


@ray.remote
def square(x):
    return x * x


@ray.remote
def total(*values):
    # the task starts only once every square is done, and gets the values
    return sum(values)


def main(n=5):
    refs = [square.remote(i) for i in range(n)]
    return ray.get(total.remote(*refs))


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
