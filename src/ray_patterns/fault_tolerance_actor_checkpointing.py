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
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import pickle
import struct
import threading
import time
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import ray
from ray import cloudpickle

__all__ = [
    "CheckpointError",
    "CheckpointWarning",
    "CheckpointStore",
    "FsspecStore",
    "KVStore",
    "checkpointed",
    "is_checkpointed",
    "open_store",
    "readonly",
]

logger = logging.getLogger(__name__)

_MAGIC = b"RPCK1\n"
_HEADER = struct.Struct(">Q32s")  # payload length, sha256 of payload
_PREFIX = "ckpt-"
_SUFFIX = ".bin"
_STATE_ATTR = "_rp_checkpoint"
_MARK = "__ray_patterns_checkpointed__"


class CheckpointError(RuntimeError):
    """A checkpoint could not be written or read."""


class CheckpointWarning(UserWarning):
    """A checkpoint was unreadable and an older one was used instead."""


def _encode(record: dict[str, Any]) -> bytes:
    payload = cloudpickle.dumps(record)
    return _MAGIC + _HEADER.pack(len(payload), hashlib.sha256(payload).digest()) + payload


def _decode(blob: bytes, where: str) -> dict[str, Any]:
    head = len(_MAGIC) + _HEADER.size
    if len(blob) < head or not blob.startswith(_MAGIC):
        raise CheckpointError(f"{where}: not a ray-patterns checkpoint or truncated header")
    length, digest = _HEADER.unpack(blob[len(_MAGIC) : head])
    payload = blob[head:]
    if len(payload) != length:
        raise CheckpointError(f"{where}: truncated ({len(payload)} of {length} bytes)")
    if hashlib.sha256(payload).digest() != digest:
        raise CheckpointError(f"{where}: checksum mismatch")
    record = pickle.loads(payload)
    if not isinstance(record, dict) or "state" not in record:
        raise CheckpointError(f"{where}: malformed record")
    return record


def _name(seq: int) -> str:
    return f"{_PREFIX}{seq:012d}{_SUFFIX}"


def _seq_of(name: str) -> int | None:
    base = name.rsplit("/", 1)[-1]
    if base.startswith(_PREFIX) and base.endswith(_SUFFIX):
        digits = base[len(_PREFIX) : -len(_SUFFIX)]
        if digits.isdigit():
            return int(digits)
    return None


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key or key.startswith("/") or ".." in key.split("/"):
        raise ValueError(f"checkpoint key must be a non-empty relative name, got {key!r}")
    return key


class CheckpointStore(Protocol):
    """Where checkpoints live: numbered blobs under a key."""

    def write(self, key: str, seq: int, blob: bytes) -> str: ...

    def list(self, key: str) -> list[tuple[int, str]]: ...

    def read(self, key: str, seq: int) -> bytes: ...

    def delete(self, key: str, seq: int) -> None: ...


class FsspecStore:
    """A directory or fsspec URL; each checkpoint is ``<root>/<key>/ckpt-<seq>.bin``.

    Example: ``FsspecStore("s3://bucket/ckpt")`` or ``FsspecStore("/nfs/ckpt")``.
    ``fsync=True`` (local files) also survives a machine crash, at a cost per call.
    """

    def __init__(self, url: str | os.PathLike[str], *, fsync: bool = False):
        import fsspec.core

        self.url = os.fspath(url)
        self.fsync = fsync
        fs, root = fsspec.core.url_to_fs(self.url)
        self._fs = fs
        self._root = root.rstrip("/")
        self._local = "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FsspecStore, (self.url,), {"fsync": self.fsync})

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.fsync = state["fsync"]

    def _dir(self, key: str) -> str:
        return f"{self._root}/{_check_key(key)}"

    def where(self, key: str, seq: int) -> str:
        return f"{self._dir(key)}/{_name(seq)}"

    def write(self, key: str, seq: int, blob: bytes) -> str:
        final = self.where(key, seq)
        tmp = f"{self._dir(key)}/.tmp-{uuid.uuid4().hex}"
        if self._local:
            # Plain os calls: the fast path for the common case, with a real
            # atomic rename (fsspec's local mv may copy across devices).
            os.makedirs(self._dir(key), exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(blob)
                if self.fsync:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, final)
        else:
            self._fs.makedirs(self._dir(key), exist_ok=True)
            with self._fs.open(tmp, "wb") as fh:
                fh.write(blob)
            # Object stores have no atomic rename; mv is copy+delete there, and
            # the checksum catches a half-written object.
            self._fs.mv(tmp, final)
        return final

    def list(self, key: str) -> list[tuple[int, str]]:
        d = self._dir(key)
        try:
            names = os.listdir(d) if self._local else self._fs.ls(d, detail=False)
        except (FileNotFoundError, NotADirectoryError):
            return []
        out = [(s, f"{d}/{n.rsplit('/', 1)[-1]}") for n in names if (s := _seq_of(n)) is not None]
        return sorted(out)

    def read(self, key: str, seq: int) -> bytes:
        path = self.where(key, seq)
        if self._local:
            with open(path, "rb") as fh:
                return fh.read()
        with self._fs.open(path, "rb") as fh:
            return fh.read()  # type: ignore[no-any-return]

    def delete(self, key: str, seq: int) -> None:
        path = self.where(key, seq)
        try:
            if self._local:
                os.remove(path)
            else:
                self._fs.rm(path)
        except FileNotFoundError:
            pass


def _kv_limit() -> int:
    # The KV put travels in one gRPC message; Ray's limit is max_grpc_message_size
    # (512 MiB unless RAY_max_grpc_message_size says otherwise). Leave room for
    # the key and the message envelope.
    from ray._private import ray_constants

    limit = int(
        os.environ.get("RAY_max_grpc_message_size", ray_constants.GRPC_CPP_MAX_MESSAGE_SIZE)
    )
    return limit - (1 << 20)


class KVStore:
    """Ray's internal KV store (in the GCS): no shared disk needed, small state only.

    ``max_bytes`` defaults to Ray's limit for one KV value; anything bigger is refused
    with an error naming the size. Example: ``checkpointed(KVStore(), every=10)``.
    """

    url = "ray-kv://"

    def __init__(self, namespace: str = "ray_patterns_ckpt", *, max_bytes: int | None = None):
        self.namespace = namespace
        self.max_bytes = _kv_limit() if max_bytes is None else max_bytes

    def _k(self, key: str, seq: int) -> bytes:
        return f"{_check_key(key)}/{_name(seq)}".encode()

    def where(self, key: str, seq: int) -> str:
        return f"ray-kv://{self.namespace}/{self._k(key, seq).decode()}"

    def write(self, key: str, seq: int, blob: bytes) -> str:
        from ray.experimental import internal_kv

        if len(blob) > self.max_bytes:
            raise CheckpointError(
                f"checkpoint of {len(blob) / 2**20:.1f} MiB exceeds the KV store limit of "
                f"{self.max_bytes / 2**20:.1f} MiB; Ray's internal KV is for small state: "
                "use a shared directory or an fsspec URL (s3://...) as the store"
            )
        internal_kv._internal_kv_put(self._k(key, seq), blob, namespace=self.namespace)
        return self.where(key, seq)

    def list(self, key: str) -> list[tuple[int, str]]:
        from ray.experimental import internal_kv

        prefix = f"{_check_key(key)}/".encode()
        names = internal_kv._internal_kv_list(prefix, namespace=self.namespace)
        out = []
        for n in names:
            text = n.decode() if isinstance(n, bytes) else n
            s = _seq_of(text)
            if s is not None:
                out.append((s, f"ray-kv://{self.namespace}/{text}"))
        return sorted(out)

    def read(self, key: str, seq: int) -> bytes:
        from ray.experimental import internal_kv

        blob = internal_kv._internal_kv_get(self._k(key, seq), namespace=self.namespace)
        if blob is None:
            raise FileNotFoundError(self.where(key, seq))
        return blob  # type: ignore[no-any-return]

    def delete(self, key: str, seq: int) -> None:
        from ray.experimental import internal_kv

        internal_kv._internal_kv_del(self._k(key, seq), namespace=self.namespace)


def open_store(store: Any) -> Any:
    """A store object from a path, URL, ``"ray-kv://[namespace]"`` or a store object."""
    if isinstance(store, str) and store.startswith("ray-kv://"):
        ns = store[len("ray-kv://") :].strip("/")
        return KVStore(ns) if ns else KVStore()
    if isinstance(store, (str, os.PathLike)):
        return FsspecStore(store)
    if all(callable(getattr(store, m, None)) for m in ("write", "list", "read", "delete")):
        return store
    raise TypeError(
        "store must be a directory path, an fsspec URL, 'ray-kv://' or an object with "
        f"write/list/read/delete methods, got {type(store).__name__}"
    )


@dataclass
class Restored:
    seq: int
    record: dict[str, Any]
    where: str
    skipped: list[str]


def load_latest(store: Any, key: str) -> Restored | None:
    """The newest readable checkpoint under ``key`` (None if there is none).

    Unreadable ones (truncated, corrupt) are skipped with a CheckpointWarning
    naming the file, falling back to the previous checkpoint.
    """
    skipped: list[str] = []
    for seq, where in reversed(store.list(key)):
        try:
            record = _decode(store.read(key, seq), where)
        except Exception as exc:
            msg = f"checkpoint {where} is unreadable ({exc}); falling back to the previous one"
            warnings.warn(msg, CheckpointWarning, stacklevel=2)
            logger.warning(msg)
            skipped.append(where)
            continue
        return Restored(seq, record, where, skipped)
    return None


class _Runtime:
    """Per-instance bookkeeping; kept out of the checkpointed ``__dict__``."""

    def __init__(self, store: Any, key: str, every: int | None, every_s: float | None, keep: int):
        self.store = store
        self.key = key
        self.every = every
        self.every_s = every_s
        self.keep = keep
        self.seq = 0
        self.calls_since = 0
        self.last_save = time.monotonic()
        self.lock = threading.RLock()
        self.idem: OrderedDict[str, Any] = OrderedDict()
        self.restored_from: str | None = None
        self.restored_seq: int | None = None
        self.skipped: list[str] = []
        self.saves = 0


def _get_state(obj: Any) -> Any:
    getter = getattr(obj, "get_state", None)
    if callable(getter):
        return getter()
    return {k: v for k, v in vars(obj).items() if k != _STATE_ATTR}


def _set_state(obj: Any, state: Any) -> None:
    setter = getattr(obj, "set_state", None)
    if callable(setter):
        setter(state)
    else:
        obj.__dict__.update(state)


def _save(obj: Any, rt: _Runtime) -> None:
    with rt.lock:
        seq = rt.seq + 1
        record = {
            "state": _get_state(obj),
            "idempotency": dict(rt.idem),
            "time": time.time(),
            "seq": seq,
        }
        rt.store.write(rt.key, seq, _encode(record))
        rt.seq = seq
        rt.calls_since = 0
        rt.last_save = time.monotonic()
        rt.saves += 1
        # Prune after the new one is in place, so a crash here keeps >= keep.
        for old, _ in rt.store.list(rt.key)[: -rt.keep]:
            rt.store.delete(rt.key, old)


def _after_call(obj: Any, rt: _Runtime, forced: bool) -> None:
    with rt.lock:
        rt.calls_since += 1
        due = forced or (rt.every is not None and rt.calls_since >= rt.every)
        if not due and rt.every_s is not None:
            due = time.monotonic() - rt.last_save >= rt.every_s
        if due:
            _save(obj, rt)


def _remember(rt: _Runtime, key: str, result: Any, window: int) -> None:
    rt.idem[key] = result
    rt.idem.move_to_end(key)
    while len(rt.idem) > window:
        rt.idem.popitem(last=False)


_IDEM = inspect.Parameter("_idempotency_key", inspect.Parameter.KEYWORD_ONLY, default=None)


def _with_params(fn: Callable[..., Any], *extra: inspect.Parameter) -> inspect.Signature:
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    var_kw = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    rest = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    return sig.replace(parameters=rest + list(extra) + var_kw)


def _wrap_method(fn: Callable[..., Any], window: int) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(fn):

        async def async_wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            rt: _Runtime = self.__dict__[_STATE_ATTR]
            key = kwargs.pop("_idempotency_key", None)
            if key is not None and key in rt.idem:
                return rt.idem[key]
            result = await fn(self, *args, **kwargs)
            if key is not None:
                _remember(rt, key, result, window)
            _after_call(self, rt, forced=key is not None)
            return result

        wrapper: Callable[..., Any] = async_wrapper
    else:

        def sync_wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            rt: _Runtime = self.__dict__[_STATE_ATTR]
            key = kwargs.pop("_idempotency_key", None)
            if key is None:
                result = fn(self, *args, **kwargs)
                _after_call(self, rt, forced=False)
                return result
            with rt.lock:  # threaded actors: one checked call per key at a time
                if key is not None and key in rt.idem:
                    return rt.idem[key]
                result = fn(self, *args, **kwargs)
                if key is not None:
                    _remember(rt, key, result, window)
                _after_call(self, rt, forced=key is not None)
            return result

        wrapper = sync_wrapper
    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = getattr(fn, "__qualname__", fn.__name__)
    wrapper.__doc__ = fn.__doc__
    # keep @ray.method(...) options (max_task_retries, num_returns, ...): Ray reads
    # them from these attributes of the function it is given
    for name, value in vars(fn).items():
        if name.startswith("__ray_") and name.endswith("__"):
            setattr(wrapper, name, value)
    # Ray checks .remote() arguments against this signature: add the key.
    wrapper.__signature__ = _with_params(fn, _IDEM)  # type: ignore[attr-defined]
    return wrapper


def _original_class(cls: Any) -> tuple[type, dict[str, Any]]:
    meta = getattr(cls, "__ray_metadata__", None)
    if meta is not None:  # an ActorClass: unwrap to the user's class and options
        modified = meta.modified_class
        original = getattr(modified, "__ray_actor_class__", modified)
        return original, dict(getattr(cls, "_default_options", {}) or {})
    if not inspect.isclass(cls):
        raise TypeError(f"checkpointed: expected a class, got {type(cls).__name__}")
    return cls, {}


def is_checkpointed(cls: Any) -> bool:
    """True for a class (or Ray actor class) made by :func:`checkpointed`."""
    try:
        original, _ = _original_class(cls)
    except TypeError:
        return False
    return bool(getattr(original, _MARK, False))


_SKIP = frozenset({"get_state", "set_state"})
_READONLY = "__ray_patterns_readonly__"


def readonly(method: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a method of a checkpointed class as not changing state: no checkpoint after it.

    Example::

        @checkpointed("/ckpt")
        class Counter:
            @readonly
            def value(self):
                return self.n
    """
    setattr(method, _READONLY, True)
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
        original, options = _original_class(cls)
        if getattr(original, _MARK, False):
            raise TypeError(f"{original.__name__} is already checkpointed")
        namespace: dict[str, Any] = {_MARK: True, "__module__": original.__module__}
        for name, attr in inspect.getmembers(original, inspect.isfunction):
            if name.startswith("_") or name in _SKIP:
                continue
            if isinstance(inspect.getattr_static(original, name), (staticmethod, classmethod)):
                continue
            if getattr(attr, _READONLY, False):
                continue  # reads need no checkpoint (and get no idempotency key)
            namespace[name] = _wrap_method(attr, idempotency_window)
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
            rt = _Runtime(st, key, every, every_seconds, keep)
            self.__dict__[_STATE_ATTR] = rt
            if _resume or ctx.was_current_actor_reconstructed:
                found = load_latest(st, key)
                if found is not None:
                    _set_state(self, found.record["state"])
                    rt.idem.update(found.record.get("idempotency", {}))
                    rt.seq = found.seq
                    rt.restored_from = found.where
                    rt.restored_seq = found.seq
                    rt.skipped = found.skipped
            else:
                # A new actor under a reused key starts numbering after what is there,
                # so it never overwrites or is shadowed by an old run's checkpoints.
                existing = st.list(key)
                rt.seq = existing[-1][0] if existing else 0

        __init__.__signature__ = _with_params(  # type: ignore[attr-defined]
            user_init,
            inspect.Parameter("_checkpoint_key", inspect.Parameter.KEYWORD_ONLY, default=None),
            inspect.Parameter("_resume", inspect.Parameter.KEYWORD_ONLY, default=False),
        )
        namespace["__init__"] = __init__

        def _checkpoint_now(self: Any) -> str:
            """Write a checkpoint now; returns where."""
            rt: _Runtime = self.__dict__[_STATE_ATTR]
            _save(self, rt)
            return str(rt.store.where(rt.key, rt.seq))

        def _checkpoint_info(self: Any) -> dict[str, Any]:
            """Key, latest seq, where it was restored from, files skipped, saves, pid."""
            rt: _Runtime = self.__dict__[_STATE_ATTR]
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
