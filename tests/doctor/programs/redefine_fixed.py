"""redefine-task-actor-loop, fixed: defined once, called in the loop."""

import ray


@ray.remote
def square(x):
    return x * x


def main():
    refs = []
    for i in range(4):
        refs.append(square.remote(i))
    return ray.get(refs)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
