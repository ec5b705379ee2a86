"""concurrent-operations-async-actor: a polling loop that does not block the actor.

Handbook slug ``concurrent-operations-async-actor``. A sync actor running
``while True: poll()`` owns its only thread: no other method ever runs, and a
``ray.get`` inside the loop blocks it further. The anti-pattern::

    @ray.remote
    class Poller:
        def run(self):
            while True:
                item = ray.get(source.fetch.remote())   # blocks the thread
                self.handle(item)

        def status(self):                               # never answers
            ...

Make the actor async and let it yield: ``await ref`` instead of ``ray.get``, and
a background task instead of a method that never returns. :class:`PollingActor`
does that, plus what the hand-written loop forgets: the loop is started
explicitly (``start``) or by the first call, stopped with ``stop`` (for good:
only ``start`` runs it again), reports
``status()``, and an exception in ``poll`` is logged with its traceback, counted
and followed by a backoff and a restart instead of killing the loop silently::

    @ray.remote
    class Watcher(PollingActor):
        poll_interval = 0.5

        async def poll(self):
            item = await source.fetch.remote()      # await, never ray.get
            await run_blocking(parse, item)         # blocking code in a thread

        async def latest(self):
            return ...

    w = Watcher.remote()
    ray.get(w.latest.remote())      # starts the loop, answers at once
    ray.get(w.status.remote())      # {'running': True, 'iterations': ..., ...}

Measured on Ray 2.60 (2 cores): the handbook's ``await asyncio.sleep(0)`` is not
enough on its own. A loop doing CPU work and yielding only with ``sleep(0)``
never let a trivial call through in 30 s, because Ray hands calls to the event
loop from its own threads, which need the GIL; a real sleep of >= 50 us now and
then brought the call latency to a few ms. The base class rests
``rest_for`` = 0.5 ms every ``rest_every`` = 5 ms of polling (<= 10% throughput).

Methods you add should be ``async def``: Ray runs a sync method of an async actor
on the event loop thread, blocking the loop while it runs.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["PollingActor", "run_blocking"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Methods of the base class that must not start the loop on their own (status
# is for looking, stop for stopping).
_NO_AUTOSTART = frozenset({"status", "stop", "start", "poll", "run"})


async def run_blocking(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a blocking function in a thread so the actor's event loop keeps answering.

    Example: ``rows = await run_blocking(db.query, "select 1")``. For Ray refs use
    ``await ref`` instead: it needs no thread.
    """
    return await asyncio.to_thread(fn, *args, **kwargs)


def _autostarting(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def wrapper(self: PollingActor, *args: Any, **kwargs: Any) -> Any:
        if self.autostart:
            self._autostart()
        return await method(self, *args, **kwargs)

    return wrapper


class PollingActor:
    """Base class for async actors with a supervised background loop.

    Subclass, override ``async def poll(self)`` (called repeatedly) or ``async def
    run(self)`` (one long loop coroutine), and decorate with ``@ray.remote``.
    Class attributes tune it: ``poll_interval`` (seconds between polls, 0 still
    yields to other calls), ``autostart`` (start on the very first call of one of
    your async methods; once stopped, or once ``run`` returned, only ``start()``
    runs the loop again), ``backoff_initial`` / ``backoff_factor`` / ``backoff_max``
    (seconds to wait after consecutive errors), ``rest_every`` / ``rest_for`` (with
    ``poll_interval`` 0, sleep ``rest_for`` seconds once every ``rest_every`` seconds
    of polling: ``await asyncio.sleep(0)`` alone does not let Ray deliver other
    calls to a busy loop). Example::

        @ray.remote
        class Ticker(PollingActor):
            async def poll(self):
                self.ticks = getattr(self, "ticks", 0) + 1
    """

    poll_interval: float = 0.0
    autostart: bool = True
    backoff_initial: float = 0.1
    backoff_factor: float = 2.0
    backoff_max: float = 10.0
    rest_every: float = 0.005
    rest_for: float = 0.0005

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Wrap the subclass's own async methods so the first call starts the loop.
        for name, attr in list(vars(cls).items()):
            if name.startswith("_") or name in _NO_AUTOSTART:
                continue
            if inspect.iscoroutinefunction(attr):
                setattr(cls, name, _autostarting(attr))

    # Lazily created: Ray runs an async actor's __init__ outside its event loop,
    # and subclasses may not call super().__init__().
    def _loop_state(self) -> dict[str, Any]:
        st = self.__dict__.get("_polling_state")
        if st is None:
            st = {
                "task": None,
                "iterations": 0,
                "errors": 0,
                "consecutive_errors": 0,
                "last_error": None,
                "last_error_traceback": None,
                "last_error_at": None,
                "started_at": None,
                "stopping": False,
            }
            self.__dict__["_polling_state"] = st
        return st

    def _autostart(self) -> None:
        # Only the actor's first call starts the loop: a loop that was stopped, or
        # whose run() finished, stays so until start() is called.
        st = self._loop_state()
        if st["task"] is None and not st["stopping"]:
            self._ensure_started()

    def _ensure_started(self) -> bool:
        st = self._loop_state()
        task = st["task"]
        if task is not None and not task.done():
            return False
        st["stopping"] = False
        st["started_at"] = time.time()
        st["task"] = asyncio.get_running_loop().create_task(self._supervise())
        return True

    async def poll(self) -> None:
        """One round of work; override this (or :meth:`run`)."""
        raise NotImplementedError(
            f"{type(self).__name__} must override `async def poll(self)` or `async def run(self)`"
        )

    async def run(self) -> None:
        """The loop: ``poll()`` forever, yielding to other calls between rounds."""
        st = self._loop_state()
        rested = time.monotonic()
        while not st["stopping"]:
            await self.poll()
            st["iterations"] += 1
            st["consecutive_errors"] = 0
            if self.poll_interval > 0:
                await asyncio.sleep(self.poll_interval)
                rested = time.monotonic()
            elif time.monotonic() - rested >= self.rest_every:
                # Measured on Ray 2.60: a loop that only ever yields with sleep(0)
                # starves Ray's own threads of the GIL, and other calls never
                # arrive. A real sleep (>= ~50 us) now and then lets them in.
                await asyncio.sleep(self.rest_for)
                rested = time.monotonic()
            else:
                await asyncio.sleep(0)

    async def _supervise(self) -> None:
        st = self._loop_state()
        while not st["stopping"]:
            try:
                await self.run()
                return  # a run() that returns on its own means the work is done
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                st["errors"] += 1
                st["consecutive_errors"] += 1
                st["last_error"] = f"{type(exc).__name__}: {exc}"
                st["last_error_traceback"] = traceback.format_exc()
                st["last_error_at"] = time.time()
                delay = min(
                    self.backoff_max,
                    self.backoff_initial * self.backoff_factor ** (st["consecutive_errors"] - 1),
                )
                logger.exception(
                    "%s: polling loop failed (error %d); restarting in %.2fs",
                    type(self).__name__,
                    st["errors"],
                    delay,
                )
                await asyncio.sleep(delay)

    async def start(self) -> bool:
        """Start the loop; False if it was already running."""
        return self._ensure_started()

    async def stop(self, timeout: float | None = 5.0) -> dict[str, Any]:
        """Stop the loop (cancelling a poll in progress after ``timeout``); returns status."""
        st = self._loop_state()
        st["stopping"] = True
        task = st["task"]
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except asyncio.TimeoutError:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
            except Exception:  # the loop's own failure is already counted
                pass
        return await self.status()

    async def status(self) -> dict[str, Any]:
        """``running``, ``iterations``, ``errors``, ``last_error`` (+ traceback, time)."""
        st = self._loop_state()
        task = st["task"]
        return {
            "running": task is not None and not task.done(),
            "iterations": st["iterations"],
            "errors": st["errors"],
            "consecutive_errors": st["consecutive_errors"],
            "last_error": st["last_error"],
            "last_error_traceback": st["last_error_traceback"],
            "last_error_at": st["last_error_at"],
            "started_at": st["started_at"],
        }
