"""global-variables, anti (the handbook's example): an actor reads a global the driver
changes after the actor class was exported."""

import ray

global_var = 3


@ray.remote
class Actor:
    def f(self):
        return global_var + 3  # FINDING global-variables


def main():
    actor = Actor.remote()
    global global_var
    global_var = 4
    return ray.get(actor.f.remote())  # 6, not 7: the actor still sees 3


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    print(main())
