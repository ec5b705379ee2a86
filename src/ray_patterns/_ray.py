"""What every pattern needs from Ray: a connection, argument checks, remote-ifying."""

from __future__ import annotations

import inspect
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import ray
from ray import ObjectRef

T = TypeVar("T")


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


class _ById:
    """Cache key for an object that cannot be hashed: its identity (the cache keeps it alive)."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ById) and other.obj is self.obj


_REMOTES: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_REMOTES_MAX = 256
_REMOTES_LOCK = threading.Lock()
_MISSING = object()


def remote_once(make: Callable[..., T], *parts: Any) -> T:
    """``make(*parts)``, built once per ``(make, *parts)`` and then reused (LRU of 256).

    The one policy for "make a callable remote once" (see the handbook's
    redefine-task-actor-loop: every new remote function or actor class is exported
    to the workers again). Parts are compared by equality when they hash (so
    ``obj.method`` taken twice is the same entry) and by identity when they do
    not (a callable instance with ``__eq__`` but no hash): never a TypeError.
    """
    key: tuple[Any, ...] = (make, *parts)
    try:
        found = _cached(key)
    except Exception:  # unhashable, or a __hash__/__eq__ that raises
        key = (make, *(_ById(p) for p in parts))
        found = _cached(key)
    if found is _MISSING:
        found = make(*parts)  # outside the lock: ray.remote may take a while
        with _REMOTES_LOCK:
            _REMOTES[key] = found
            while len(_REMOTES) > _REMOTES_MAX:
                _REMOTES.popitem(last=False)
    return found  # type: ignore[no-any-return]


def _cached(key: tuple[Any, ...]) -> Any:
    with _REMOTES_LOCK:
        found = _REMOTES.get(key, _MISSING)
        if found is not _MISSING:
            _REMOTES.move_to_end(key)
        return found


def _make_remote(fn: Callable[..., Any]) -> Any:
    if inspect.isfunction(fn):
        return ray.remote(fn)

    # ray.remote takes only functions and classes: wrap partials, builtins, callable objects
    def call(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    call.__name__ = call.__qualname__ = getattr(fn, "__name__", type(fn).__name__)
    return ray.remote(call)


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
    return remote_once(_make_remote, fn)


def call_remote(fn: Any, item: Any) -> ObjectRef:
    ref = fn.remote(item)
    if not isinstance(ref, ObjectRef):
        raise TypeError(
            f"fn.remote(...) returned {type(ref).__name__}, not an ObjectRef "
            "(num_returns != 1 and generators are not supported here)"
        )
    return ref
