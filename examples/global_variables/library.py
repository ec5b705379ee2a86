"""global-variables, with ray-patterns: shared_state is a named key-value actor."""

import uuid

import ray

import ray_patterns as rp


@ray.remote(num_cpus=0)
class Actor:
    def __init__(self, state_name):
        self.state = rp.shared_state(state_name)  # found by name from any worker

    def f(self):
        return ray.get(self.state.get.remote("global_var")) + 3


def main():
    name = f"example-{uuid.uuid4().hex[:8]}"  # one state per run
    state = rp.shared_state(name, initial={"global_var": 3})
    actor = Actor.remote(name)
    ray.get(state.set.remote("global_var", 4))
    try:
        return ray.get(actor.f.remote())  # 7
    finally:
        ray.kill(state)  # it would otherwise live until the job ends


if __name__ == "__main__":
    print(main())
