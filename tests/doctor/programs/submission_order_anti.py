"""submission-order, anti: results fetched in submission order behind a straggler."""

import time

import ray


@ray.remote
def work(seconds):
    time.sleep(seconds)
    return seconds


def main():
    refs = [work.remote(s) for s in [0.6, 0.02, 0.02, 0.02, 0.02, 0.02]]
    done = []
    for ref in refs:
        done.append(ray.get(ref))  # FINDING submission-order
    return done


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    main()
