"""fine-grained-tasks, fixed by hand: each task handles a batch of items."""

import ray


def double(x):
    return 2 * x


@ray.remote
def double_batch(items):
    return [double(x) for x in items]


def main(n=300, batch=100):
    items = list(range(n))
    refs = [double_batch.remote(items[i : i + batch]) for i in range(0, n, batch)]
    return [y for chunk in ray.get(refs) for y in chunk]


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
