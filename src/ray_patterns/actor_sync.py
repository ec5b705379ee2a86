"""actor-sync: one actor holds a condition that other tasks and actors wait on.

Handbook: tasks that must wait for each other (all workers ready, a flag flipped)
should wait on an actor that wakes them, not poll a flag with ``ray.get`` and
``sleep``: polling spends a CPU slot and a call per check and wakes up late.

Each class here is a handle on a zero-CPU async actor: an ``Event`` (a signal), a
``Barrier`` and a ``Semaphore``. The handle can be passed to tasks and actors on any
node; a waiter sleeps inside one remote call until it is woken or its ``timeout``
ends. Blocking methods are for the driver and tasks; ``async`` code (an async actor)
awaits the ``*_async`` methods instead, so its event loop is not blocked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import ray

from ray_patterns._errors import RayPatternsError
from ray_patterns._ray import check_positive_int, check_timeout, ensure_ray

T = TypeVar("T")

# one async actor serves every waiter in its event loop: allow many at once
_MAX_WAITERS = 100_000


class SyncActorDiedError(RayPatternsError, RuntimeError):
    """The actor behind an ``Event``, ``Barrier`` or ``Semaphore`` is gone."""


def _died(kind: str, exc: BaseException) -> SyncActorDiedError:
    return SyncActorDiedError(
        f"the {kind}'s actor died ({type(exc).__name__}), so nobody can be woken through it; "
        f"create a new {kind} (and keep its creator alive: an actor dies with its owner)"
    )


class _Handle:
    """What the three share: an actor, and calls that turn its death into a clear error."""

    _kind = "object"

    def __init__(self, actor: Any) -> None:
        self._actor = actor

    def _get(self, ref: ray.ObjectRef) -> Any:
        try:
            return ray.get(ref)
        except ray.exceptions.ActorDiedError as exc:
            raise _died(self._kind, exc) from exc
        except ray.exceptions.ActorUnavailableError as exc:  # pragma: no cover - transient
            raise _died(self._kind, exc) from exc

    async def _await(self, ref: Awaitable[T]) -> T:
        try:
            return await ref
        except ray.exceptions.ActorDiedError as exc:
            raise _died(self._kind, exc) from exc

    def kill(self) -> None:
        """End the actor; waiters get ``SyncActorDiedError``."""
        ray.kill(self._actor)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled into tasks and actors as the actor handle alone
        return (_rebuild, (type(self), self._actor))


def _rebuild(cls: type[_Handle], actor: Any) -> _Handle:
    handle = cls.__new__(cls)
    _Handle.__init__(handle, actor)
    return handle


def _make(actor_class: Any, name: str | None, *args: Any) -> Any:
    ensure_ray()
    options: dict[str, Any] = {"num_cpus": 0, "max_concurrency": _MAX_WAITERS}
    if name is not None:
        options.update(name=name, get_if_exists=True)
    return actor_class.options(**options).remote(*args)


# -- Event -----------------------------------------------------------------------------
@ray.remote
class _EventActor:
    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.waiters = 0

    async def set(self) -> None:
        self.event.set()

    async def clear(self) -> None:
        self.event.clear()

    async def is_set(self) -> bool:
        return self.event.is_set()

    async def wait(self, timeout: float | None) -> bool:
        if self.event.is_set():  # wait_for(..., 0) would time out even when set
            return True
        self.waiters += 1
        try:
            if timeout is None:  # no wait_for wrapper on the wake-up path
                await self.event.wait()
            else:
                await asyncio.wait_for(self.event.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        finally:
            self.waiters -= 1
        return True

    async def waiting(self) -> int:
        return self.waiters


class Event(_Handle):
    """A signal: ``wait()`` sleeps until some process calls ``set()``.

    ``name`` makes it a named actor (``Event(name="ready")`` elsewhere in the same
    namespace gets the same one). ``wait`` returns True when set, False when
    ``timeout`` ran out first, like ``threading.Event``.

    >>> import ray, ray_patterns
    >>> ready = ray_patterns.Event()
    >>> @ray.remote
    ... def worker(ready):
    ...     return ready.wait(timeout=30)
    >>> ref = worker.remote(ready)
    >>> ready.set()
    >>> ray.get(ref)
    True
    """

    _kind = "Event"

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(_make(_EventActor, name))

    def set(self) -> None:
        """Wake every waiter, now and until ``clear()``."""
        self._get(self._actor.set.remote())

    def clear(self) -> None:
        self._get(self._actor.clear.remote())

    def is_set(self) -> bool:
        return bool(self._get(self._actor.is_set.remote()))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until set (True) or ``timeout`` seconds passed (False)."""
        return bool(self._get(self._actor.wait.remote(check_timeout(timeout))))

    async def wait_async(self, timeout: float | None = None) -> bool:
        """``wait`` for async code: ``await event.wait_async()``."""
        return bool(await self._await(self._actor.wait.remote(check_timeout(timeout))))

    async def set_async(self) -> None:
        await self._await(self._actor.set.remote())

    def waiting(self) -> int:
        """How many callers are inside ``wait`` now."""
        return int(self._get(self._actor.waiting.remote()))


# -- Barrier ---------------------------------------------------------------------------
@ray.remote
class _BarrierActor:
    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.generation = 0
        self.arrived = 0
        self.released = asyncio.Event()

    async def wait(self, timeout: float | None) -> int:
        index = self.arrived
        self.arrived += 1
        released = self.released
        if self.arrived == self.parties:  # the last one in opens the barrier for this round
            self.generation += 1
            self.arrived = 0
            self.released = asyncio.Event()
            released.set()
            return index
        try:
            await asyncio.wait_for(released.wait(), timeout)
        except asyncio.TimeoutError:
            self.arrived -= 1  # withdraw, so a later round still needs `parties`
            return -1 - self.arrived
        return index

    async def waiting(self) -> int:
        return self.arrived


class Barrier(_Handle):
    """``parties`` callers of ``wait()`` block until all of them have arrived.

    ``wait`` returns the caller's arrival index (0 .. parties-1, like
    ``threading.Barrier``); the barrier then resets for the next round. A caller
    whose ``timeout`` runs out withdraws and gets ``TimeoutError``.

    >>> import ray, ray_patterns
    >>> barrier = ray_patterns.Barrier(2)
    >>> @ray.remote
    ... def step(barrier):
    ...     return barrier.wait(timeout=30)
    >>> sorted(ray.get([step.remote(barrier), step.remote(barrier)]))
    [0, 1]
    """

    _kind = "Barrier"

    def __init__(self, parties: int, *, name: str | None = None) -> None:
        self.parties = check_positive_int(parties, "parties")
        super().__init__(_make(_BarrierActor, name, parties))

    def _checked(self, index: int, timeout: float | None) -> int:
        if index < 0:
            raise TimeoutError(
                f"only {-index} of the barrier's {self.parties} parties had arrived after "
                f"timeout={timeout}s; this caller withdrew"
            )
        return index

    def wait(self, timeout: float | None = None) -> int:
        """Block until every party has called ``wait``; the caller's arrival index."""
        limit = check_timeout(timeout)
        return self._checked(int(self._get(self._actor.wait.remote(limit))), limit)

    async def wait_async(self, timeout: float | None = None) -> int:
        limit = check_timeout(timeout)
        return self._checked(int(await self._await(self._actor.wait.remote(limit))), limit)

    def waiting(self) -> int:
        """How many callers are waiting in the current round."""
        return int(self._get(self._actor.waiting.remote()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_barrier, (self._actor, self.parties))


def _rebuild_barrier(actor: Any, parties: int) -> Barrier:
    barrier = Barrier.__new__(Barrier)
    _Handle.__init__(barrier, actor)
    barrier.parties = parties
    return barrier


# -- Semaphore -------------------------------------------------------------------------
@ray.remote
class _SemaphoreActor:
    def __init__(self, value: int) -> None:
        self.limit = value
        self.semaphore = asyncio.Semaphore(value)
        self.held = 0

    async def acquire(self, timeout: float | None) -> bool:
        if self.semaphore.locked() or timeout != 0:
            try:
                await asyncio.wait_for(self.semaphore.acquire(), timeout)
            except asyncio.TimeoutError:
                return False
        else:  # free now: take it (wait_for(..., 0) would time out regardless)
            await self.semaphore.acquire()
        self.held += 1
        return True

    async def release(self) -> bool:
        if self.held == 0:
            return False
        self.held -= 1
        self.semaphore.release()
        return True

    async def holders(self) -> int:
        return self.held


class Semaphore(_Handle):
    """At most ``value`` holders at a time, across every task, actor and the driver.

    ``acquire`` returns True once a permit is taken, False if ``timeout`` ran out;
    ``with semaphore:`` acquires and always releases. Releasing more than was
    acquired raises ``ValueError`` (a bounded semaphore). A holder that dies without
    releasing keeps its permit: hold permits in ``with`` blocks.

    >>> import ray, ray_patterns
    >>> database = ray_patterns.Semaphore(2)
    >>> @ray.remote
    ... def query(database, i):
    ...     with database:  # at most 2 queries at once
    ...         return i
    >>> ray.get([query.remote(database, i) for i in range(4)])
    [0, 1, 2, 3]
    """

    _kind = "Semaphore"

    def __init__(self, value: int, *, name: str | None = None) -> None:
        check_positive_int(value, "value")
        super().__init__(_make(_SemaphoreActor, name, value))

    def acquire(self, timeout: float | None = None) -> bool:
        return bool(self._get(self._actor.acquire.remote(check_timeout(timeout))))

    async def acquire_async(self, timeout: float | None = None) -> bool:
        return bool(await self._await(self._actor.acquire.remote(check_timeout(timeout))))

    def release(self) -> None:
        if not self._get(self._actor.release.remote()):
            raise ValueError("Semaphore released more times than it was acquired")

    async def release_async(self) -> None:
        if not await self._await(self._actor.release.remote()):
            raise ValueError("Semaphore released more times than it was acquired")

    def holders(self) -> int:
        """How many permits are taken now."""
        return int(self._get(self._actor.holders.remote()))

    def __enter__(self) -> Semaphore:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    async def __aenter__(self) -> Semaphore:
        await self.acquire_async()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.release_async()


__all__ = ["Barrier", "Event", "Semaphore", "SyncActorDiedError"]
