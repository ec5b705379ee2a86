from __future__ import annotations

import gc
import weakref

import pytest
import ray
from hypothesis import given, settings
from hypothesis import strategies as st

from ray_patterns import iter_results
from tests._helpers import die, fail_with, sleep_then, square, wait_for_cpus

pytestmark = pytest.mark.usefixtures("ray_session")


def test_completion_order_by_default_and_values_equal_plain_python() -> None:
    refs = [sleep_then.remote(2.0, "slow"), ray.put("fast")]
    assert list(iter_results(refs)) == ["fast", "slow"]


def test_ordered_gives_input_order() -> None:
    refs = [sleep_then.remote(0.5, "slow"), ray.put("fast"), square.remote(3)]
    assert list(iter_results(refs, ordered=True, chunk_size=2)) == ["slow", "fast", 9]


def test_raising_task_names_its_index_and_other_results_survive() -> None:
    refs = [square.remote(1), fail_with.remote("bad item"), square.remote(3)]
    it = iter_results(refs, ordered=True)
    assert next(it) == 1
    with pytest.raises(ValueError, match="bad item") as info:
        next(it)
    assert any("item 1" in note for note in getattr(info.value, "__notes__", []))
    assert next(it) == 9  # the stream goes on after an error
    with pytest.raises(StopIteration):
        next(it)


def test_return_exceptions_yields_the_exception_in_place() -> None:
    refs = [square.remote(2), fail_with.remote("oops")]
    out = list(iter_results(refs, ordered=True, return_exceptions=True))
    assert out[0] == 4
    assert isinstance(out[1], ValueError) and "oops" in str(out[1])


def test_killed_worker_gives_a_ray_error_and_others_are_delivered() -> None:
    refs = [square.remote(4), die.remote(), square.remote(5)]
    out = list(iter_results(refs, return_exceptions=True))
    assert sorted(x for x in out if isinstance(x, int)) == [16, 25]
    errors = [x for x in out if isinstance(x, Exception)]
    assert len(errors) == 1
    assert isinstance(errors[0], ray.exceptions.WorkerCrashedError)


def test_timeout_raises_with_pending_count() -> None:
    slow = sleep_then.remote(1.5, None)
    it = iter_results([ray.put(1), slow], timeout=0.5)
    assert next(it) == 1
    with pytest.raises(TimeoutError, match=r"1 items still pending"):
        next(it)
    it.close()
    assert wait_for_cpus(2)


def test_break_stops_and_leaves_the_tasks_to_finish() -> None:
    # close() never cancels a normal task: Ray 2.60 can abort the driver (see ResultStream)
    slow = [sleep_then.remote(0.5, i) for i in range(2)]
    for value in iter_results([ray.put("first"), *slow]):
        assert value == "first"
        break
    gc.collect()
    assert ray.get(slow, timeout=30) == [0, 1]


def test_cancel_on_close_false_leaves_tasks_running() -> None:
    ref = sleep_then.remote(0.5, "done")
    it = iter_results([ray.put(0), ref], ordered=True, cancel_on_close=False)
    assert next(it) == 0
    it.close()
    assert ray.get(ref, timeout=30) == "done"


def test_context_manager_closes() -> None:
    slow = sleep_then.remote(0.5, "done")
    with iter_results([ray.put(1), slow]) as it:
        assert next(it) == 1
    assert it.pending == 0 and next(it, None) is None
    assert ray.get(slow, timeout=30) == "done"


def test_holds_no_reference_to_yielded_results() -> None:
    class Box:
        pass

    it = iter_results([ray.put(Box()) for _ in range(3)], chunk_size=1)
    first = next(it)
    ref = weakref.ref(first)
    del first
    gc.collect()
    assert ref() is None  # the iterator kept no copy of what it yielded
    assert len(list(it)) == 2


def test_chunk_size_bounds_values_fetched_at_once() -> None:
    it = iter_results([ray.put(i) for i in range(10)], ordered=True, chunk_size=3)
    assert next(it) == 0
    assert len(it._buffer) <= 2  # 3 fetched, one yielded
    assert list(it) == list(range(1, 10))


def test_empty_input() -> None:
    assert list(iter_results([])) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"chunk_size": 0}, ValueError, "chunk_size"),
        ({"chunk_size": -3}, ValueError, "chunk_size"),
        ({"timeout": -1}, ValueError, "timeout"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        iter_results([ray.put(1)], **kwargs)


def test_non_refs_are_rejected_with_their_index() -> None:
    with pytest.raises(TypeError, match=r"refs\[1\] is str"):
        iter_results([ray.put(1), "x"])  # type: ignore[list-item]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(), max_size=30), st.integers(1, 12), st.booleans())
def test_property_orderings_and_chunk_sizes(values: list[int], chunk: int, ordered: bool) -> None:
    refs = [ray.put(v) for v in values]
    out = list(iter_results(refs, ordered=ordered, chunk_size=chunk))
    assert (out if ordered else sorted(out)) == (values if ordered else sorted(values))
