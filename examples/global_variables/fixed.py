"""global-variables, fixed by hand (the handbook's fix): the state lives in an actor
whose handle is passed to whoever needs it."""

import ray


@ray.remote(num_cpus=0)
class GlobalVarActor:
    def __init__(self):
        self.global_var = 3

    def set_global_var(self, var):
        self.global_var = var

    def get_global_var(self):
        return self.global_var


@ray.remote(num_cpus=0)
class Actor:
    def __init__(self, global_var_actor):
        self.global_var_actor = global_var_actor

    def f(self):
        return ray.get(self.global_var_actor.get_global_var.remote()) + 3


def main():
    global_var_actor = GlobalVarActor.remote()
    actor = Actor.remote(global_var_actor)
    ray.get(global_var_actor.set_global_var.remote(4))
    return ray.get(actor.f.remote())  # 7: everyone reads the one actor


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
