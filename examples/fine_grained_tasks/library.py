"""fine-grained-tasks, with ray-patterns: batched_map sizes the batches at run time."""

import ray_patterns as rp


def double(x):
    return 2 * x  # a plain function: batched_map makes the Ray tasks


def main(n=300):
    # batch_size="auto": one probe item, then batches of ~0.1 s of work
    return list(rp.batched_map(double, range(n)))


if __name__ == "__main__":
    print(main())
