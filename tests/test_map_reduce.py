from __future__ import annotations

import os

import pytest
import ray
from hypothesis import given, settings
from hypothesis import strategies as st

from ray_patterns import map_reduce, tree_reduce
from tests._helpers import CountingIterable

pytestmark = pytest.mark.usefixtures("ray_session")


def concat(parts: list[list[int]]) -> list[int]:
    return [x for part in parts for x in part]


def square(x: int) -> int:
    return x * x


def test_map_reduce_equals_plain_python() -> None:
    assert map_reduce(square, range(1000), sum) == sum(x * x for x in range(1000))


def test_map_reduce_keeps_input_order_for_non_commutative_reduce() -> None:
    out = map_reduce(lambda x: [x], range(300), concat, fan_in=3, batch_size=7)
    assert out == list(range(300))


def test_map_reduce_consumes_a_generator_lazily() -> None:
    source = CountingIterable(limit=500)
    assert map_reduce(square, iter(source), sum, batch_size=10, max_in_flight=2) == sum(
        x * x for x in range(500)
    )
    assert source.pulled == 500


def test_map_reduce_empty_input_gives_reduce_of_empty_list() -> None:
    assert map_reduce(square, [], sum) == 0


def test_map_reduce_names_the_items_of_a_failed_map() -> None:
    def bad(x: int) -> int:
        if x == 42:
            raise ZeroDivisionError("no")
        return x

    with pytest.raises(ZeroDivisionError) as info:
        map_reduce(bad, range(100), sum, batch_size=10)
    assert any("items 40..49" in note for note in info.value.__notes__)


def test_tree_reduce_returns_a_ref_and_reduces_in_tasks() -> None:
    def pids(values: list[object]) -> list[int]:
        # leaves are ints; partial results are lists of worker pids
        out = [os.getpid()]
        for v in values:
            if isinstance(v, list):
                out.extend(v)
        return out

    ref = tree_reduce(pids, [ray.put(i) for i in range(10)], fan_in=3)
    assert isinstance(ref, ray.ObjectRef)
    result = ray.get(ref)
    # 10 leaves, fan_in 3: 4 + 2 + 1 reduce tasks, none of them in the driver
    assert len(result) == 7
    assert os.getpid() not in result


@pytest.mark.parametrize("fan_in", [2, 3, 16])
def test_tree_reduce_keeps_order(fan_in: int) -> None:
    refs = [ray.put([i]) for i in range(25)]
    assert ray.get(tree_reduce(concat, refs, fan_in=fan_in)) == list(range(25))


def test_tree_reduce_single_ref_still_applies_reduce() -> None:
    assert ray.get(tree_reduce(lambda vs: [v * 2 for v in vs], [ray.put(21)])) == [42]


def test_tree_reduce_error_in_reduce_surfaces_on_get() -> None:
    def boom(values: list[int]) -> int:
        raise RuntimeError("reduce failed")

    ref = tree_reduce(boom, [ray.put(1), ray.put(2)])
    with pytest.raises(RuntimeError, match="reduce failed"):
        ray.get(ref)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: tree_reduce(sum, [ray.put(1)], fan_in=1), ValueError, "fan_in"),
        (lambda: tree_reduce(sum, []), ValueError, "at least one ref"),
        (lambda: tree_reduce(sum, [1, 2]), TypeError, r"refs\[0\]"),
        (lambda: tree_reduce("sum", [ray.put(1)]), TypeError, "reduce_fn"),
        (lambda: map_reduce(square, range(3), sum, fan_in=1), ValueError, "fan_in"),
        (lambda: map_reduce(square, range(3), sum, batch_size=-3), ValueError, "batch_size"),
        (lambda: map_reduce(None, range(3), sum), TypeError, "map_fn"),
        (lambda: map_reduce(square, 7, sum), TypeError, "iterable"),
    ],
)
def test_bad_arguments(call, error: type, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=match):
        call()


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-50, 50), max_size=60), st.integers(2, 6), st.integers(1, 9))
def test_property_map_reduce_order_and_values(values: list[int], fan_in: int, size: int) -> None:
    out = map_reduce(lambda x: [x * 2], values, concat, fan_in=fan_in, batch_size=size)
    assert out == [2 * v for v in values]


def test_map_reduce_survives_a_worker_killed_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests._helpers import DieOnce

    fn = DieOnce(str(tmp_path / "died"), trigger=17)
    assert map_reduce(fn, range(40), sum, batch_size=5) == sum(range(40))
    assert (tmp_path / "died").exists()


class _Squarer:
    """Callable instance with __eq__: unhashable, which once made map_reduce raise TypeError."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Squarer)

    def __call__(self, x: int) -> int:
        return x * x


def test_unhashable_callables_work() -> None:
    assert map_reduce(_Squarer(), range(50), sum, batch_size=10) == sum(x * x for x in range(50))
