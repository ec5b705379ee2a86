"""Anti-patterns inside tasks and actors (and the newer pages'), each at a marked line.

Run under ``ray-patterns doctor``: the program's own ``ray.init`` (local, or the
cluster of ``RAY_ADDRESS``) gets the worker hook.
"""

import os
import pickle
import time

import numpy as np
import ray


@ray.remote
def leaf(seconds):
    time.sleep(seconds)
    return seconds


@ray.remote
def tiny(x):
    return x


@ray.remote
def size_of(array):
    return array.nbytes


@ray.remote
def parent(n):
    return [ray.get(leaf.remote(0.02)) for _ in range(n)]  # FINDING ray-get-loop


@ray.remote
def fan_out(n):
    refs = [tiny.remote(i) for i in range(n)]  # FINDING fine-grained-tasks unbounded-submission
    return sum(ray.get(refs))


@ray.remote
def in_order():
    refs = [leaf.remote(s) for s in (1.5, 0.02, 0.02, 0.02, 0.02)]  # a slow head
    return [ray.get(r) for r in refs]  # FINDING submission-order


@ray.remote
def gets_nested(refs):
    return sum(ray.get(refs))  # FINDING nested-ray-get


@ray.remote
def puts_and_returns():
    return [ray.put(i) for i in range(3)]  # FINDING return-ray-put


@ray.remote
def forks():
    pid = os.fork()  # FINDING fork-new-processes
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return True


@ray.remote
def pickles_a_ref():
    ref = ray.put(1)
    return len(pickle.dumps(ref))  # FINDING out-of-band-object-ref-serialization


@ray.remote
def passes_large_by_value():
    data = np.ones(1 << 18)  # 2 MiB
    return sum(ray.get([size_of.remote(data) for _ in range(4)]))  # FINDING pass-large-arg-by-value


@ray.remote  # FINDING return-large-list
def big_list():
    return [np.full(1 << 17, float(i)) for i in range(4)]


@ray.remote
def takes_big_list():
    return sum(float(a[0]) for a in ray.get(big_list.remote()))


@ray.remote
class Poller:  # one actor for three roles: each actor is a process to start
    def __init__(self):
        self.polls = 0

    def ready(self):
        self.polls += 1
        return self.polls >= 6

    def add(self, x):
        time.sleep(0.02)
        return x

    async def poll(self, seconds):
        return ray.get(leaf.remote(seconds))  # FINDING blocking-get-in-async


@ray.remote
class Waiter:
    def wait_for(self, flag):
        while not ray.get(flag.ready.remote()):  # FINDING actor-busy-wait
            time.sleep(0.01)
        return True

    def sum_calls(self, flag):
        return sum(ray.get(flag.add.remote(i)) for i in range(5))  # FINDING ray-get-loop


def main():
    if not ray.is_initialized():  # a cluster's RAY_ADDRESS, else a local Ray
        ray.init(**({} if os.environ.get("RAY_ADDRESS") else {"num_cpus": 2}), log_to_driver=False)
    assert ray.get(parent.remote(4)) == [0.02] * 4
    assert ray.get(fan_out.remote(300)) == sum(range(300))
    assert len(ray.get(in_order.remote())) == 5
    assert ray.get(gets_nested.remote([leaf.remote(0.0), leaf.remote(0.0)])) == 0.0
    assert len(ray.get(puts_and_returns.remote())) == 3
    assert ray.get(forks.remote())
    assert ray.get(pickles_a_ref.remote()) > 0
    assert ray.get(passes_large_by_value.remote()) == 4 * (1 << 21)
    assert ray.get(takes_big_list.remote()) == 6.0
    poller, waiter = Poller.remote(), Waiter.remote()
    assert ray.get(waiter.wait_for.remote(poller))
    assert ray.get(waiter.sum_calls.remote(poller)) == 10
    assert ray.get(poller.poll.remote(0.05)) == 0.05
    nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    print(f"inside_anti done on {len(nodes)} node(s)")


if __name__ == "__main__":
    main()
