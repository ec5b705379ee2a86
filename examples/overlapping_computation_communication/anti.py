"""overlapping-computation-communication, anti-pattern: fetch, wait, process, repeat."""

import time

import ray


@ray.remote(num_cpus=0)
class WorkQueue:
    def __init__(self, n):
        self.queue = list(range(n))

    def get_work_item(self):
        time.sleep(0.01)  # stands for the round trip to a remote queue
        return self.queue.pop(0) if self.queue else None


@ray.remote
class WorkerWithoutPipelining:
    def __init__(self, work_queue):
        self.work_queue = work_queue

    def process(self, work_item):
        time.sleep(0.01)  # stands for the computation
        return work_item

    def run(self):
        done = []
        while True:
            # idle for a whole round trip before each item
            work_item = ray.get(self.work_queue.get_work_item.remote())
            if work_item is None:
                break
            done.append(self.process(work_item))
        return done


def main(n=50):
    worker = WorkerWithoutPipelining.remote(WorkQueue.remote(n))
    return ray.get(worker.run.remote())


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
