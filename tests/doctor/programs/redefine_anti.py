"""redefine-task-actor-loop, anti: @ray.remote applied inside the loop."""

import ray


def main():
    refs = []
    for i in range(4):

        @ray.remote  # FINDING redefine-task-actor-loop
        def square(x):
            return x * x

        refs.append(square.remote(i))
    return ray.get(refs)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
