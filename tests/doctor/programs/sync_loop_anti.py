"""sync-actor-polling-loop, anti (the handbook's shape): a sync actor's method loops
polling another actor for work, so a call to the same actor waits until it is over."""

import time

import ray


@ray.remote(num_cpus=0)
class Store:
    def __init__(self, n):
        self.left = n

    def next(self):
        self.left -= 1
        return self.left if self.left >= 0 else None


@ray.remote(num_cpus=0)
class Executor:
    def __init__(self, store):
        self.store = store
        self.done = 0

    def run(self):
        while True:
            task = ray.get(self.store.next.remote())  # FINDING sync-actor-polling-loop
            if task is None:
                return self.done
            time.sleep(0.01)
            self.done += 1

    def count(self):
        return self.done


def main():
    executor = Executor.remote(Store.remote(30))
    running = executor.run.remote()
    time.sleep(0.05)
    # queued behind run(): answers only once the loop is over
    return ray.get(executor.count.remote()), ray.get(running)  # (30, 30)


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    print(main())
