"""ResultStream.close(): stop means stop, and never a cancel that can abort the driver."""

from __future__ import annotations

import time

import pytest
import ray

from ray_patterns import iter_results
from tests._tree import still_works

pytestmark = pytest.mark.usefixtures("ray_session")


@ray.remote
def produce(x: int) -> int:
    time.sleep(0.2)
    return x


@ray.remote
def consume(x: int) -> int:
    return x + 1


def test_close_while_ref_arguments_resolve_stops_without_cancelling() -> None:
    # the closing note's reproducer through the library: tasks whose ref argument is
    # still being produced, the stream closed at once (a cancel here aborted Ray 2.60)
    src = produce.remote(1)
    kids = [consume.remote(src) for _ in range(20)]
    stream = iter_results(kids)
    stream.close()
    assert stream.pending == 0 and next(stream, None) is None  # nothing more delivered
    assert ray.get(kids, timeout=30) == [2] * 20  # left to finish, not cancelled
    still_works()
