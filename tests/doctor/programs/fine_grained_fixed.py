"""fine-grained-tasks, fixed: one task per batch of 100 numbers."""

import ray


@ray.remote
def double_batch(xs):
    return [2 * x for x in xs]


def main():
    items = list(range(300))
    refs = [double_batch.remote(items[i : i + 100]) for i in range(0, len(items), 100)]
    return [y for batch in ray.get(refs) for y in batch]


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
