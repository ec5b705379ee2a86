from __future__ import annotations

import itertools
import os
import signal

import pytest
import ray
from hypothesis import given, settings
from hypothesis import strategies as st

from ray_patterns import batched_map
from ray_patterns.fine_grained_tasks import (
    MAX_BATCH_SECONDS,
    MIN_BATCH_SECONDS,
    TARGET_BATCH_SECONDS,
    AutoBatchSize,
)
from tests._helpers import CountingIterable

pytestmark = pytest.mark.usefixtures("ray_session")


def inc(x: int) -> int:
    return x + 1


def test_results_equal_plain_python_in_input_order() -> None:
    assert list(batched_map(inc, range(1000))) == [x + 1 for x in range(1000)]


@pytest.mark.parametrize("size", [1, 7, 100, 5000])
def test_fixed_batch_sizes(size: int) -> None:
    assert list(batched_map(inc, range(300), batch_size=size)) == list(range(1, 301))


def test_unordered_returns_every_result() -> None:
    assert sorted(batched_map(inc, range(500), ordered=False)) == list(range(1, 501))


def test_many_items_run_in_few_tasks() -> None:
    def pid(_: int) -> int:
        return os.getpid()

    pids = list(batched_map(pid, range(2000), batch_size=500))
    # 4 batches: runs of equal pids, never one task per item
    runs = [len(list(group)) for _, group in itertools.groupby(pids)]
    assert sum(runs) == 2000 and min(runs) >= 500


def test_item_that_raises_is_named_and_others_are_kept() -> None:
    def check(x: int) -> int:
        if x == 13:
            raise ValueError("unlucky")
        return x

    it = batched_map(check, range(20), batch_size=5)
    out: list[object] = []
    while True:
        try:
            out.append(next(it))
        except StopIteration:
            break
        except ValueError as exc:
            notes = "\n".join(exc.__notes__)
            assert "item 13" in notes and "unlucky" in str(exc)
            assert "remote traceback" in notes
            out.append("error")
    assert out == [*range(13), "error", *range(14, 20)]


def test_return_exceptions() -> None:
    def check(x: int) -> int:
        if x == 1:
            raise KeyError(x)
        return x

    out = list(batched_map(check, range(3), return_exceptions=True))
    assert out[0] == 0 and isinstance(out[1], KeyError) and out[2] == 2


def test_killed_worker_fails_its_batch_items_and_keeps_the_rest() -> None:
    def maybe_die(x: int) -> int:
        if x == 7:
            os.kill(os.getpid(), signal.SIGKILL)
        return x

    out = list(batched_map(maybe_die, range(20), batch_size=5, return_exceptions=True))
    assert out[:5] == list(range(5)) and out[10:] == list(range(10, 20))
    # Ray retries a task whose worker died; its items fail only once retries run out
    assert all(isinstance(x, ray.exceptions.RayError) for x in out[5:10])


def test_input_is_consumed_lazily() -> None:
    source = CountingIterable()
    results = batched_map(inc, iter(source), batch_size=10, max_in_flight=2)
    assert list(itertools.islice(results, 5)) == [1, 2, 3, 4, 5]
    assert source.pulled <= 10 * 2 + 10
    results.close()


def test_empty_input() -> None:
    assert list(batched_map(inc, [])) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": -3}, ValueError, "batch_size"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": "big"}, ValueError, "batch_size"),
        ({"max_in_flight": 0}, ValueError, "max_in_flight"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        batched_map(inc, range(3), **kwargs)


def test_non_callable_and_remote_functions_are_rejected() -> None:
    with pytest.raises(TypeError, match="plain per-item function"):
        batched_map(3, range(3))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="plain per-item function"):
        batched_map(ray.remote(inc), range(3))
    with pytest.raises(TypeError, match="iterable"):
        batched_map(inc, 3)  # type: ignore[arg-type]


# -- the auto batch size, fed with synthetic durations (no Ray needed) -------------


def test_auto_probe_jumps_to_the_target() -> None:
    sizer = AutoBatchSize()
    sizer.observe(1, 10e-6)  # 10 us items
    assert sizer.size == int(TARGET_BATCH_SECONDS / 10e-6)


def test_auto_grows_at_most_twice_per_step_after_the_probe() -> None:
    sizer = AutoBatchSize()
    sizer.observe(1, 0.2)  # a slow first item: stays at 1
    assert sizer.size == 1
    for _ in range(5):
        before = sizer.size
        sizer.observe(before, 1e-5 * before)  # items turned out cheap
        assert before <= sizer.size <= 2 * before


def test_auto_shrinks_when_batches_run_long() -> None:
    sizer = AutoBatchSize()
    sizer.observe(1, 0.001)
    big = sizer.size
    sizer.observe(big, big * 0.05)  # items became 50x slower
    sizer.observe(sizer.size, sizer.size * 0.05)
    assert sizer.size < big
    assert sizer.size * 0.05 <= MAX_BATCH_SECONDS


def test_auto_respects_the_cap() -> None:
    sizer = AutoBatchSize(cap=50)
    sizer.observe(1, 1e-7)
    assert sizer.size == 50


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(1e-7, 1.0), min_size=1, max_size=30))
def test_property_auto_size_stays_positive_and_steps_are_bounded(costs: list[float]) -> None:
    sizer = AutoBatchSize()
    sizer.observe(1, costs[0])
    for cost in costs[1:]:
        before = sizer.size
        sizer.observe(before, cost * before)
        assert 1 <= sizer.size <= max(2 * before, int(TARGET_BATCH_SECONDS / 1e-7))
        if before * cost < MIN_BATCH_SECONDS:
            assert sizer.size <= 2 * before


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(), max_size=200), st.integers(1, 50))
def test_property_batched_map_equals_map(values: list[int], size: int) -> None:
    assert list(batched_map(inc, values, batch_size=size)) == [v + 1 for v in values]
