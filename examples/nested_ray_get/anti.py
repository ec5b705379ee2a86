"""nested-ray-get, anti-pattern: refs passed inside a list, fetched with ray.get in the task."""

import ray


@ray.remote
def square(x):
    return x * x


@ray.remote
def total(refs):
    # Ray does not resolve refs nested in a list: this task blocks in ray.get,
    # holding its worker while the squares are still being computed
    return sum(ray.get(refs))


def main(n=5):
    refs = [square.remote(i) for i in range(n)]
    return ray.get(total.remote(refs))


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
