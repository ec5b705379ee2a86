"""fault-tolerance-actor-checkpointing, with ray-patterns: the checkpointed decorator."""

import contextlib
import os
import tempfile

import ray

import ray_patterns as rp

# a directory or any fsspec URL (s3://..., gs://...), or rp.KVStore() for small state
CHECKPOINTS = tempfile.mkdtemp()


@rp.checkpointed(CHECKPOINTS, every=1)  # max_restarts=-1, max_task_retries=-1 by default
class Counter:
    def __init__(self):
        self.n = 0

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
    ray.get([counter.increment.remote() for _ in range(crash_after)])
    crash(counter)
    after = [counter.increment.remote() for _ in range(calls - crash_after)]
    return ray.get(after)[-1]  # calls: restored from the latest checkpoint before any call ran


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
