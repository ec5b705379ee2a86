"""concurrent-operations-async-actor, with ray-patterns: PollingActor runs the loop for you."""

import ray

import ray_patterns as rp


@ray.remote(num_cpus=0)
class TaskStore:
    def get_next_task(self):
        return "task"


@ray.remote(num_cpus=0)
class TaskExecutor(rp.PollingActor):
    def __init__(self, task_store):
        self.task_store = task_store
        self.num_executed_tasks = 0

    async def poll(self):  # called in a loop; errors are logged, counted and retried
        task = await self.task_store.get_next_task.remote()
        self._execute_task(task)

    def _execute_task(self, task):
        self.num_executed_tasks += 1

    async def get_num_executed_tasks(self):
        return self.num_executed_tasks


def main(timeout=30.0):
    executor = TaskExecutor.remote(TaskStore.remote())
    ray.get(executor.start.remote())
    ray.get(executor.get_num_executed_tasks.remote(), timeout=timeout)  # answered at once
    answered = ray.get(executor.status.remote())["running"]  # the loop is still going
    ray.get(executor.stop.remote())
    return answered  # True


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
