"""ResultStream.close(): stop means stop, and never a cancel that can abort the driver."""

from __future__ import annotations

import pytest
import ray

from ray_patterns import iter_results
from tests._helpers import sleep_then
from tests._tree import consume, still_works

pytestmark = pytest.mark.usefixtures("ray_session")


def test_close_while_ref_arguments_resolve_stops_without_cancelling() -> None:
    # the closing note's reproducer through the library: tasks whose ref argument is
    # still being produced, the stream closed at once (a cancel here aborted Ray 2.60)
    src = sleep_then.remote(0.2, 2)
    kids = [consume.remote(src) for _ in range(20)]
    stream = iter_results(kids)
    stream.close()
    assert stream.pending == 0 and next(stream, None) is None  # nothing more delivered
    assert ray.get(kids, timeout=30) == [2] * 20  # left to finish, not cancelled
    still_works()
