"""out-of-band-object-ref-serialization, fixed: pass the ref itself as an argument."""

import ray


@ray.remote
def read(values):
    # Ray resolved the ref before the task started, and counted it while in flight
    return values


def main(n=3):
    refs = [ray.put(list(range(i + 1))) for i in range(n)]
    return ray.get([read.remote(ref) for ref in refs], timeout=60)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
