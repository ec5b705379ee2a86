"""fault-tolerance-actor-checkpointing: actors that come back with their state.

Handbook slug ``fault-tolerance-actor-checkpointing``. ``max_restarts`` brings a
crashed actor back, but as a fresh object: ``__init__`` runs again and the
application state is gone. :func:`checkpointed` saves the state after calls and
restores the latest good checkpoint when Ray restarts the actor, before any call
runs::

    @checkpointed("/shared/ckpt", every=1)      # returns a Ray actor class
    class Counter:
        def __init__(self):
            self.n = 0

        def increment(self):
            self.n += 1
            return self.n

    c = Counter.remote()          # max_restarts=-1, max_task_retries=-1 by default
    ray.get(c.increment.remote())

Every public method (not starting with ``_``) counts as a call and is followed by
a checkpoint when one is due; mark methods that only read with :func:`readonly`.
State is what ``get_state()`` returns and ``set_state(state)`` takes when the class
defines them, else the instance ``__dict__``.

Stores (``store=``): a directory path or any fsspec URL (``file://``, ``s3://``,
``gs://``, ...), written atomically (a temporary file, then a rename) and with a
SHA-256 checksum; or :class:`KVStore` / ``"ray-kv://"`` for Ray's internal KV
store, which keeps small state in the GCS (limit: Ray's gRPC message size,
512 MiB by default via ``RAY_max_grpc_message_size``; a clear error above it,
and it lives in GCS memory, so keep it small). On a multi-node cluster the
directory must be shared (NFS, a bucket): a restarted actor may come back on
another node. ``memory://`` lives in one process only, so it does not survive a
crash. The last ``keep`` checkpoints are kept; a corrupt or truncated latest one
is skipped with a :class:`CheckpointWarning` naming the file, and the previous
one is restored.

The guarantee. With ``every=1`` the checkpoint is written before a call's result
is returned, so after any number of crashes the state reflects every call whose
result the caller received (at-least-once). A call in flight during a crash is
retried by Ray (``max_task_retries=-1``); if the crash came after its checkpoint
but before the reply left, the retry applies it a second time. For exactly-once,
pass an idempotency key: ``c.increment.remote(_idempotency_key="op-17")``. The
decorator records the key and the call's result in the same checkpoint as the
state; a retry with a recorded key returns the recorded result without running
the method again. The last ``idempotency_window`` keys (default 10,000) are kept.
With ``every > 1`` or ``every_seconds`` acknowledged calls since the last
checkpoint can be lost (a call with a key is always checkpointed at once).

Keys. A checkpoint is stored under the actor's name if it has one, else its
actor id (which Ray keeps across restarts). To let a new actor take over an old
one's state (a supervisor replacing a dead child, a job restarted), pass
``_checkpoint_key="..."`` and ``_resume=True`` to ``.remote()``.

Where the parts live: the file format in ``_checkpoint_format``, the stores in
``_checkpoint_stores``, what runs inside the actor (restore, save, idempotency)
in ``_checkpoint_runtime``; this module is the decorator and the public names.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

import ray

from ray_patterns._checkpoint_format import CheckpointError, CheckpointWarning
from ray_patterns._checkpoint_runtime import (
    MARK,
    READONLY,
    attach,
    is_checkpointed,
    load_latest,
    original_class,
    runtime_of,
    save,
    with_params,
    wrap_method,
)
from ray_patterns._checkpoint_stores import CheckpointStore, FsspecStore, KVStore, open_store

__all__ = [
    "CheckpointError",
    "CheckpointStore",
    "CheckpointWarning",
    "FsspecStore",
    "KVStore",
    "checkpointed",
    "is_checkpointed",
    "load_latest",
    "open_store",
    "readonly",
]

_SKIP = frozenset({"get_state", "set_state"})


def readonly(method: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a method of a checkpointed class as not changing state: no checkpoint after it.

    Example::

        @checkpointed("/ckpt")
        class Counter:
            @readonly
            def value(self):
                return self.n
    """
    setattr(method, READONLY, True)
    return method


def checkpointed(
    store: Any,
    *,
    every: int | None = 1,
    every_seconds: float | None = None,
    keep: int = 2,
    idempotency_window: int = 10_000,
) -> Callable[[Any], Any]:
    """Class decorator: an actor class whose state is checkpointed and restored on restart.

    Returns a Ray actor class with ``max_restarts=-1, max_task_retries=-1`` unless
    the class already set them (use ``.options()`` to change them per actor).
    Saves after every ``every`` calls and/or once ``every_seconds`` have passed
    (checked when a call ends). Example::

        @checkpointed("/shared/ckpt")
        class Counter:
            def __init__(self):
                self.n = 0
            def increment(self):
                self.n += 1
                return self.n
    """
    st = open_store(store)
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
        raise ValueError(f"every must be None or an integer >= 1, got {every!r}")
    if every_seconds is not None and (
        isinstance(every_seconds, bool)
        or not isinstance(every_seconds, (int, float))
        or every_seconds <= 0
    ):
        raise ValueError(f"every_seconds must be None or a number > 0, got {every_seconds!r}")
    if every is None and every_seconds is None:
        raise ValueError("checkpointed: give every=N calls and/or every_seconds=S, not neither")
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ValueError(f"keep must be an integer >= 1, got {keep!r}")

    def decorate(cls: Any) -> Any:
        original, options = original_class(cls)
        if getattr(original, MARK, False):
            raise TypeError(f"{original.__name__} is already checkpointed")
        namespace: dict[str, Any] = {MARK: True, "__module__": original.__module__}
        for name, attr in inspect.getmembers(original, inspect.isfunction):
            if name.startswith("_") or name in _SKIP:
                continue
            if isinstance(inspect.getattr_static(original, name), (staticmethod, classmethod)):
                continue
            if getattr(attr, READONLY, False):
                continue  # reads need no checkpoint (and get no idempotency key)
            namespace[name] = wrap_method(attr, idempotency_window)
        user_init = original.__init__  # type: ignore[misc]

        def __init__(
            self: Any,
            *args: Any,
            _checkpoint_key: str | None = None,
            _resume: bool = False,
            **kwargs: Any,
        ) -> None:
            user_init(self, *args, **kwargs)
            ctx = ray.get_runtime_context()
            key = _checkpoint_key or ctx.get_actor_name() or ctx.get_actor_id()
            if key is None:
                raise CheckpointError(
                    f"{original.__name__} is checkpointed and must run as a Ray actor "
                    "(call .remote()), not be instantiated directly"
                )
            attach(
                self,
                st,
                key,
                every=every,
                every_seconds=every_seconds,
                keep=keep,
                resume=_resume or ctx.was_current_actor_reconstructed,
            )

        __init__.__signature__ = with_params(  # type: ignore[attr-defined]
            user_init,
            inspect.Parameter("_checkpoint_key", inspect.Parameter.KEYWORD_ONLY, default=None),
            inspect.Parameter("_resume", inspect.Parameter.KEYWORD_ONLY, default=False),
        )
        namespace["__init__"] = __init__

        def _checkpoint_now(self: Any) -> str:
            """Write a checkpoint now; returns where."""
            rt = runtime_of(self)
            save(self, rt)
            return str(rt.store.where(rt.key, rt.seq))

        def _checkpoint_info(self: Any) -> dict[str, Any]:
            """Key, latest seq, where it was restored from, files skipped, saves, pid."""
            rt = runtime_of(self)
            return {
                "key": rt.key,
                "seq": rt.seq,
                "saves": rt.saves,
                "restored_from": rt.restored_from,
                "restored_seq": rt.restored_seq,
                "skipped": list(rt.skipped),
                "reconstructed": ray.get_runtime_context().was_current_actor_reconstructed,
                "pid": os.getpid(),
                "node_id": ray.get_runtime_context().get_node_id(),
            }

        namespace["_checkpoint_now"] = _checkpoint_now
        namespace["_checkpoint_info"] = _checkpoint_info
        new_cls = type(original.__name__, (original,), namespace)
        new_cls.__qualname__ = original.__qualname__
        new_cls.__doc__ = original.__doc__
        merged = {"max_restarts": -1, "max_task_retries": -1, **options}
        return ray.remote(**merged)(new_cls)

    return decorate
