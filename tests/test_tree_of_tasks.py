from __future__ import annotations

import os
import threading
import time

import pytest
import ray
from hypothesis import given, settings
from hypothesis import strategies as st

from ray_patterns import divide_and_conquer
from tests._helpers import ray_workers

pytestmark = pytest.mark.usefixtures("ray_session")


def halves(xs: list[int]) -> list[list[int]]:
    mid = len(xs) // 2
    return [xs[:mid], xs[mid:]]


def merge(parts: list[list[int]]) -> list[int]:
    return sorted(x for part in parts for x in part)


def small(xs: list[int]) -> bool:
    return len(xs) <= 2


def test_merge_sort_equals_sorted() -> None:
    data = [(i * 7919) % 1000 for i in range(1000)]
    out = divide_and_conquer(data, split=halves, solve=sorted, combine=merge, is_base=small)
    assert out == sorted(data)


def test_combine_receives_children_in_split_order() -> None:
    out = divide_and_conquer(
        list(range(50)),
        split=lambda xs: [xs[: len(xs) // 3], xs[len(xs) // 3 :]],
        solve=list,
        combine=lambda parts: [x for part in parts for x in part],
        is_base=lambda xs: len(xs) <= 4,
    )
    assert out == list(range(50))


def test_base_problem_is_solved_in_one_task() -> None:
    assert divide_and_conquer([3, 1], split=halves, solve=sorted, combine=merge, is_base=small) == [
        1,
        3,
    ]


def test_no_task_blocks_so_workers_stay_bounded_for_a_deep_tree() -> None:
    # wait for idle workers from earlier tests to be reaped, then watch the count
    deadline = time.monotonic() + 20
    while ray_workers() > 6 and time.monotonic() < deadline:
        time.sleep(0.5)
    baseline = ray_workers()
    peak = [baseline]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], ray_workers())
            time.sleep(0.05)

    def slow_sorted(xs: list[int]) -> list[int]:
        time.sleep(0.05)  # leaves overlap, as they would in a real job
        return sorted(xs)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        data = list(range(256, 0, -1))  # 256 items, leaves of <= 2: depth 7
        out = divide_and_conquer(
            data, split=halves, solve=slow_sorted, combine=merge, is_base=small
        )
    finally:
        stop.set()
        watcher.join()
    assert out == sorted(data)
    cpus = int(ray.cluster_resources()["CPU"])
    assert peak[0] <= max(baseline, 2 * cpus + 2), (baseline, peak[0])


def test_tasks_run_outside_the_driver() -> None:
    pids = divide_and_conquer(
        list(range(16)),
        split=halves,
        solve=lambda xs: [os.getpid()],
        combine=lambda parts: [p for part in parts for p in part],
        is_base=small,
    )
    assert len(pids) == 8 and os.getpid() not in pids


def test_error_in_split_names_the_sub_problem() -> None:
    def split(xs: list[int]) -> list[list[int]]:
        if len(xs) < 8:
            raise ValueError("cannot split")
        return halves(xs)

    with pytest.raises(ValueError, match="cannot split") as info:
        divide_and_conquer(list(range(16)), split=split, solve=sorted, combine=merge, is_base=small)
    assert any("sub-problem at" in note for note in info.value.__notes__)


def test_split_returning_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no parts"):
        divide_and_conquer(
            [1, 2, 3], split=lambda xs: [], solve=sorted, combine=merge, is_base=small
        )


def test_error_in_combine_surfaces() -> None:
    def combine(parts: list[list[int]]) -> list[int]:
        raise OverflowError("combine broke")

    with pytest.raises(OverflowError, match="combine broke"):
        divide_and_conquer(
            list(range(8)), split=halves, solve=sorted, combine=combine, is_base=small
        )


@pytest.mark.parametrize("name", ["split", "solve", "combine", "is_base"])
def test_non_callables_are_rejected(name: str) -> None:
    kwargs = {"split": halves, "solve": sorted, "combine": merge, "is_base": small}
    kwargs[name] = 5  # type: ignore[assignment]
    with pytest.raises(TypeError, match=name):
        divide_and_conquer([1], **kwargs)  # type: ignore[arg-type]


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(), max_size=64))
def test_property_sorts_like_sorted(data: list[int]) -> None:
    assert divide_and_conquer(
        data, split=halves, solve=sorted, combine=merge, is_base=small
    ) == sorted(data)


def test_survives_a_worker_killed_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests._helpers import DieOnce

    die_once = DieOnce(str(tmp_path / "died"), trigger=(4, 5))

    def solve(xs: list[int]) -> list[int]:
        die_once(tuple(xs))
        return sorted(xs)

    out = divide_and_conquer(
        list(range(8)), split=halves, solve=solve, combine=merge, is_base=small
    )
    assert out == list(range(8))
    assert (tmp_path / "died").exists()
