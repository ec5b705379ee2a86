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
from tests._tree import halves, merge, small

pytestmark = pytest.mark.usefixtures("ray_session")


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
    pids = divide_and_conquer(
        [3, 1],
        split=halves,
        solve=lambda xs: [os.getpid()],
        combine=merge,
        is_base=small,
        in_caller=False,
    )
    assert len(pids) == 1 and os.getpid() not in pids


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
        time.sleep(0.02)  # leaves overlap, as they would in a real job
        return sorted(xs)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        data = list(range(128, 0, -1))  # 128 items, leaves of <= 2: depth 6
        out = divide_and_conquer(
            data,
            split=halves,
            solve=slow_sorted,
            combine=merge,
            is_base=small,
            subtree_tasks=0,
            in_caller=False,
        )
    finally:
        stop.set()
        watcher.join()
    assert out == sorted(data)
    cpus = int(ray.cluster_resources()["CPU"])
    assert peak[0] <= max(baseline, 2 * cpus + 2), (baseline, peak[0])


def pids_of(split=halves, **options):  # type: ignore[no-untyped-def]
    return divide_and_conquer(
        list(range(16)),
        split=split,
        solve=lambda xs: [os.getpid()],
        combine=lambda parts: [p for part in parts for p in part],
        is_base=small,
        **options,
    )


def test_tasks_run_outside_the_driver() -> None:
    pids = pids_of(in_caller=False)
    assert len(pids) == 8 and os.getpid() not in pids


def test_a_cheap_problem_is_solved_in_the_caller() -> None:
    # splitting 16 items takes microseconds: less than a task's round trip per part
    assert pids_of() == [os.getpid()] * 8
    assert divide_and_conquer([3, 1], split=halves, solve=sorted, combine=merge, is_base=small) == [
        1,
        3,
    ]


def test_the_caller_solves_one_root_part_while_a_task_solves_the_other() -> None:
    def slow_root(xs: list[int]) -> list[list[int]]:
        if len(xs) == 16:
            time.sleep(0.1)  # far above a trivial task's round trip: worth spreading
        return halves(xs)

    # two root parts of 8 on 2 CPUs: each a whole sub-tree; the caller keeps the first
    pids = pids_of(split=slow_root)
    assert pids[:4] == [os.getpid()] * 4
    assert len(set(pids[4:])) == 1 and os.getpid() not in pids[4:]


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
@given(st.lists(st.integers(), max_size=64), st.sampled_from([None, 0, 1, 3]), st.booleans())
def test_property_sorts_like_sorted(
    data: list[int], subtree_tasks: int | None, in_caller: bool
) -> None:
    assert divide_and_conquer(
        data,
        split=halves,
        solve=sorted,
        combine=merge,
        is_base=small,
        subtree_tasks=subtree_tasks,
        in_caller=in_caller,
    ) == sorted(data)


# (subtree_tasks, in_caller): all in the caller (a cheap problem); in tasks: None (default),
# 0 (a task per node), 1 (a task per root part, recursing locally)
SPREADS = [(None, True), (None, False), (0, False), (1, False)]


def notes(exc: BaseException) -> list[str]:
    return [n for n in getattr(exc, "__notes__", []) if n.startswith("ray-patterns:")]


@pytest.mark.parametrize(("subtree_tasks", "in_caller"), SPREADS)
def test_error_in_solve_names_the_exact_node(subtree_tasks: int | None, in_caller: bool) -> None:
    def solve(xs: list[int]) -> list[int]:
        if xs == [4, 5]:  # 16 -> [0..7] (0) -> [4..7] (0/1) -> [4, 5] (0/1/0)
            raise KeyError("no 4")
        return sorted(xs)

    with pytest.raises(KeyError, match="no 4") as info:
        divide_and_conquer(
            list(range(16)),
            split=halves,
            solve=solve,
            combine=merge,
            is_base=small,
            subtree_tasks=subtree_tasks,
            in_caller=in_caller,
        )
    assert notes(info.value) == ["ray-patterns: raised in the sub-problem at 0/1/0"]


@pytest.mark.parametrize(("subtree_tasks", "in_caller"), SPREADS)
@pytest.mark.parametrize(("node", "where"), [([12, 13, 14, 15], "1/1"), (list(range(16)), "root")])
def test_error_in_combine_names_the_node(
    subtree_tasks: int | None, in_caller: bool, node: list[int], where: str
) -> None:
    def combine(parts: list[list[int]]) -> list[int]:
        out = merge(parts)
        if out == node:
            raise OverflowError("combine broke")
        return out

    with pytest.raises(OverflowError, match="combine broke") as info:
        divide_and_conquer(
            list(range(16)),
            split=halves,
            solve=sorted,
            combine=combine,
            is_base=small,
            subtree_tasks=subtree_tasks,
            in_caller=in_caller,
        )
    assert notes(info.value) == [f"ray-patterns: raised in combine() at {where}"]


@pytest.mark.parametrize(("subtree_tasks", "in_caller"), SPREADS)
def test_problems_without_len(subtree_tasks: int | None, in_caller: bool) -> None:
    # an int problem: n ones, counted by halves; no len(), so sub-trees start by count
    assert (
        divide_and_conquer(
            100,
            split=lambda n: [n // 2, n - n // 2],
            solve=lambda n: n,
            combine=sum,
            is_base=lambda n: n <= 3,
            subtree_tasks=subtree_tasks,
            in_caller=in_caller,
        )
        == 100
    )


@pytest.mark.parametrize(
    ("option", "bad"),
    [("subtree_tasks", -1), ("subtree_tasks", 1.5), ("subtree_tasks", True), ("subtree_tasks", "2")]
    + [("in_caller", 1), ("in_caller", None)],
)
def test_bad_options_are_rejected(option: str, bad: object) -> None:
    with pytest.raises(ValueError, match=option):
        divide_and_conquer(
            [1, 2, 3],
            split=halves,
            solve=sorted,
            combine=merge,
            is_base=small,
            **{option: bad},  # type: ignore[arg-type]
        )


def test_numpy_parts_are_read_from_the_store() -> None:
    import numpy as np

    # parts over Ray's inline limit (100 KiB) go through the shared-memory store,
    # and a task receives them as read-only zero-copy arrays
    data = np.random.default_rng(0).integers(0, 1000, 200_000)
    seen: list[bool] = []

    def solve(part: np.ndarray) -> np.ndarray:
        return np.array([part.flags.writeable])

    flags = divide_and_conquer(
        data,
        split=lambda a: [a[: len(a) // 2], a[len(a) // 2 :]],
        solve=solve,
        combine=np.concatenate,
        is_base=lambda a: len(a) <= 25_000,
        subtree_tasks=0,
        in_caller=False,
    )
    seen.extend(flags.tolist())
    assert len(seen) == 8 and not any(seen)


def test_survives_a_worker_killed_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests._helpers import DieOnce

    die_once = DieOnce(str(tmp_path / "died"), trigger=(4, 5))

    def solve(xs: list[int]) -> list[int]:
        die_once(tuple(xs))
        return sorted(xs)

    # in tasks: the caller solving (4, 5) itself would kill this test's process
    out = divide_and_conquer(
        list(range(8)), split=halves, solve=solve, combine=merge, is_base=small, in_caller=False
    )
    assert out == list(range(8))
    assert (tmp_path / "died").exists()
