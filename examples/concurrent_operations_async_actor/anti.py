"""concurrent-operations-async-actor, anti-pattern: a sync actor's polling loop blocks it."""

import time

import ray
from ray.exceptions import GetTimeoutError


@ray.remote(num_cpus=0)
class TaskStore:
    def get_next_task(self):
        return "task"


@ray.remote(num_cpus=0)
class TaskExecutor:
    def __init__(self, task_store):
        self.task_store = task_store
        self.num_executed_tasks = 0

    def run(self, seconds):
        deadline = time.monotonic() + seconds  # the handbook's loop is `while True`
        while time.monotonic() < deadline:
            task = ray.get(self.task_store.get_next_task.remote())
            self._execute_task(task)

    def _execute_task(self, task):
        self.num_executed_tasks += 1

    def get_num_executed_tasks(self):
        return self.num_executed_tasks


def main(seconds=2.0, timeout=0.5):
    executor = TaskExecutor.remote(TaskStore.remote())
    running = executor.run.remote(seconds)
    try:
        # queued behind run(): the actor's only thread is busy in the loop
        ray.get(executor.get_num_executed_tasks.remote(), timeout=timeout)
        answered = True
    except GetTimeoutError:
        answered = False
    ray.get(running)
    return answered  # False


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
