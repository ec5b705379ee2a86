"""fault-tolerance-actor-checkpointing, anti-pattern: max_restarts alone loses the state."""

import contextlib
import os

import ray


@ray.remote(max_restarts=-1, max_task_retries=-1)
class Counter:
    def __init__(self):
        self.n = 0  # runs again on restart: the count starts over

    def increment(self):
        self.n += 1
        return self.n

    def crash(self):
        os._exit(1)


def crash(actor):
    """Kill the actor's process from inside, after every earlier call has finished."""
    with contextlib.suppress(ray.exceptions.RayActorError):
        # max_task_retries=0: Ray must not retry the crash itself after the restart
        ray.get(actor.crash.options(max_task_retries=0).remote())


def main(calls=6, crash_after=3):
    counter = Counter.remote()
    for i in range(calls):
        if i == crash_after:
            crash(counter)
        value = ray.get(counter.increment.remote())
    return value  # calls - crash_after, not calls


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
