"""global-variables, anti-pattern (the handbook's example): an actor reads a global
that the driver changes after the actor class was exported."""

import ray

global_var = 3


@ray.remote
class Actor:
    def f(self):
        return global_var + 3


def main():
    global global_var
    actor = Actor.remote()
    global_var = 4  # changes the driver's copy only
    return ray.get(actor.f.remote())  # 6, not 7: the actor still sees 3


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
