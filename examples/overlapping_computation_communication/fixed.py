"""overlapping-computation-communication, fixed by hand: request the next item first."""

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
class WorkerWithPipelining:
    def __init__(self, work_queue):
        self.work_queue = work_queue

    def process(self, work_item):
        time.sleep(0.01)  # stands for the computation
        return work_item

    def run(self):
        done = []
        work_item_ref = self.work_queue.get_work_item.remote()
        while True:
            work_item = ray.get(work_item_ref)
            if work_item is None:
                break
            # ask for the next item, then compute while it is on its way
            work_item_ref = self.work_queue.get_work_item.remote()
            done.append(self.process(work_item))
        return done


def main(n=50):
    worker = WorkerWithPipelining.remote(WorkQueue.remote(n))
    return ray.get(worker.run.remote())


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
