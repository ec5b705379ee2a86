"""tree-of-actors: a supervisor actor that owns, fans out to and replaces its workers.

Handbook slug ``tree-of-actors``. One call to a supervisor fans out to the
worker actors it created; it post-processes their results before returning.
Because the supervisor created the workers it owns them: when it dies (``ray.kill``,
a crash, its own owner going away) every worker dies with it, and trees nest.

The ready-made generic supervisor::

    sup = supervise(Trainer, 4, lr=0.1)                  # 4 Trainer actors, owned by sup
    ray.get(sup.broadcast.remote("train", steps=100))    # one result per worker
    ray.get(sup.scatter.remote("score", batches))        # items spread, input order kept

Your own fan-out logic (the handbook's "supervisor processes results")::

    @ray.remote(num_cpus=0)
    class TrainerTree(Supervisor):
        def train(self, steps):
            losses = self.broadcast("train", steps)
            return sum(losses) / len(losses)

    tree = TrainerTree.remote(Trainer, 4, lr=0.1)        # same arguments as supervise

When a worker dies mid-call the supervisor kills what is left of it, starts a
replacement (which restores its state if the worker class is
:func:`~ray_patterns.checkpointed`), and retries the call, up to ``max_retries``
times per call. Results from the other workers are kept; a call that still fails
raises :class:`ChildFailedError` naming the worker's index, the cause and the
results that did arrive. An exception raised by the worker's own code is not
retried (it would fail again) and is reported the same way.

``Supervisor`` is a plain class: decorate your subclass with ``@ray.remote`` (a
supervisor mostly waits, so ``num_cpus=0`` suits it). ``max_retries`` and
``max_in_flight`` (calls queued per worker by ``scatter``) are class attributes,
or set them at run time with ``configure``.
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ray
from ray import ObjectRef
from ray.exceptions import RayActorError, RayTaskError

from ray_patterns._checkpoint_runtime import is_checkpointed
from ray_patterns._errors import RayPatternsError
from ray_patterns._ray import check_positive_int, ensure_ray, remote_once

__all__ = ["ChildFailedError", "Supervisor", "supervise"]


class ChildFailedError(RayPatternsError, RuntimeError):
    """A supervised call failed for good on worker ``index``.

    ``child_error`` is the last error (not ``cause``: Ray's wrapper uses that name
    for this exception itself), ``attempts`` how many times it was tried,
    ``item`` the position of the item (``scatter``) and ``results`` the results
    list with every other call's value in place (failed positions hold None).
    """

    def __init__(
        self,
        index: int,
        cause: BaseException,
        *,
        method: str = "",
        attempts: int = 1,
        item: int | None = None,
        results: list[Any] | None = None,
        failures: int = 1,
    ):
        self.index = index
        self.child_error = cause
        self.method = method
        self.attempts = attempts
        self.item = item
        self.results = results
        self.failures = failures
        where = f"item {item} on " if item is not None else ""
        more = f" ({failures - 1} more call(s) failed too)" if failures > 1 else ""
        # Ray wraps a worker's own exception with its remote traceback; name the
        # original in the one-line summary (the full one stays in child_error).
        original = getattr(cause, "cause", None) if isinstance(cause, RayTaskError) else None
        shown = original if isinstance(original, BaseException) else cause
        super().__init__(
            f"{where}child {index} failed in {method!r} after {attempts} attempt(s): "
            f"{type(shown).__name__}: {shown}{more}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Crosses the actor boundary pickled: rebuild with every field.
        return (
            _rebuild_child_failed,
            (self.index, self.child_error, self.method, self.attempts, self.item, self.results,
             self.failures),
        )  # fmt: skip


def _rebuild_child_failed(
    index: int,
    cause: BaseException,
    method: str,
    attempts: int,
    item: int | None,
    results: list[Any] | None,
    failures: int,
) -> ChildFailedError:
    return ChildFailedError(
        index,
        cause,
        method=method,
        attempts=attempts,
        item=item,
        results=results,
        failures=failures,
    )


def _as_actor_class(cls: Any) -> Any:
    if callable(getattr(cls, "remote", None)) and hasattr(cls, "__ray_metadata__"):
        return cls
    if not isinstance(cls, type):
        raise TypeError(
            f"worker_cls must be a class or a @ray.remote actor class, got {type(cls).__name__}"
        )
    # One ActorClass per plain class: re-decorating re-exports it to every worker.
    return remote_once(ray.remote, cls)


def _check_worker_options(worker_options: dict[str, Any] | None) -> dict[str, Any]:
    if worker_options is not None and not isinstance(worker_options, dict):
        raise TypeError(
            "worker_options must be a dict of Ray actor options, "
            f"got {type(worker_options).__name__}"
        )
    options = dict(worker_options or {})
    if options.get("lifetime") == "detached":
        raise ValueError(
            "worker_options: lifetime='detached' workers would outlive their supervisor; "
            "drop it (the tree's point is that workers die with the supervisor)"
        )
    return options


def _same_actor(a: Any, b: Any) -> bool:
    return bool(a._actor_id == b._actor_id)


@dataclass
class _Call:
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    child: int | None  # fixed worker (broadcast) or any (scatter)
    attempts: int = 0


_PENDING = object()


class Supervisor:
    """Owns ``num_workers`` actors of ``worker_cls``; fans calls out and replaces the dead.

    ``*args`` / ``**kwargs`` go to every worker's constructor and ``worker_options``
    to ``.options()`` (e.g. ``num_cpus``). Example::

        @ray.remote(num_cpus=0)
        class Tree(Supervisor):
            def total(self):
                return sum(self.broadcast("value"))
    """

    max_retries: int = 3
    max_in_flight: int = 2

    def __init__(
        self,
        worker_cls: Any,
        num_workers: int,
        *args: Any,
        worker_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ):
        self._num = check_positive_int(num_workers, "num_workers")
        self._worker_cls = _as_actor_class(worker_cls)
        self._options = _check_worker_options(worker_options)
        self._args = args
        self._kwargs = kwargs
        self._checkpointed = is_checkpointed(worker_cls)
        ctx = ray.get_runtime_context()
        me = ctx.get_actor_id() or f"driver-{os.getpid()}"
        self._key_prefix = f"supervised-{me}"
        self._lock = threading.RLock()
        self._replacements = [0] * self._num
        # A supervisor restarted by Ray (max_restarts) brings checkpointed workers
        # back with their state under the same keys.
        resume = bool(ctx.get_actor_id()) and ctx.was_current_actor_reconstructed
        self._children = [self._spawn(i, resume=resume) for i in range(self._num)]

    # -- children ---------------------------------------------------------
    def _spawn(self, index: int, *, resume: bool) -> Any:
        cls = self._worker_cls.options(**self._options) if self._options else self._worker_cls
        kwargs = dict(self._kwargs)
        if self._checkpointed:
            kwargs["_checkpoint_key"] = f"{self._key_prefix}/child-{index}"
            kwargs["_resume"] = resume
        return cls.remote(*self._args, **kwargs)

    def _replace(self, index: int, failed: Any) -> Any:
        with self._lock:
            current = self._children[index]
            if not _same_actor(current, failed):
                return current  # someone already replaced it
            try:
                ray.kill(failed, no_restart=True)  # what is left of it must not come back
            except Exception:
                pass
            self._children[index] = self._spawn(index, resume=True)
            self._replacements[index] += 1
            return self._children[index]

    def children(self) -> list[Any]:
        """The current worker handles, by index."""
        with self._lock:
            return list(self._children)

    def configure(
        self, *, max_retries: int | None = None, max_in_flight: int | None = None
    ) -> dict[str, int]:
        """Change the retry budget / scatter's calls in flight per worker; returns both."""
        if max_retries is not None:
            self.max_retries = check_positive_int(max_retries, "max_retries", minimum=0)
        if max_in_flight is not None:
            self.max_in_flight = check_positive_int(max_in_flight, "max_in_flight")
        return {"max_retries": self.max_retries, "max_in_flight": self.max_in_flight}

    def stats(self) -> dict[str, Any]:
        """Workers, replacements per worker, the supervisor's pid."""
        return {
            "num_workers": self._num,
            "replacements": list(self._replacements),
            "checkpointed": self._checkpointed,
            "pid": os.getpid(),
        }

    # -- fan-out ----------------------------------------------------------
    def broadcast(self, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        """Call ``method(*args, **kwargs)`` on every worker; results by worker index."""
        calls = [_Call(method, args, kwargs, child=i) for i in range(self._num)]
        return self._execute(calls, limit=1)

    def scatter(self, method: str, items: Iterable[Any]) -> list[Any]:
        """``method(item)`` for each item, spread over the workers; results in input order.

        At most ``max_in_flight`` calls are queued on each worker at a time, so a
        slow worker does not hoard items a fast one could take.
        """
        if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
            raise TypeError(f"scatter: items must be an iterable, got {type(items).__name__}")
        calls = [_Call(method, (item,), {}, child=None) for item in items]
        return self._execute(calls, limit=self.max_in_flight, per_item=True)

    def _submit(self, index: int, call: _Call) -> tuple[ObjectRef, Any]:
        handle = self._children[index]
        try:
            bound = getattr(handle, call.method)
        except AttributeError:
            raise AttributeError(
                f"worker class has no method {call.method!r}; "
                "pass the name of one of its methods as a string"
            ) from None
        call.attempts += 1
        return bound.remote(*call.args, **call.kwargs), handle

    def _execute(self, calls: list[_Call], *, limit: int, per_item: bool = False) -> list[Any]:
        if calls and not isinstance(calls[0].method, str):
            raise TypeError(f"method must be a str (the method's name), got {calls[0].method!r}")
        results: list[Any] = [_PENDING] * len(calls)
        failed: dict[int, ChildFailedError] = {}
        fixed: list[collections.deque[int]] = [collections.deque() for _ in range(self._num)]
        free: collections.deque[int] = collections.deque()
        for pos, call in enumerate(calls):
            (fixed[call.child] if call.child is not None else free).append(pos)
        load = [0] * self._num
        in_flight: dict[ObjectRef, tuple[int, int, Any]] = {}

        def fill() -> None:
            progress = True
            while progress:  # round-robin, one call per worker per pass
                progress = False
                for c in range(self._num):
                    if load[c] >= limit:
                        continue
                    queue = fixed[c] if fixed[c] else free
                    if not queue:
                        continue
                    pos = queue.popleft()
                    ref, handle = self._submit(c, calls[pos])
                    in_flight[ref] = (pos, c, handle)
                    load[c] += 1
                    progress = True

        fill()
        while in_flight:
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                pos, c, handle = in_flight.pop(ref)
                load[c] -= 1
                call = calls[pos]
                try:
                    results[pos] = ray.get(ref)
                except RayActorError as exc:  # the worker died (not its code raising)
                    self._replace(c, handle)
                    if call.attempts <= self.max_retries:
                        queue = fixed[c] if call.child is not None else free
                        queue.appendleft(pos)
                    else:
                        failed[pos] = self._failure(c, exc, call, pos, per_item)
                except Exception as exc:  # the worker's own code raised: retrying won't help
                    failed[pos] = self._failure(c, exc, call, pos, per_item)
            fill()
        if failed:
            out = [None if r is _PENDING else r for r in results]
            first = failed[min(failed)]
            first.results = out
            first.failures = len(failed)
            raise first
        return results

    @staticmethod
    def _failure(c: int, exc: Exception, call: _Call, pos: int, per_item: bool) -> ChildFailedError:
        return ChildFailedError(
            c,
            exc,
            method=call.method,
            attempts=call.attempts,
            item=pos if per_item else None,
        )


def supervise(
    worker_cls: Any,
    num_workers: int,
    *args: Any,
    worker_options: dict[str, Any] | None = None,
    supervisor_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """A generic :class:`Supervisor` actor owning ``num_workers`` workers; returns its handle.

    ``supervisor_options`` are Ray options for the supervisor itself (default
    ``num_cpus=0``) plus ``max_retries`` / ``max_in_flight``. Example::

        sup = supervise(Counter, 2, worker_options={"num_cpus": 0})
        ray.get(sup.broadcast.remote("increment"))       # [1, 1]
    """
    ensure_ray()
    check_positive_int(num_workers, "num_workers")
    _check_worker_options(worker_options)
    options = {"num_cpus": 0, **(supervisor_options or {})}
    policy = {k: options.pop(k) for k in ("max_retries", "max_in_flight") if k in options}
    handle = (
        remote_once(ray.remote, Supervisor)
        .options(**options)
        .remote(worker_cls, num_workers, *args, worker_options=worker_options, **kwargs)
    )
    if policy:
        # Calls from one caller run in order, so this applies before any fan-out.
        handle.configure.remote(**policy)
    return handle
