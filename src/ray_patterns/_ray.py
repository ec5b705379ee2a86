"""What every pattern needs from Ray: a connection, argument checks, remote-ifying."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

import ray
from ray import ObjectRef


def ensure_ray() -> None:
    """Connect to Ray unless the program already did.

    ``ray.init()`` with no address honours ``RAY_ADDRESS`` (a user's cluster) and
    otherwise starts a local instance; it is never called twice.
    """
    if not ray.is_initialized():
        ray.init()


def check_refs(refs: Iterable[Any], argument: str = "refs") -> list[ObjectRef]:
    """``refs`` as a list, or a TypeError naming the first item that is not an ObjectRef."""
    if isinstance(refs, ObjectRef):
        raise TypeError(f"{argument} must be an iterable of ObjectRefs, got a single ObjectRef")
    if isinstance(refs, (str, bytes)) or not isinstance(refs, Iterable):
        raise TypeError(f"{argument} must be an iterable of ObjectRefs, got {type(refs).__name__}")
    out = list(refs)
    for index, ref in enumerate(out):
        if not isinstance(ref, ObjectRef):
            raise TypeError(
                f"{argument}[{index}] is {type(ref).__name__}, not an ObjectRef; "
                "pass the refs returned by .remote() or ray.put()"
            )
    return out


def check_positive_int(value: Any, argument: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{argument} must be an integer >= {minimum}, got {value!r}")
    return value


def check_iterable(iterable: Any) -> None:
    if not isinstance(iterable, Iterable):
        raise TypeError(f"iterable must be an iterable of items, got {type(iterable).__name__}")


def check_timeout(timeout: Any) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise ValueError(f"timeout must be None or a number of seconds >= 0, got {timeout!r}")
    return float(timeout)


def is_remote_callable(fn: Any) -> bool:
    """A remote function, an actor method handle, or anything with ``.remote``."""
    return callable(getattr(fn, "remote", None))


def _make_remote(fn: Callable[..., Any]) -> Any:
    if inspect.isfunction(fn):
        return ray.remote(fn)

    # ray.remote takes only functions and classes: wrap partials, builtins, callable objects
    def call(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    call.__name__ = call.__qualname__ = getattr(fn, "__name__", type(fn).__name__)
    return ray.remote(call)


_remote_of = functools.lru_cache(maxsize=256)(_make_remote)


def as_remote(fn: Any, argument: str = "fn") -> Any:
    """``fn`` if it already has ``.remote``; else a remote function made once per ``fn``.

    Caching matters: making the same function remote again re-exports it to every
    worker (the handbook's redefine-task-actor-loop).
    """
    if is_remote_callable(fn):
        return fn
    if not callable(fn):
        raise TypeError(
            f"{argument} must be a callable (plain function, remote function or actor method), "
            f"got {type(fn).__name__}"
        )
    if inspect.isclass(fn):
        raise TypeError(f"{argument} must be a function, not a class ({fn.__name__})")
    try:
        return _remote_of(fn)
    except TypeError:  # unhashable callable (e.g. a callable instance with __eq__)
        return _make_remote(fn)


def call_remote(fn: Any, item: Any) -> ObjectRef:
    ref = fn.remote(item)
    if not isinstance(ref, ObjectRef):
        raise TypeError(
            f"fn.remote(...) returned {type(ref).__name__}, not an ObjectRef "
            "(num_returns != 1 and generators are not supported here)"
        )
    return ref
