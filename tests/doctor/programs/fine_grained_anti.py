"""fine-grained-tasks, anti: one tiny task per number."""

import ray


@ray.remote
def double(x):
    return 2 * x


def main():
    refs = [double.remote(x) for x in range(300)]  # FINDING fine-grained-tasks
    return ray.get(refs)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
