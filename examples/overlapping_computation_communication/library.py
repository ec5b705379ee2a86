"""overlapping-computation-communication, with ray-patterns: prefetch keeps fetches in flight."""

import time

import ray

import ray_patterns as rp


@ray.remote(num_cpus=0)
class WorkQueue:
    def __init__(self, n):
        self.queue = list(range(n))

    def get_work_item(self):
        time.sleep(0.01)  # stands for the round trip to a remote queue
        return self.queue.pop(0) if self.queue else None


@ray.remote
class Worker:
    def __init__(self, work_queue):
        self.work_queue = work_queue

    def process(self, work_item):
        time.sleep(0.01)  # stands for the computation
        return work_item

    def run(self):
        # stops at the queue's sentinel (None); depth=1 fetch always in flight
        items = rp.prefetch(self.work_queue.get_work_item.remote, depth=1, until=None)
        return [self.process(item) for item in items]


def main(n=50):
    worker = Worker.remote(WorkQueue.remote(n))
    return ray.get(worker.run.remote())


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
