"""actor-sync, with ray-patterns: an Event handle (a zero-CPU async actor) passed to tasks."""

import time

import ray

import ray_patterns as rp


@ray.remote
def worker(ready, i):
    if not ready.wait(timeout=60):  # False if nobody set it in time
        raise TimeoutError("the driver never said go")
    return i * i


def main(n=3):
    ready = rp.Event()  # also rp.Barrier(parties) and rp.Semaphore(value)
    refs = [worker.remote(ready, i) for i in range(n)]
    time.sleep(0.5)  # stands for the setup the workers wait for
    ready.set()
    return ray.get(refs)


if __name__ == "__main__":
    print(main())  # rp.Event starts Ray (or joins RAY_ADDRESS) if needed
