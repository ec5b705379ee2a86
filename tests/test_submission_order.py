from __future__ import annotations

import time

import pytest
import ray
from hypothesis import given, settings
from hypothesis import strategies as st

from ray_patterns import as_completed
from tests._helpers import sleep_then, square

pytestmark = pytest.mark.usefixtures("ray_session")


def test_yields_every_ref_once_with_values_equal_to_plain_python() -> None:
    refs = [square.remote(i) for i in range(30)]
    seen = list(as_completed(refs))
    assert sorted(seen, key=refs.index) == refs
    assert sorted(ray.get(seen)) == sorted(i * i for i in range(30))


def test_fast_result_comes_before_slow_ones() -> None:
    slow = [sleep_then.remote(3.0, i) for i in range(2)]
    fast = ray.put("fast")
    first = next(as_completed([*slow, fast]))
    assert first == fast


def test_yields_one_at_a_time_without_waiting_for_a_chunk() -> None:
    # one ready ref among slow ones: Ray's own as_completed waits for 10
    slow = [sleep_then.remote(20.0, i) for i in range(2)]
    ready = ray.put(1)
    it = as_completed([*slow, ready], timeout=10)
    start = time.monotonic()
    assert next(it) == ready
    assert time.monotonic() - start < 10
    for ref in slow:
        ray.cancel(ref)


def test_timeout_bounds_the_whole_iteration_and_names_pending_count() -> None:
    slow = sleep_then.remote(30.0, None)
    refs = [ray.put(0), slow]
    it = as_completed(refs, timeout=0.5)
    assert next(it) == refs[0]
    with pytest.raises(TimeoutError, match=r"1 of 2 refs still pending"):
        next(it)
    ray.cancel(slow)


def test_accepts_refs_from_actor_methods_and_put() -> None:
    @ray.remote(num_cpus=0)
    class Echo:
        def echo(self, x: int) -> int:
            return x

    actor = Echo.remote()
    refs = [actor.echo.remote(1), ray.put(2), square.remote(3)]
    assert sorted(ray.get(list(as_completed(refs)))) == [1, 2, 9]
    ray.kill(actor)


def test_empty_input_yields_nothing() -> None:
    assert list(as_completed([])) == []


def test_duplicates_are_yielded_once() -> None:
    ref = ray.put(5)
    assert list(as_completed([ref, ref])) == [ref]


def test_a_failed_task_is_yielded_and_raises_on_get() -> None:
    @ray.remote
    def boom() -> None:
        raise KeyError("nope")

    refs = [boom.remote(), square.remote(2)]
    out = list(as_completed(refs))
    assert set(out) == set(refs)
    with pytest.raises(KeyError):
        ray.get(refs[0])
    assert ray.get(refs[1]) == 4


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        ([1, 2], TypeError, r"refs\[0\] is int"),
        ("abc", TypeError, "iterable of ObjectRefs"),
        (None, TypeError, "iterable of ObjectRefs"),
    ],
)
def test_bad_refs_raise_type_error_naming_the_argument(
    bad: object, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        as_completed(bad)  # type: ignore[arg-type]


def test_single_ref_instead_of_list_is_rejected() -> None:
    with pytest.raises(TypeError, match="single ObjectRef"):
        as_completed(ray.put(1))  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", [-1, "soon"])
def test_bad_timeout_raises_value_error(timeout: object) -> None:
    with pytest.raises(ValueError, match="timeout"):
        as_completed([ray.put(1)], timeout=timeout)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(), max_size=40))
def test_property_every_value_comes_back_exactly_once(values: list[int]) -> None:
    refs = [ray.put(v) for v in values]
    assert sorted(ray.get(list(as_completed(refs)))) == sorted(values)
