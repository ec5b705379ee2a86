"""fine-grained-tasks, anti-pattern: one Ray task per tiny item."""

import ray


@ray.remote
def double(x):
    return 2 * x  # far less work than the ~1 ms a task costs


def main(n=300):
    return ray.get([double.remote(x) for x in range(n)])


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
