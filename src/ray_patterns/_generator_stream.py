"""Results of a streaming generator task (an ``ObjectRefGenerator``), one at a time.

Shared by ``iter_results`` / ``as_completed`` (which accept a generator in place of a
list of refs) and the generators page's ``generate``. A generator's outputs finish
in the order it yields them, so completion order and input order are the same, and
pulling one output at a time is what keeps the consumer's memory bounded: a list of
the refs would keep every output alive in the object store.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from ray import ObjectRef, ObjectRefGenerator

from ray_patterns._stream import ResultStream, Submission, cancel_generator


class GeneratorSource(Iterator[Submission]):
    """``(position, ref)`` of each output, pulled when asked, within a deadline."""

    def __init__(self, gen: ObjectRefGenerator, timeout: float | None) -> None:
        self.gen = gen
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.position = 0
        self.finished = False

    def __iter__(self) -> GeneratorSource:
        return self

    def __next__(self) -> Submission:
        if self.finished:
            raise StopIteration
        wait = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
        try:
            # the public next() has no timeout; _next_sync is what it calls
            ref = self.gen._next_sync(timeout_s=wait)
        except StopIteration:
            self.finished = True
            raise
        if ref.is_nil():
            raise TimeoutError(
                f"the generator task yielded {self.position} outputs, and no next one came "
                f"within timeout={self.timeout}s; raise the timeout, or close() the stream"
            )
        self.position += 1
        return self.position - 1, ref


class GeneratorStream(ResultStream[Any]):
    """A ``ResultStream`` over a generator: one output fetched at a time, in yield order.

    Closing it early cancels the generator task (unless ``cancel_on_close=False``)
    with a plain ``ray.cancel``: force-killing a streaming generator's worker can
    abort the driver in Ray 2.60, and a plain cancel stops a generator at its next
    ``yield`` (also one paused by back-pressure). Only once it has yielded an
    output here (it is running: past the submission and argument resolution a
    cancel can race, see ``cancel_generator``); one closed before its first
    output runs to its end, its outputs dropped.
    """

    def __init__(
        self,
        gen: ObjectRefGenerator,
        *,
        return_exceptions: bool,
        timeout: float | None,
        cancel_on_close: bool,
    ) -> None:
        self._generator_source = GeneratorSource(gen, timeout)
        self._generator: ObjectRefGenerator | None = gen
        self._cancel_generator = cancel_on_close
        super().__init__(
            self._generator_source,
            what="generator output",
            ordered=True,
            chunk_size=1,
            max_pending=1,
            return_exceptions=return_exceptions,
            timeout=timeout,
            cancel_on_close=False,  # the outputs' task is the generator: cancelled below
        )

    def close(self) -> None:
        gen, self._generator = getattr(self, "_generator", None), None
        super().close()
        source = self._generator_source
        if gen is not None and self._cancel_generator and source.position and not source.finished:
            cancel_generator(gen)


def generator_results(
    gen: ObjectRefGenerator,
    *,
    return_exceptions: bool = False,
    timeout: float | None = None,
    cancel_on_close: bool = True,
) -> GeneratorStream:
    return GeneratorStream(
        gen, return_exceptions=return_exceptions, timeout=timeout, cancel_on_close=cancel_on_close
    )


def generator_refs(gen: ObjectRefGenerator, timeout: float | None) -> Iterator[ObjectRef]:
    """Each output's ref as soon as it is ready (``as_completed`` of a generator)."""
    for _, ref in GeneratorSource(gen, timeout):
        yield ref


__all__ = ["GeneratorSource", "GeneratorStream", "generator_refs", "generator_results"]
