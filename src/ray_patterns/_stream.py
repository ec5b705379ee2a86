"""The result stream behind ``iter_results``, ``bounded_map`` and ``batched_map``.

One iterator class instead of a generator, so that a task's exception can be
raised at its place in the stream and the caller can still go on with
``next()`` to the other results (a generator is finished once it raises).
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

import ray
from ray import ObjectRef, ObjectRefGenerator

T = TypeVar("T")

# (position, ref) pairs produced lazily; position is the index reported in errors
Submission = tuple[int, ObjectRef]
# turns one fetched value (or _Failure) into the (position, value) items it stands for
Expand = Callable[[int, Any], list[tuple[int, Any]]]


def annotate(exc: BaseException, note: str) -> BaseException:
    """Attach ``note`` to ``exc`` (shown under the traceback; ``__notes__`` on 3.10 too)."""
    if sys.version_info >= (3, 11):
        exc.add_note(note)
    else:  # pragma: no cover - exercised on 3.10 only
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]
    return exc


class _Failure:
    """A fetched exception, kept apart from values that happen to be exceptions."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def fetch(refs: list[ObjectRef], timeout: float | None) -> list[Any]:
    """``ray.get`` of a batch; a failing item becomes a ``_Failure``, the others survive."""
    try:
        return list(ray.get(refs, timeout=timeout))
    except ray.exceptions.GetTimeoutError:
        raise
    except Exception:
        out: list[Any] = []
        for ref in refs:
            try:
                out.append(ray.get(ref, timeout=timeout))
            except ray.exceptions.GetTimeoutError:
                raise
            except Exception as exc:
                out.append(_Failure(exc))
        return out


def cancel_generator(gen: ObjectRefGenerator) -> None:
    """Plain-cancel a generator task that is running; never raises.

    The one cancel the library makes. Ray 2.60 aborts the driver when a cancel
    races a task's submission, the resolution of its ``ObjectRef`` arguments or
    its completion (``task_manager.cc`` ``it != submissible_tasks_.end()``,
    ``reference_counter.cc`` ``submitted_task_ref_count > 0``), forced or plain;
    a forced one can also kill the next task of a reused worker. So normal tasks
    are never cancelled (see ``ResultStream``). A generator that has yielded is
    past submission and resolution, and an endless one would otherwise run
    forever: a plain cancel stops it at its next ``yield`` (force-killing a
    generator's worker also aborted the driver).
    """
    try:
        ray.cancel(gen)
    except Exception:  # finished already, or Ray shut down
        pass


class ResultStream(Iterator[T], Generic[T]):
    """The results of Ray tasks as an iterator, holding only a bounded number at a time.

    ``bounded_map``, ``batched_map`` and ``iter_results`` return one. Iterate it
    (or call ``next()``) to get each result: in completion order, or in input
    order where the function says so. An item whose task raised has its
    exception raised at its place, with a note naming the item's index; calling
    ``next()`` again goes on with the other results (or pass
    ``return_exceptions=True`` to get the exception as the item). A ``timeout``
    bounds the whole iteration with a ``TimeoutError`` saying how many are left.

    ``pending`` is how many tasks are submitted but not yet fetched. ``close()``
    (also on leaving a ``with`` block, or when the stream is dropped, e.g. after
    ``break``) stops the stream: nothing more is submitted or delivered, results
    already fetched are dropped. Tasks already submitted are not cancelled:
    Ray 2.60 can abort the driver when a cancel races a task's argument
    resolution or its completion (see ``cancel_generator``). They finish in the
    background, at most ``max_in_flight`` of them for ``bounded_map``,
    ``batched_map`` and ``memory_map``, and their results are freed as they
    come. A generator task's stream cancels the task (``cancel_on_close``).

    >>> import ray_patterns
    >>> def double(x):
    ...     return 2 * x
    >>> with ray_patterns.bounded_map(double, range(100), max_in_flight=4, ordered=True) as s:
    ...     first = [next(s), next(s)]
    ...     still_queued = s.pending
    >>> first, 0 < still_queued <= 4, s.pending
    ([0, 2], True, 0)

    Internals: ``source`` yields ``(position, ref)`` pairs and is pulled only
    while fewer than ``max_pending`` refs are outstanding (``None``: pull
    everything, the refs already exist). At most ``chunk_size`` fetched results
    are held at a time.
    """

    def __init__(
        self,
        source: Iterator[Submission],
        *,
        what: str,
        ordered: bool,
        chunk_size: int,
        max_pending: int | None,
        return_exceptions: bool,
        timeout: float | None,
        cancel_on_close: bool,
        expand: Expand | None = None,
    ) -> None:
        self._source: Iterator[Submission] | None = source
        self._what = what
        self._ordered = ordered
        self._chunk = chunk_size
        self._max_pending = max_pending
        self._return_exceptions = return_exceptions
        self._timeout = timeout
        self._deadline = None if timeout is None else time.monotonic() + timeout
        # only a generator task's stream cancels (GeneratorStream); normal tasks never
        self._cancel_on_close = cancel_on_close
        self._expand = expand
        # outstanding refs -> positions (a ref can be given twice)
        self._pending: dict[ObjectRef, list[int]] = {}
        # ordered mode: outstanding refs in position order
        self._order: deque[ObjectRef] = deque()
        # unordered mode: refs ray.wait reported ready but not yet fetched
        self._ready: deque[ObjectRef] = deque()
        self._buffer: deque[tuple[int, Any]] = deque()
        self._closed = False

    # -- iterator protocol ---------------------------------------------------------
    def __iter__(self) -> ResultStream[T]:
        return self

    def __next__(self) -> T:
        while not self._buffer:
            if self._closed:
                raise StopIteration
            self._fill()
            if not self._pending:
                self._closed = True
                raise StopIteration
            self._advance()
        position, value = self._buffer.popleft()
        if isinstance(value, _Failure):
            exc = value.exc
            if self._return_exceptions:
                return exc  # type: ignore[return-value]
            raise annotate(
                exc,
                f"ray-patterns: raised by {self._what} {position}; the other results are "
                "still available: call next() again, or pass return_exceptions=True",
            )
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop: nothing more is submitted or delivered; submitted tasks finish unwatched."""
        if self._closed and not self._pending:
            return
        self._closed = True
        self._source = None
        pending, self._pending = list(self._pending), {}
        self._order.clear()
        self._ready.clear()
        self._buffer.clear()
        del pending  # dropped: Ray frees each result when its task ends

    def __enter__(self) -> ResultStream[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # `for x in stream: break` drops the stream: stop submitting
        try:
            if ray.is_initialized():
                self.close()
        except Exception:
            pass

    def set_max_pending(self, limit: int) -> None:
        """Change how many refs may be outstanding (used while probing a batch size)."""
        self._max_pending = limit

    @property
    def pending(self) -> int:
        """How many refs are outstanding (submitted, result not yet fetched)."""
        return len(self._pending)

    # -- internals -----------------------------------------------------------------
    def _remaining(self) -> float | None:
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - time.monotonic())

    def _timeout_error(self) -> TimeoutError:
        return TimeoutError(
            f"{len(self._pending)} {self._what}s still pending after timeout={self._timeout}s; "
            "raise the timeout, or close() the stream"
        )

    def _fill(self) -> None:
        source = self._source
        if source is None:
            return
        while self._max_pending is None or len(self._pending) < self._max_pending:
            try:
                position, ref = next(source)
            except StopIteration:
                self._source = None
                return
            positions = self._pending.get(ref)
            if positions is None:
                self._pending[ref] = [position]
                if self._ordered:
                    self._order.append(ref)
            else:
                positions.append(position)

    def _take(self, refs: list[ObjectRef]) -> None:
        try:
            values = fetch(refs, self._remaining())
        except ray.exceptions.GetTimeoutError:
            raise self._timeout_error() from None
        for ref, value in zip(refs, values, strict=True):
            for position in self._pending.pop(ref):
                if self._expand is not None:
                    self._buffer.extend(self._expand(position, value))
                else:
                    self._buffer.append((position, value))

    def _advance(self) -> None:
        if self._ordered:
            # input order: the head, plus the refs after it that are already ready,
            # in one ray.get (at most chunk_size): no waiting on a whole chunk
            candidates = [self._order[i] for i in range(min(self._chunk, len(self._order)))]
            batch = candidates[:1]
            if len(candidates) > 1:
                ready, _ = ray.wait(candidates[1:], num_returns=len(candidates) - 1, timeout=0)
                done = set(ready)
                for ref in candidates[1:]:
                    if ref not in done:
                        break
                    batch.append(ref)
            for _ in batch:
                self._order.popleft()
            try:
                self._take(batch)
            except TimeoutError:
                self._order.extendleft(reversed(batch))
                raise
            return
        if not self._ready:
            # everything already finished in one call, so n finished refs cost O(n)
            pending = list(self._pending)
            ready, _ = ray.wait(pending, num_returns=len(pending), timeout=0)
            if not ready:
                ready, _ = ray.wait(pending, num_returns=1, timeout=self._remaining())
                if not ready:
                    raise self._timeout_error()
            self._ready.extend(ready)
        batch = [self._ready.popleft() for _ in range(min(self._chunk, len(self._ready)))]
        self._take(batch)
