"""map-reduce, without the pattern: map and reduce in one loop on the driver (one core)."""


def score(x):
    return sum(i * i for i in range(x % 100))  # the per-item work


def main(n=20_000):
    return sum(score(x) for x in range(n))


if __name__ == "__main__":
    print(main())
