"""generators: a task that makes many large objects yields them one at a time.

Handbook: a task that returns a list of large objects holds all of them in its heap
at once (and the caller gets them all at once). A generator task yields each object
as it is made, so the producer holds one; bounded memory on the consumer's side
needs the outputs taken one at a time too, and a producer faster than its consumer
needs back-pressure, or the object store fills up with outputs nobody has read yet.
"""

from __future__ import annotations

import inspect
from typing import Any

from ray import ObjectRefGenerator

from ray_patterns._generator_stream import GeneratorStream, generator_results
from ray_patterns._ray import as_remote, check_positive_int, ensure_ray

#: default back-pressure: the producer pauses once this many outputs are unread
DEFAULT_MAX_UNCONSUMED = 2


def _is_generator(fn: Any) -> bool:
    # RemoteFunction and ActorMethod both record whether the function yields
    flag = getattr(fn, "_is_generator", None)
    if flag is not None:
        return bool(flag)
    return inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn)


def with_backpressure(fn: Any, max_unconsumed: int = DEFAULT_MAX_UNCONSUMED) -> Any:
    """``fn`` as a streaming generator task that pauses while ``max_unconsumed`` outputs are unread.

    ``fn`` is a generator function (made remote), a remote generator function or an
    actor's generator method. Calling ``.remote(...)`` on the result returns Ray's
    ``ObjectRefGenerator``; the task stops at a ``yield`` whenever ``max_unconsumed``
    of its outputs have not been taken with ``next()`` yet, so a slow consumer bounds
    the object store use of a fast producer. This is Ray's
    ``_generator_backpressure_num_objects`` option, with its name checked here.

    >>> import ray_patterns
    >>> def count(n):
    ...     for item in range(n):
    ...         yield item
    >>> gen = ray_patterns.with_backpressure(count, max_unconsumed=1).remote(3)
    >>> list(ray_patterns.iter_results(gen))  # or: for ref in gen: ray.get(ref)
    [0, 1, 2]
    """
    limit = check_positive_int(max_unconsumed, "max_unconsumed")
    if not callable(fn) and not callable(getattr(fn, "remote", None)):
        raise TypeError(f"fn must be a generator function, got {type(fn).__name__}")
    if not _is_generator(fn):
        name = getattr(fn, "__name__", None) or type(fn).__name__
        raise TypeError(
            f"{name} is not a generator function: it returns its outputs at once. "
            "Make it yield them one at a time (see the generators page)"
        )
    if not callable(getattr(fn, "remote", None)):
        if not inspect.isfunction(fn):
            raise TypeError(
                "fn must be a plain generator function, a remote generator function or an "
                f"actor generator method, got {type(fn).__name__}"
            )
        fn = as_remote(fn)
    ensure_ray()
    return fn.options(num_returns="streaming", _generator_backpressure_num_objects=limit)


def generate(
    fn: Any, *args: Any, max_unconsumed: int = DEFAULT_MAX_UNCONSUMED, **kwargs: Any
) -> GeneratorStream:
    """Run generator ``fn(*args, **kwargs)`` as a Ray task; yield its values one at a time.

    Memory stays bounded on both sides: the task pauses while ``max_unconsumed``
    outputs are unread (``with_backpressure``), and the iterator holds one fetched
    value at a time, dropping it once yielded. An exception raised by the task is
    raised at its place in the stream (the outputs before it were delivered);
    breaking out of the loop cancels the task. For a timeout, or to get exceptions
    as values, pass the generator to ``iter_results`` instead:
    ``iter_results(with_backpressure(fn).remote(...), timeout=...)``.

    >>> import ray_patterns
    >>> def squares(n):
    ...     for i in range(n):
    ...         yield i * i
    >>> list(ray_patterns.generate(squares, 4))
    [0, 1, 4, 9]
    """
    gen = with_backpressure(fn, max_unconsumed).remote(*args, **kwargs)
    if not isinstance(gen, ObjectRefGenerator):  # pragma: no cover - Ray always returns one
        raise TypeError(f"{fn!r}.remote(...) returned {type(gen).__name__}, not a generator")
    return generator_results(gen)


__all__ = ["DEFAULT_MAX_UNCONSUMED", "generate", "with_backpressure"]
