"""global-variables: keep shared mutable state in an actor, not in a global.

Handbook slug ``global-variables``. Tasks and actors run in other processes, so a
global changed after a remote definition is not seen by them, and a change made
inside one worker stays in that worker::

    global_var = 3

    @ray.remote
    class Actor:
        def f(self):
            return global_var + 3

    global_var = 4          # the driver's copy changes ...
    actor = Actor.remote()
    ray.get(actor.f.remote())   # ... but the actor still sees 3 and returns 6, not 7

Ray pickles the class (with the globals it refers to) at its first ``.remote()``,
so even actors created later from the same class keep the stale value. Class
variables do not help either: each actor is a separate process with its own copy
of the class, so ``Actor.count += 1`` in one actor is invisible to every other.

The fix is one actor that holds the state, reached by name or by handle::

    from ray_patterns import shared_state

    state = shared_state("counters")            # get or create, from anywhere
    ray.get(state.increment.remote("hits"))     # atomic on the actor
    ray.get(state.update.remote("seen", lambda s: (s or set()) | {42}))
    ray.get(state.snapshot.remote())            # {'hits': 1, 'seen': {42}}

Lifetime (the choice made here): a named actor normally dies with the worker that
created it, so state created inside a short task could vanish after the task.
``shared_state`` therefore always creates the actor detached, and unless you ask
for ``detached=True`` the actor watches the job that created it and exits when
that job ends. So the state outlives whichever task or actor created it, lives as
long as the job (driver) does, and is not leaked into the next job. With
``detached=True`` it outlives the job too, until ``ray.kill``.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import ray

from ray_patterns._ray import ensure_ray

__all__ = ["SharedState", "shared_state"]

logger = logging.getLogger(__name__)

# How often a job-scoped state actor checks whether its job is still running.
_JOB_WATCH_INTERVAL_S = 2.0


def _job_is_dead(job_hex: str) -> bool:
    from ray._private import state as ray_state

    for job in ray_state.jobs():
        if job["JobID"] == job_hex:
            return bool(job["IsDead"])
    return False


class SharedState:
    """Key -> value state in one actor; every method runs atomically on the actor.

    Use :func:`shared_state` to get or create it by name. Example::

        state = shared_state("counters")
        ray.get(state.increment.remote("n", 5))   # 5
    """

    def __init__(self, initial: dict[Any, Any] | None = None, watch_job: str | None = None):
        self._data: dict[Any, Any] = dict(initial or {})
        if watch_job is not None:
            threading.Thread(
                target=self._watch_job, args=(watch_job,), daemon=True, name="job-watch"
            ).start()

    @staticmethod
    def _watch_job(job_hex: str) -> None:
        stop = threading.Event()
        while not stop.wait(_JOB_WATCH_INTERVAL_S):
            try:
                dead = _job_is_dead(job_hex)
            except Exception:  # GCS briefly unreachable: try again next round
                logger.debug("job-status query failed", exc_info=True)
                continue
            if dead:
                logger.info("job %s ended; shared state exits with it", job_hex)
                os._exit(0)

    def get(self, key: Any, default: Any = None) -> Any:
        return self._data.get(key, default)

    def set(self, key: Any, value: Any) -> None:
        self._data[key] = value

    def delete(self, key: Any) -> bool:
        """Remove ``key``; True if it was there."""
        return self._data.pop(key, _MISSING) is not _MISSING

    def update(self, key: Any, fn: Callable[[Any], Any], default: Any = None) -> Any:
        """Atomic read-modify-write: ``value = fn(current or default)``; returns the new value.

        ``fn`` runs on the actor, so no other call sees the state half-way.
        """
        if not callable(fn):
            raise TypeError(f"update: fn must be callable, got {type(fn).__name__}")
        value = fn(self._data.get(key, default))
        self._data[key] = value
        return value

    def increment(self, key: Any, by: int | float = 1) -> Any:
        """Add ``by`` to the number under ``key`` (0 if missing); returns the new value."""
        current = self._data.get(key, 0)
        if not isinstance(current, (int, float)):
            raise TypeError(
                f"increment: value under {key!r} is {type(current).__name__}, not a number; "
                "use update(key, fn) for other types"
            )
        self._data[key] = current + by
        return self._data[key]

    def snapshot(self) -> dict[Any, Any]:
        """A deep copy of the whole state at one moment."""
        return copy.deepcopy(self._data)

    def keys(self) -> list[Any]:
        return list(self._data)


_MISSING = object()
_RemoteSharedState = ray.remote(SharedState)


def shared_state(
    name: str,
    *,
    namespace: str | None = None,
    detached: bool = False,
    initial: dict[Any, Any] | None = None,
) -> Any:
    """Get or create the :class:`SharedState` actor called ``name``; returns its handle.

    Safe when many tasks race to create the same name (Ray's ``get_if_exists``:
    exactly one actor wins, everyone gets its handle). ``initial`` only applies
    when this call creates the actor. ``namespace`` defaults to the job's
    namespace; pass one explicitly to share state between jobs (with
    ``detached=True``). Example::

        state = shared_state("counters")
        ray.get(state.increment.remote("n"))
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"shared_state: name must be a non-empty string, got {name!r}")
    if initial is not None and not isinstance(initial, dict):
        raise TypeError(f"shared_state: initial must be a dict, got {type(initial).__name__}")
    ensure_ray()
    watch = None if detached else ray.get_runtime_context().get_job_id()
    options: dict[str, Any] = {
        "name": name,
        "get_if_exists": True,
        # Always detached so the state survives the task that happened to create
        # it; job-scoped ones exit on their own when the job ends (see module doc).
        "lifetime": "detached",
        "num_cpus": 0,
        "max_restarts": 0,
    }
    if namespace is not None:
        options["namespace"] = namespace
    return _RemoteSharedState.options(**options).remote(initial, watch)
