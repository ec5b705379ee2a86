"""redefine-task-actor-loop, fixed by hand: define the remote function once."""

import ray


@ray.remote
def square(x):  # exported to the workers once
    return x * x


def main(n=4):
    refs = []
    for i in range(n):
        refs.append(square.remote(i))
    return ray.get(refs)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
