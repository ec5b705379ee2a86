"""actor-sync, anti-pattern: tasks poll a flag actor with ray.get and sleep."""

import time

import ray


@ray.remote(num_cpus=0)
class Flag:
    def __init__(self):
        self.ready = False

    def set(self):
        self.ready = True

    def is_set(self):
        return self.ready


@ray.remote
def worker(flag, i):
    # one remote call per check, and up to a sleep's delay late after the flip
    while not ray.get(flag.is_set.remote()):
        time.sleep(0.05)
    return i * i


def main(n=3):
    flag = Flag.remote()
    refs = [worker.remote(flag, i) for i in range(n)]
    ray.get(flag.is_set.remote())  # the actor is up: from here each poll is answered
    time.sleep(0.5)  # stands for the setup the workers wait for
    ray.get(flag.set.remote())
    return ray.get(refs)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
