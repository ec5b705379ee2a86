"""map-reduce, with ray-patterns: map_reduce batches the map and reduces in a tree of tasks."""

import ray_patterns as rp


def score(x):
    return sum(i * i for i in range(x % 100))  # the per-item work


def main(n=20_000):
    # batch size found at run time; partial sums combined 16 refs at a time
    return rp.map_reduce(score, range(n), sum)


if __name__ == "__main__":
    print(main())
