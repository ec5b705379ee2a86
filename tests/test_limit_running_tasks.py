from __future__ import annotations

import pytest
import ray
from hypothesis import given, settings
from hypothesis import strategies as st

from ray_patterns._errors import RayPatternsError
from ray_patterns.limit_running_tasks import (
    TaskTooLargeError,
    measure_memory,
    memory_map,
    node_memory,
    parse_memory,
    tasks_that_fit,
    with_memory,
)
from tests._helpers import Concurrency, counted

pytestmark = pytest.mark.usefixtures("ray_session")

MIB = 1 << 20


def double(x: int) -> int:
    return 2 * x


def allocate(mib: int) -> int:
    block = bytearray(mib * MIB)
    block[::4096] = b"x" * len(block[::4096])  # touch every page
    return len(block) // MIB


@pytest.mark.parametrize(
    ("text", "nbytes"),
    [("2 GiB", 2 << 30), ("500MB", 500 * MIB), ("1.5g", 3 << 29), ("64k", 64 << 10), (7, 7)],
)
def test_parse_memory(text: object, nbytes: int) -> None:
    assert parse_memory(text) == nbytes


@pytest.mark.parametrize("bad", ["lots", "", "-1 GiB", 0, -5, float("inf")])
def test_parse_memory_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="memory"):
        parse_memory(bad)


def _half_a_node_plus_one() -> int:
    return int(max(node_memory().values()) // 2) + 1


def test_with_memory_lets_only_as_many_run_as_fit() -> None:
    # two CPUs would run two at once; memory for just over half the node allows one
    need = _half_a_node_plus_one()
    assert tasks_that_fit(need) == 1
    task = with_memory(ray.remote(counted), need)
    counter = Concurrency.remote()
    assert ray.get([task.remote(counter, 0.25, i) for i in range(4)]) == [0, 1, 2, 3]
    assert ray.get(counter.stats.remote())["peak"] == 1
    # the same tasks without memory= run two at once: the limit above is memory's doing
    plain = Concurrency.remote()
    ray.get([ray.remote(counted).remote(plain, 0.25, i) for i in range(4)])
    assert ray.get(plain.stats.remote())["peak"] >= 2
    ray.kill(counter)
    ray.kill(plain)


def test_a_task_larger_than_any_node_is_a_clear_error() -> None:
    with pytest.raises(TaskTooLargeError, match="largest of the 1 nodes") as info:
        with_memory(double, "100 TiB")
    assert isinstance(info.value, RayPatternsError) and isinstance(info.value, ValueError)
    with pytest.raises(TaskTooLargeError, match="100.0 TiB|102400.0 GiB"):
        list(memory_map(double, range(3), memory="100 TiB"))


def test_measure_memory_sees_the_allocation() -> None:
    small = measure_memory(allocate, 1)
    big = measure_memory(allocate, 200)
    assert big - small >= 190 * MIB
    assert big < small + 400 * MIB
    assert measure_memory(ray.remote(allocate), 1) < big  # a remote function is measured too


def test_measure_memory_raises_the_functions_error() -> None:
    with pytest.raises(ZeroDivisionError):
        measure_memory(lambda: 1 / 0)


def test_memory_map_measures_on_the_first_item_and_runs_it_once() -> None:
    counter = Concurrency.remote()

    def work(i: int) -> int:
        return counted(counter, 0.0, allocate(50) + i)

    out = list(memory_map(work, range(6), ordered=True))
    assert out == [50 + i for i in range(6)]
    assert ray.get(counter.stats.remote())["started"] == 6
    ray.kill(counter)


def test_memory_map_stated_size_unordered_and_empty() -> None:
    assert sorted(memory_map(double, range(10), memory="32 MiB")) == [2 * i for i in range(10)]
    assert list(memory_map(double, [])) == []
    assert list(memory_map(double, iter([5]))) == [10]


def test_memory_map_errors_name_the_item() -> None:
    def check(x: int) -> int:
        if x == 2:
            raise ArithmeticError("two")
        return x

    out = list(memory_map(check, range(4), memory="16 MiB", ordered=True, return_exceptions=True))
    assert out[:2] == [0, 1] and out[3] == 3 and isinstance(out[2], ArithmeticError)
    with pytest.raises(ArithmeticError) as info:
        list(memory_map(check, [2, 3]))  # the probe itself fails
    assert any("item 0" in note for note in info.value.__notes__)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"memory": "lots"}, ValueError, "memory"),
        ({"memory": 0}, ValueError, "memory"),
        ({"headroom": 0.5}, ValueError, "headroom"),
        ({"timeout": -1}, ValueError, "timeout"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        memory_map(double, range(3), **kwargs)
    with pytest.raises(TypeError, match="iterable"):
        memory_map(double, 5)


def test_a_killed_worker_is_retried(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests._helpers import DieOnce

    fn = DieOnce(str(tmp_path / "died"), trigger=3)
    assert list(memory_map(fn, range(5), memory="16 MiB", ordered=True)) == list(range(5))
    assert (tmp_path / "died").exists()


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(-100, 100), max_size=15), st.booleans())
def test_property_results_match_map(items: list[int], ordered: bool) -> None:
    out = list(memory_map(double, items, memory="8 MiB", ordered=ordered))
    expected = [2 * x for x in items]
    assert (out if ordered else sorted(out)) == (expected if ordered else sorted(expected))


def test_bench_case_shows_kills_without_memory_and_none_with_it() -> None:
    """The bench case on its own small-node Ray (a child process): without memory= two
    tasks run at once and Ray's memory monitor kills one (really), which Ray retries;
    with memory= by hand or memory_map's measured request, one runs at a time."""
    import dataclasses
    import functools

    from ray_patterns.bench.cases import limit_running_tasks as bench_case
    from ray_patterns.bench.core import run_case

    case = dataclasses.replace(
        bench_case.CASE, variants=functools.partial(bench_case.variants, n=2)
    )
    res = run_case(case, quick=True)
    assert all(v.error is None for v in res.variants), res.variants
    anti, hand, library = (res.by_role(r) for r in ("anti", "better", "library"))  # type: ignore[arg-type]
    assert anti and hand and library
    (got,) = anti.extras
    assert got["killed"] >= 1 and got["retried"] >= 1 and got["finished"] == 1, got
    for fixed in (hand, library):
        (got,) = fixed.extras
        assert got["killed"] == 0 and got["retried"] == 0 and got["finished"] == 1, got
    assert res.verdict.startswith("anti-pattern: "), res.verdict
    assert "by hand: none killed" in res.verdict and "library: none killed" in res.verdict
    assert res.figures["task_mib"] > res.figures["headroom_mib"] / 2  # two do not fit
    assert not bench_case._lab  # the lab's Ray is stopped
