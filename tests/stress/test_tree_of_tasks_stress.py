"""divide_and_conquer's error and interrupt paths, hundreds of times (``-m stress``).

Ray 2.60 aborts the driver when a task is cancelled while its ObjectRef
arguments are still being resolved (``reference_counter.cc``: Check failed:
``submitted_task_ref_count > 0``); the library once did that on every error.
These runs fail in a split, a solve or a combine at a random node, or interrupt
the driver (KeyboardInterrupt, as Ctrl-C would) at a random moment, with the
tree spread over tasks in every way ``subtree_tasks`` allows, and with parts
small enough to be inlined into the tasks that take them. This pytest process
is the driver: that it finishes at all is the claim; each run's outcome is
checked too. Run: ``flock /tmp/ray.lock python -m pytest -m stress tests/stress -q -s``.
"""

from __future__ import annotations

import _thread
import random
import threading
import time
from typing import Any

import numpy as np
import pytest

from ray_patterns import divide_and_conquer
from tests._tree import halves, merge, small, still_works

pytestmark = [pytest.mark.stress, pytest.mark.usefixtures("ray_session")]

RUNS = 400
INTERRUPTS = 150
SPREADS = [None, 0, 1, 2, 5]


class Planted(Exception):
    """The failure a run plants at one node."""


def planted(run: int, stage: str, target: list[int], slow: bool) -> dict[str, Any]:
    """split/solve/combine/is_base that raise Planted at the node ``target`` in ``stage``."""

    def split(xs: list[int]) -> list[list[int]]:
        if stage == "split" and xs == target:
            raise Planted(f"split {run}")
        return halves(xs)

    def solve(xs: list[int]) -> list[int]:
        if slow:
            time.sleep(0.002)
        if stage == "solve" and target[0] in xs:
            raise Planted(f"solve {run}")
        return sorted(xs)

    def combine(parts: list[list[int]]) -> list[int]:
        out = merge(parts)
        if stage == "combine" and out == target:
            raise Planted(f"combine {run}")
        return out

    def is_base(xs: list[int]) -> bool:
        # a planted split or combine needs its node to be an inner one
        return small(xs) and not (stage != "solve" and xs == target)

    return {"split": split, "solve": solve, "combine": combine, "is_base": is_base}


def test_errors_at_random_nodes_never_abort_the_driver() -> None:
    rng = random.Random(14)
    counts = {"split": 0, "solve": 0, "combine": 0}
    for run in range(RUNS):
        size = rng.choice([8, 16, 32, 64, 128])
        data = list(range(size))
        stage = rng.choice(list(counts))
        # the failing node: the one holding item `at` at depth `depth`
        at = rng.randrange(size)
        depth = rng.randrange(size.bit_length() - 1)
        width = size >> depth
        target = data[at // width * width :][:width]
        slow = rng.random() < 0.3  # leaves still running when the error is seen

        with pytest.raises(Planted, match=rf"\b{stage} {run}\b") as info:
            divide_and_conquer(
                data,
                **planted(run, stage, target, slow),
                subtree_tasks=rng.choice(SPREADS),
                in_caller=rng.random() < 0.2,  # mostly the Ray paths
            )
        assert any("ray-patterns: raised in" in n for n in info.value.__notes__)
        counts[stage] += 1
    still_works()
    print(f"\nerror runs: {RUNS} ({counts}); the driver survived")
    assert sum(counts.values()) == RUNS


def test_interrupts_at_random_moments_never_abort_the_driver() -> None:
    rng = random.Random(15)
    interrupted = finished = 0
    for _ in range(INTERRUPTS):
        # numpy parts above the inline limit go through the store, small ones are inlined
        data = (
            np.random.default_rng(rng.randrange(1 << 30)).integers(0, 1 << 20, 200_000)
            if rng.random() < 0.3
            else list(range(rng.choice([64, 256]), 0, -1))
        )
        timer = threading.Timer(rng.uniform(0.0, 0.05), _thread.interrupt_main)
        try:
            timer.start()
            try:
                out = divide_and_conquer(
                    data,
                    split=lambda xs: [xs[: len(xs) // 2], xs[len(xs) // 2 :]],
                    solve=sorted,
                    combine=lambda parts: [x for part in parts for x in part],
                    is_base=lambda xs: len(xs) <= 8,
                    subtree_tasks=rng.choice(SPREADS),
                    in_caller=rng.random() < 0.2,
                )
            finally:
                timer.cancel()
                timer.join()
            time.sleep(0.001)  # an interrupt that fired just after the return lands here
            finished += 1
            assert len(out) == len(data)
        except KeyboardInterrupt:
            interrupted += 1
    still_works()
    print(f"\ninterrupt runs: {INTERRUPTS} ({interrupted} interrupted, {finished} finished)")
    assert interrupted + finished == INTERRUPTS and interrupted > 0
