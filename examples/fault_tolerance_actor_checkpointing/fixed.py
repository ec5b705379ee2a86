"""fault-tolerance-actor-checkpointing, fixed by hand: save after each call, load in __init__."""

import contextlib
import json
import os
import tempfile

import ray


@ray.remote(max_restarts=-1, max_task_retries=-1)
class Counter:
    def __init__(self, checkpoint_file):
        self.checkpoint_file = checkpoint_file
        self.n = 0
        if os.path.exists(checkpoint_file):  # a restart: restore the state
            with open(checkpoint_file) as f:
                self.n = json.load(f)["n"]

    def increment(self):
        self.n += 1
        # write then rename: a crash mid-write never leaves a torn checkpoint
        with open(self.checkpoint_file + ".tmp", "w") as f:
            json.dump({"n": self.n}, f)
        os.replace(self.checkpoint_file + ".tmp", self.checkpoint_file)
        return self.n

    def crash(self):
        os._exit(1)


def crash(actor):
    """Kill the actor's process from inside, after every earlier call has finished."""
    with contextlib.suppress(ray.exceptions.RayActorError):
        # max_task_retries=0: Ray must not retry the crash itself after the restart
        ray.get(actor.crash.options(max_task_retries=0).remote())


def main(calls=6, crash_after=3):
    # local disk works on one node; on a cluster use storage every node sees
    checkpoint_file = os.path.join(tempfile.mkdtemp(), "counter.json")
    counter = Counter.remote(checkpoint_file)
    ray.get([counter.increment.remote() for _ in range(crash_after)])
    crash(counter)
    after = [counter.increment.remote() for _ in range(calls - crash_after)]
    return ray.get(after)[-1]  # calls: nothing was lost


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
