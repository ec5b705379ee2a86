"""redefine-task-actor-loop, with ray-patterns: plain functions are made remote once."""

import ray_patterns as rp


def square(x):
    return x * x


def main(n=4):
    results = []
    for i in range(n):
        # bounded_map makes `square` remote on first use and reuses it afterwards,
        # so calling it in a loop does not re-export the function
        results.extend(rp.bounded_map(square, [i]))
    return results


if __name__ == "__main__":
    print(main())
