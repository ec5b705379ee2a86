from __future__ import annotations

import os
import signal
import time

import pytest
import ray
from hypothesis import given, settings
from hypothesis import strategies as st

from ray_patterns import as_completed, iter_results
from ray_patterns.generators import generate, with_backpressure
from tests._helpers import wait_for_cpus

pytestmark = pytest.mark.usefixtures("ray_session")


def squares(n: int):  # type: ignore[no-untyped-def]
    for i in range(n):
        yield i * i


def triple(x: int) -> int:
    return 3 * x


def values(items: list[int]):  # type: ignore[no-untyped-def]
    for item in items:  # noqa: UP028 - `yield from` fails in a Ray generator task
        yield item


@ray.remote(num_cpus=0)
class Produced:
    def __init__(self) -> None:
        self.n = 0

    def add(self) -> None:
        self.n += 1

    def count(self) -> int:
        return self.n


def counted(n: int, counter: object):  # type: ignore[no-untyped-def]
    for i in range(n):
        ray.get(counter.add.remote())  # type: ignore[attr-defined]
        yield i


def test_generate_equals_plain_python() -> None:
    assert list(generate(squares, 6)) == list(squares(6))


@ray.remote
def remote_squares(n: int):  # type: ignore[no-untyped-def]
    for i in range(n):
        yield i * i


def test_remote_generator_and_actor_method() -> None:
    assert list(generate(remote_squares, 4)) == [0, 1, 4, 9]

    @ray.remote(num_cpus=0)
    class Source:
        def items(self, n: int):  # type: ignore[no-untyped-def]
            for item in range(n):  # noqa: UP028 - `yield from` fails in Ray generator tasks
                yield item

    source = Source.remote()
    assert list(generate(source.items, 3)) == [0, 1, 2]
    ray.kill(source)


def test_result_flow_helpers_accept_a_generator() -> None:
    gen = with_backpressure(squares).remote(5)
    assert list(iter_results(gen)) == [0, 1, 4, 9, 16]
    gen = with_backpressure(squares).remote(5)
    assert [ray.get(ref) for ref in as_completed(gen)] == [0, 1, 4, 9, 16]
    # and what plain Ray gives for the same task
    assert [ray.get(ref) for ref in remote_squares.remote(5)] == [0, 1, 4, 9, 16]


def test_producer_pauses_while_outputs_are_unread() -> None:
    counter = Produced.remote()
    gen = with_backpressure(counted, max_unconsumed=2).remote(20, counter)
    time.sleep(0.8)  # the producer has had time to run far ahead, were it allowed
    assert 1 <= ray.get(counter.count.remote()) <= 2
    stream = iter_results(gen)
    assert [next(stream) for _ in range(5)] == list(range(5))
    assert stream.pending <= 1  # the consumer holds one output at a time
    assert list(stream) == list(range(5, 20))
    assert ray.get(counter.count.remote()) == 20
    ray.kill(counter)


def test_plain_ray_without_backpressure_runs_ahead() -> None:
    # the contrast that makes the previous test meaningful
    counter = Produced.remote()
    gen = ray.remote(counted).remote(20, counter)
    ray.get(gen.completed())
    assert ray.get(counter.count.remote()) == 20
    ray.kill(counter)


def failing(n: int):  # type: ignore[no-untyped-def]
    for item in range(n):  # noqa: UP028 - `yield from` fails in Ray generator tasks
        yield item
    raise ArithmeticError("after the outputs")


def test_error_after_some_outputs_keeps_them_and_names_the_position() -> None:
    stream = generate(failing, 3)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ArithmeticError) as info:
        next(stream)
    assert any("generator output 3" in note for note in info.value.__notes__)
    assert list(stream) == []


def test_return_exceptions_and_timeout_through_iter_results() -> None:
    out = list(iter_results(with_backpressure(failing).remote(2), return_exceptions=True))
    assert out[:2] == [0, 1] and isinstance(out[2], ArithmeticError)

    def stalls():  # type: ignore[no-untyped-def]
        yield 1
        time.sleep(3)
        yield 2

    stream = iter_results(with_backpressure(stalls).remote(), timeout=0.5)
    assert next(stream) == 1
    with pytest.raises(TimeoutError, match="yielded 1 outputs"):
        next(stream)
    stream.close()


def endless():  # type: ignore[no-untyped-def]
    i = 0
    while True:
        yield i
        i += 1


def test_early_close_cancels_the_producer() -> None:
    gen = with_backpressure(endless).remote()
    stream = iter_results(gen)
    for value in stream:
        if value == 3:
            break
    stream.close()
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(gen.completed(), timeout=20)
    assert wait_for_cpus(2)


def dies_once(n: int, marker: str):  # type: ignore[no-untyped-def]
    for i in range(n):
        if i == 2 and not os.path.exists(marker):
            with open(marker, "w") as fh:
                fh.write("died")
            os.kill(os.getpid(), signal.SIGKILL)
        yield i


def test_a_producer_killed_mid_stream_is_retried_without_duplicates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = str(tmp_path / "died")
    assert list(generate(dies_once, 5, marker)) == [0, 1, 2, 3, 4]
    assert os.path.exists(marker)


def test_a_producer_killed_for_good_is_reported() -> None:
    def dies():  # type: ignore[no-untyped-def]
        yield 0
        os.kill(os.getpid(), signal.SIGKILL)
        yield 1

    gen = with_backpressure(ray.remote(max_retries=0)(dies)).remote()
    out = list(iter_results(gen, return_exceptions=True))
    assert out[0] == 0
    assert isinstance(out[-1], ray.exceptions.WorkerCrashedError)


@pytest.mark.parametrize(
    ("fn", "kwargs", "error", "match"),
    [
        (abs, {}, TypeError, "not a generator function"),
        (ray.remote(triple), {}, TypeError, "not a generator function"),
        (42, {}, TypeError, "generator function"),
        (squares, {"max_unconsumed": 0}, ValueError, "max_unconsumed"),
        (squares, {"max_unconsumed": True}, ValueError, "max_unconsumed"),
    ],
)
def test_bad_arguments(fn: object, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        with_backpressure(fn, **kwargs)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(-1000, 1000), max_size=12), st.integers(1, 4))
def test_property_outputs_in_yield_order(items: list[int], max_unconsumed: int) -> None:
    assert list(generate(values, items, max_unconsumed=max_unconsumed)) == items
