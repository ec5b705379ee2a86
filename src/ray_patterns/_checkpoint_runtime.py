"""What runs inside a checkpointed actor: restore, save after calls, idempotency keys.

:func:`wrap_method` wraps each state-changing method so that a checkpoint is
written before its result is returned when one is due (``every`` calls,
``every_seconds``, or at once for a call with ``_idempotency_key``);
:func:`restore` loads the newest readable checkpoint when the actor is
restarted. The bookkeeping (:class:`Runtime`) lives in the instance under
``STATE_ATTR`` and is never part of the saved state.
"""

from __future__ import annotations

import bisect
import inspect
import logging
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ray_patterns._checkpoint_format import CheckpointWarning, decode, encode

__all__ = [
    "IDEM",
    "MARK",
    "READONLY",
    "STATE_ATTR",
    "Restored",
    "Runtime",
    "attach",
    "is_checkpointed",
    "load_latest",
    "original_class",
    "runtime_of",
    "save",
    "set_state",
    "with_params",
    "wrap_method",
]

logger = logging.getLogger("ray_patterns.fault_tolerance_actor_checkpointing")

STATE_ATTR = "_rp_checkpoint"
MARK = "__ray_patterns_checkpointed__"
READONLY = "__ray_patterns_readonly__"


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
            record = decode(store.read(key, seq), where)
        except Exception as exc:
            msg = f"checkpoint {where} is unreadable ({exc}); falling back to the previous one"
            warnings.warn(msg, CheckpointWarning, stacklevel=2)
            logger.warning(msg)
            skipped.append(where)
            continue
        return Restored(seq, record, where, skipped)
    return None


class Runtime:
    """Per-instance bookkeeping; kept out of the checkpointed ``__dict__``."""

    def __init__(self, store: Any, key: str, every: int | None, every_s: float | None, keep: int):
        self.store = store
        self.key = key
        self.every = every
        self.every_s = every_s
        self.keep = keep
        self.seq = 0
        #: seqs of the checkpoints under ``key`` (ascending): listed once when the actor
        #: starts, then kept up to date by ``save``, so pruning lists nothing per save
        self.known: list[int] = []
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
    return {k: v for k, v in vars(obj).items() if k != STATE_ATTR}


def set_state(obj: Any, state: Any) -> None:
    setter = getattr(obj, "set_state", None)
    if callable(setter):
        setter(state)
    else:
        obj.__dict__.update(state)


def save(obj: Any, rt: Runtime) -> None:
    with rt.lock:
        seq = rt.seq + 1
        record = {
            "state": _get_state(obj),
            "idempotency": dict(rt.idem),
            "time": time.time(),
            "seq": seq,
        }
        rt.store.write(rt.key, seq, encode(record))
        rt.seq = seq
        rt.calls_since = 0
        rt.last_save = time.monotonic()
        rt.saves += 1
        known = rt.known
        if not known or known[-1] < seq:
            known.append(seq)
        elif seq not in known:  # after a restore that skipped a corrupt newer file
            bisect.insort(known, seq)
        # Prune after the new one is in place, so a crash here keeps >= keep.
        while len(known) > rt.keep:
            rt.store.delete(rt.key, known.pop(0))


def _after_call(obj: Any, rt: Runtime, forced: bool) -> None:
    with rt.lock:
        rt.calls_since += 1
        due = forced or (rt.every is not None and rt.calls_since >= rt.every)
        if not due and rt.every_s is not None:
            due = time.monotonic() - rt.last_save >= rt.every_s
        if due:
            save(obj, rt)


def _remember(rt: Runtime, key: str, result: Any, window: int) -> None:
    rt.idem[key] = result
    rt.idem.move_to_end(key)
    while len(rt.idem) > window:
        rt.idem.popitem(last=False)


IDEM = inspect.Parameter("_idempotency_key", inspect.Parameter.KEYWORD_ONLY, default=None)


def with_params(fn: Callable[..., Any], *extra: inspect.Parameter) -> inspect.Signature:
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    var_kw = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    rest = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    return sig.replace(parameters=rest + list(extra) + var_kw)


def wrap_method(fn: Callable[..., Any], window: int) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(fn):

        async def async_wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            rt: Runtime = self.__dict__[STATE_ATTR]
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
            rt: Runtime = self.__dict__[STATE_ATTR]
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
    wrapper.__signature__ = with_params(fn, IDEM)  # type: ignore[attr-defined]
    return wrapper


def original_class(cls: Any) -> tuple[type, dict[str, Any]]:
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
        original, _ = original_class(cls)
    except TypeError:
        return False
    return bool(getattr(original, MARK, False))


def attach(
    obj: Any,
    store: Any,
    key: str,
    *,
    every: int | None,
    every_seconds: float | None,
    keep: int,
    resume: bool,
) -> Runtime:
    """Give a new actor instance its Runtime; with ``resume`` restore the newest checkpoint."""
    rt = Runtime(store, key, every, every_seconds, keep)
    obj.__dict__[STATE_ATTR] = rt
    if resume:
        found = load_latest(store, key)
        if found is not None:
            set_state(obj, found.record["state"])
            rt.idem.update(found.record.get("idempotency", {}))
            rt.seq = found.seq
            rt.restored_from = found.where
            rt.restored_seq = found.seq
            rt.skipped = found.skipped
        rt.known = [seq for seq, _ in store.list(key)]
    else:
        # A new actor under a reused key starts numbering after what is there,
        # so it never overwrites or is shadowed by an old run's checkpoints.
        rt.known = [seq for seq, _ in store.list(key)]
        rt.seq = rt.known[-1] if rt.known else 0
    return rt


def runtime_of(obj: Any) -> Runtime:
    return obj.__dict__[STATE_ATTR]  # type: ignore[no-any-return]
