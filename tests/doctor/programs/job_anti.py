"""A job for `ray job submit`: anti-patterns the doctor finds from task events alone."""

import os
import tempfile
import time

import ray


@ray.remote
def tiny(x):
    return x + 1


@ray.remote
def slow(x):
    time.sleep(0.05)
    return x


# SPREAD: the job's tasks run on both nodes whatever the scheduler's load at the time
@ray.remote(scheduling_strategy="SPREAD")
def piled(x):
    time.sleep(0.01)
    return x


@ray.remote
def parent(n):
    # blocks in ray.get on its own children: its worker stays taken meanwhile
    return sum(ray.get([slow.remote(i) for i in range(n)]))


@ray.remote(max_retries=2, retry_exceptions=True)
def flaky(marker):
    if not os.path.exists(marker):  # the first attempt fails, the retry succeeds
        open(marker, "w").close()
        raise RuntimeError("first attempt fails")
    return 0


def main():
    # fine-grained-tasks: 300 tasks that each do almost nothing
    total = sum(ray.get([tiny.remote(i) for i in range(300)]))  # JOB fine-grained-tasks
    # ray-get-loop: each task waited for before the next one is submitted
    for i in range(6):
        total += ray.get(slow.remote(i))  # JOB ray-get-loop
    # unbounded-submission: every task submitted at once, nothing waits
    refs = [piled.remote(i) for i in range(120)]  # JOB unbounded-submission
    total += sum(ray.get(refs))
    # blocked-workers: nested ray.get in tasks
    total += sum(ray.get([parent.remote(2) for _ in range(3)]))  # JOB blocked-workers
    marker = os.path.join(tempfile.mkdtemp(), "failed-once")
    return total + ray.get(flaky.remote(marker))


if __name__ == "__main__":
    ray.init()
    print("result", main())
