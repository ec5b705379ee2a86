import ray

from . import tasks
from .tasks import inc, slow


def main():
    a = [inc.remote(i) for i in range(5000)]  # expect: RAY102
    b = [tasks.inc.remote(i) for i in range(5000)]  # expect: RAY102
    c = [slow.remote(i) for i in range(5000)]  # a loop: real work
    return ray.get(a + b + c)
