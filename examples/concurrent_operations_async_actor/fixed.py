"""concurrent-operations-async-actor, fixed by hand: an async actor that awaits its refs."""

import ray


@ray.remote(num_cpus=0)
class TaskStore:
    def get_next_task(self):
        return "task"


@ray.remote(num_cpus=0)
class AsyncTaskExecutor:
    def __init__(self, task_store):
        self.task_store = task_store
        self.num_executed_tasks = 0
        self.stopped = False

    async def run(self):
        while not self.stopped:  # the handbook's loop is `while True`
            # await, not ray.get: other calls run while this one waits
            task = await self.task_store.get_next_task.remote()
            self._execute_task(task)

    async def stop(self):  # it gets in too: the loop ends after its current await
        self.stopped = True

    def _execute_task(self, task):
        self.num_executed_tasks += 1

    async def get_num_executed_tasks(self):
        return self.num_executed_tasks


def main(timeout=30.0):
    executor = AsyncTaskExecutor.remote(TaskStore.remote())
    running = executor.run.remote()
    # answered at once, while run() goes on (the timeout is only a safety net)
    ray.get(executor.get_num_executed_tasks.remote(), timeout=timeout)
    answered = not ray.wait([running], timeout=0)[0]  # True if run() is still going
    ray.get(executor.stop.remote())
    ray.get(running)
    return answered  # True


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
