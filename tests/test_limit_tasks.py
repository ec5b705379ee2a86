from __future__ import annotations

import functools
import itertools
import time

import pytest
import ray
from hypothesis import given, settings
from hypothesis import strategies as st

from ray_patterns import bounded_map
from tests._helpers import Concurrency, CountingIterable, counted, ship_by_value, wait_for_cpus

pytestmark = pytest.mark.usefixtures("ray_session")

ship_by_value(__name__)


def triple(x: int) -> int:
    return 3 * x


@ray.remote
def remote_triple(x: int) -> int:
    return 3 * x


def test_plain_function_results_equal_plain_python() -> None:
    assert sorted(bounded_map(triple, range(20))) == [3 * x for x in range(20)]


def test_remote_function_in_input_order() -> None:
    assert list(bounded_map(remote_triple, range(20), ordered=True)) == [3 * x for x in range(20)]


def test_actor_method() -> None:
    @ray.remote(num_cpus=0)
    class Adder:
        def __init__(self, n: int) -> None:
            self.n = n

        def add(self, x: int) -> int:
            return x + self.n

    actor = Adder.remote(100)
    assert list(bounded_map(actor.add, range(5), ordered=True)) == [100, 101, 102, 103, 104]
    ray.kill(actor)


class CountedSubmit:
    """Looks like a remote function (has ``.remote(item)``); its tasks report to a counter."""

    def __init__(self, counter: object) -> None:
        self.counter = counter
        # num_cpus=0: only bounded_map limits how many run at once, not the 2 CPUs
        self.task = ray.remote(num_cpus=0)(counted)

    def remote(self, item: int) -> ray.ObjectRef:
        return self.task.remote(self.counter, 0.2, item)


@pytest.mark.parametrize(("ordered", "limit"), [(False, 3), (True, 3), (False, 5)])
def test_max_in_flight_is_never_exceeded_as_seen_by_the_tasks(ordered: bool, limit: int) -> None:
    counter = Concurrency.remote()
    out = list(bounded_map(CountedSubmit(counter), range(15), max_in_flight=limit, ordered=ordered))
    assert (out if ordered else sorted(out)) == list(range(15))
    stats = ray.get(counter.stats.remote())
    assert stats["started"] == 15
    assert 2 <= stats["peak"] <= limit
    ray.kill(counter)


def test_input_is_consumed_lazily() -> None:
    source = CountingIterable()  # infinite
    results = bounded_map(triple, iter(source), max_in_flight=4, ordered=True)
    first = list(itertools.islice(results, 5))
    assert first == [0, 3, 6, 9, 12]
    assert source.pulled <= 5 + 4
    results.close()


def test_infinite_generator_unordered() -> None:
    results = bounded_map(triple, itertools.count(), max_in_flight=3)
    assert len(list(itertools.islice(results, 10))) == 10
    results.close()


def test_error_names_the_item_index_and_other_results_survive() -> None:
    def check(x: int) -> int:
        if x == 2:
            raise ArithmeticError("two is bad")
        return x

    it = bounded_map(check, range(5), ordered=True)
    out = []
    while True:
        try:
            out.append(next(it))
        except StopIteration:
            break
        except ArithmeticError as exc:
            assert any("item 2" in n for n in exc.__notes__)
            out.append("error")
    assert out == [0, 1, "error", 3, 4]


def test_return_exceptions() -> None:
    def check(x: int) -> int:
        if x % 2:
            raise ValueError(x)
        return x

    out = list(bounded_map(check, range(4), ordered=True, return_exceptions=True))
    assert out[0] == 0 and out[2] == 2
    assert isinstance(out[1], ValueError) and isinstance(out[3], ValueError)


def test_early_close_stops_and_the_tasks_in_flight_finish() -> None:
    def nap(x: float) -> float:
        time.sleep(x)
        return x

    source = CountingIterable(limit=50)
    results = bounded_map(nap, (0.0 if i == 0 else 1.0 for i in source), max_in_flight=3)
    assert next(results) == 0.0
    results.close()
    assert results.pending == 0 and next(results, None) is None  # nothing more delivered
    assert source.pulled <= 1 + 3  # nothing more submitted
    # not cancelled (Ray 2.60 can abort the driver, see ResultStream): they finish
    assert wait_for_cpus(2, timeout=20)


def test_timeout() -> None:
    def nap(x: float) -> float:
        time.sleep(x)
        return x

    results = bounded_map(nap, [1.5], timeout=0.5)
    with pytest.raises(TimeoutError, match="1 items still pending"):
        next(results)
    results.close()
    assert wait_for_cpus(2, timeout=20)


def test_empty_input() -> None:
    assert list(bounded_map(triple, [])) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fn": triple, "iterable": range(3), "max_in_flight": 0}, ValueError, "max_in_flight"),
        ({"fn": triple, "iterable": range(3), "max_in_flight": -1}, ValueError, "max_in_flight"),
        ({"fn": 42, "iterable": range(3)}, TypeError, "fn must be a callable"),
        ({"fn": triple, "iterable": 5}, TypeError, "iterable"),
        ({"fn": triple, "iterable": range(3), "timeout": -2}, ValueError, "timeout"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        bounded_map(**kwargs)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-100, 100), max_size=25), st.integers(1, 6), st.booleans())
def test_property_results_match_map(values: list[int], limit: int, ordered: bool) -> None:
    out = list(bounded_map(triple, values, max_in_flight=limit, ordered=ordered))
    expected = [3 * v for v in values]
    assert (out if ordered else sorted(out)) == (expected if ordered else sorted(expected))


def test_killed_worker_is_reported_and_other_results_are_kept() -> None:
    from tests._helpers import die

    @ray.remote(max_retries=0)
    def value(x: int) -> int:
        return x

    class Mixed:
        @staticmethod
        def remote(x: int) -> ray.ObjectRef:
            return die.remote() if x == 2 else value.remote(x)

    out = list(bounded_map(Mixed, range(5), ordered=True, return_exceptions=True))
    assert [out[i] for i in (0, 1, 3, 4)] == [0, 1, 3, 4]
    assert isinstance(out[2], ray.exceptions.WorkerCrashedError)


def test_a_worker_killed_once_is_retried_by_ray(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests._helpers import DieOnce

    fn = DieOnce(str(tmp_path / "died"), trigger=3)
    assert list(bounded_map(fn, range(6), ordered=True)) == list(range(6))
    assert (tmp_path / "died").exists()


@pytest.mark.parametrize("fn", [abs, functools.partial(pow, exp=2)])
def test_builtins_and_partials_are_made_remote(fn) -> None:  # type: ignore[no-untyped-def]
    assert list(bounded_map(fn, [-2, 3], ordered=True)) == [fn(-2), fn(3)]
