"""redefine-task-actor-loop, anti-pattern: @ray.remote applied inside the loop."""

import ray


def main(n=4):
    refs = []
    for i in range(n):

        @ray.remote
        def square(x):  # a new remote function, pickled and exported again each time
            return x * x

        refs.append(square.remote(i))
    return ray.get(refs)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
