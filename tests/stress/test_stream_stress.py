"""ResultStream.close() at random moments, hundreds of times (``-m stress``).

Ray 2.60 aborts the driver when a cancel races the resolution of a task's
pending ObjectRef arguments (``task_manager.cc`` ``it != submissible_tasks_.end()``
or ``reference_counter.cc`` ``submitted_task_ref_count > 0``), and a cancel of a
task finishing at that moment too; close() used to force-cancel every pending
task. These runs close streams of tasks that take a ref being produced right
now, a ref just produced (its inlining is what raced), plain values, and
generator tasks (the one kind close() cancels), at a random moment each. This
pytest process is the driver: that it finishes is the claim; after each close
the stream must deliver nothing more.
Run: ``flock /tmp/ray.lock python -m pytest -m stress tests/stress -q -s``.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import pytest
import ray

from ray_patterns import ResultStream, bounded_map, iter_results
from ray_patterns.generators import with_backpressure
from tests._helpers import sleep_then
from tests._tree import consume, still_works

pytestmark = [pytest.mark.stress, pytest.mark.usefixtures("ray_session")]

CLOSES = 400


def take(x: Any) -> Any:
    return x


def endless():  # type: ignore[no-untyped-def]
    i = 0
    while True:
        yield i
        i += 1


def five():  # type: ignore[no-untyped-def]
    for i in range(5):  # noqa: UP028 - `yield from` fails in a Ray generator task
        yield i


def stream_of(kind: str, rng: random.Random) -> ResultStream[Any]:
    if kind == "pending ref args":  # the closing note's reproducer, through the library
        src = sleep_then.remote(0.002, 1)
        return iter_results([consume.remote(src) for _ in range(30)])
    if kind == "ready ref args":  # the argument exists: its inlining races the cancel
        src = sleep_then.remote(0.002, 1)
        ray.wait([src])
        return iter_results([consume.remote(src) for _ in range(30)])
    if kind == "bounded_map of refs":  # each task takes a ref still being produced
        return bounded_map(take, [sleep_then.remote(0.002, i) for i in range(20)], max_in_flight=8)
    if kind == "plain values":
        return bounded_map(take, range(60), max_in_flight=rng.choice([4, 16]))
    if kind == "generator":
        return iter_results(with_backpressure(rng.choice([endless, five])).remote())
    raise AssertionError(kind)


KINDS = ["pending ref args", "ready ref args", "bounded_map of refs", "plain values", "generator"]


def test_close_at_random_moments_never_aborts_the_driver() -> None:
    rng = random.Random(16)
    runs: Counter[str] = Counter()
    started = time.monotonic()
    for _ in range(CLOSES):
        kind = rng.choice(KINDS)
        stream = stream_of(kind, rng)
        # sometimes after a few results; a generator closed before its first
        # output is not cancelled, and an endless one would hold a CPU for good
        for _ in range(rng.choice([0, 0, 1, 3]) or int(kind == "generator")):
            if next(stream, None) is None:
                break
        delay = rng.choice([0.0, rng.uniform(0.0, 0.006)])
        if delay:
            time.sleep(delay)
        stream.close()
        assert stream.pending == 0 and next(stream, None) is None  # stop means stop
        runs[kind] += 1
    still_works()
    print(f"\nclose() runs: {CLOSES} {dict(runs)} in {time.monotonic() - started:.1f} s")
    assert sum(runs.values()) == CLOSES
