"""The Recorder: raw observations of one watched run, and the decisions taken as they happen.

Whether a ``ray.get`` waited on a lone just-submitted task, which submissions form a
batch, whether a value fetched went back into a ``.remote()``, whether a global read
by a task changed on the driver: each is decided when the call happens (the state it
needs is gone later) and stored in the records of ``_records``; ``analysis`` turns
the records into findings. The same Recorder runs in the driver and, through the
worker hook, in every worker.
"""

from __future__ import annotations

import hashlib
import inspect
import pickle
import threading
import time
import uuid
import weakref
from collections.abc import Iterable
from typing import Any

import ray
from ray import ObjectRef

from ray_patterns.doctor._introspect import (
    _captured_sizes,
    _definition_key,
    _definition_site,
    _global_reads,
    _globals_of,
    _is_data,
    _qualname,
)
from ray_patterns.doctor._records import (
    Definition,
    GetCall,
    Site,
    Submission,
    Unnecessary,
    WaitCall,
)
from ray_patterns.doctor._sizes import sizeof
from ray_patterns.doctor.thresholds import Thresholds


class Recorder:
    """Raw observations of one watched run; ``analysis`` turns them into findings."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.token = f"rpd-{uuid.uuid4().hex[:12]}"
        self.started = time.time()
        self.stopped: float | None = None
        self.lock = threading.Lock()
        self.submissions: list[Submission] = []
        self.obj_to_sub: dict[bytes, int] = {}
        self.gets: list[GetCall] = []
        self.waits: list[WaitCall] = []
        self.puts = 0
        self.put_bytes = 0
        self.definitions: list[Definition] = []
        self._def_by_obj: dict[int, int] = {}
        self._def_keys: dict[tuple[str, str, int], list[int]] = {}
        self._actor_def: dict[bytes, int] = {}
        # id(value) -> (weakref or None, type, get index, bytes)
        self._got: dict[int, tuple[Any, type, int, int]] = {}
        self.unnecessary: dict[tuple[Site, Site], Unnecessary] = {}
        self._batch = 0
        self._last_submit_site: Site | None = None
        self._subs_since_sync = 0
        self.errors: list[str] = []
        self.notes: dict[str, str] = {}
        self.spans: dict[bytes, Any] | None = None
        self.worker_hook = "not installed: Ray was already running when the watch began"
        self.async_gets: list[tuple[str, str, int, int]] = []
        self.job_hex: str | None = None
        self.ray_version = ray.__version__
        self.cpus: float = 0.0

    # -- bookkeeping ----------------------------------------------------------
    def fail(self, where: str, exc: BaseException) -> None:
        if len(self.errors) < 20:
            self.errors.append(f"{where}: {type(exc).__name__}: {exc}")

    def _sync(self) -> None:
        self._subs_since_sync = 0

    # -- definitions ----------------------------------------------------------
    def on_define(self, target: Any, remote_obj: Any, site: Site) -> None:
        kind = "actor" if inspect.isclass(target) else "function"
        key = _definition_key(target)
        index = len(self.definitions)
        definition = Definition(index, key, _qualname(target), kind, site, target)
        definition.global_reads = _global_reads(target)
        self.definitions.append(definition)
        self._def_by_obj[id(remote_obj)] = index
        self._def_keys.setdefault(key, []).append(index)

    def definition_of(self, remote_obj: Any, target: Any, site: Site) -> Definition:
        """The definition record of a remote function/actor class (made if it predates us)."""
        index = self._def_by_obj.get(id(remote_obj))
        if index is None:
            self.on_define(target, remote_obj, site)
            index = len(self.definitions) - 1
            self.definitions[index].site = _definition_site(target) or site
        return self.definitions[index]

    def on_export(self, definition: Definition, remote_obj: Any) -> None:
        """First submission: Ray has just pickled the definition; measure and snapshot."""
        definition.exported = True
        target = definition.target
        pickled = getattr(remote_obj, "_pickled_function", None)
        if isinstance(pickled, (bytes, bytearray)):
            definition.pickled_bytes = len(pickled)
        definition.captured = _captured_sizes(target)
        if definition.pickled_bytes is None:
            definition.pickled_bytes = sum(size for _, size in definition.captured)
        definition.snapshot = self._snapshot_globals(target, definition)

    def _snapshot_globals(self, target: Any, definition: Definition) -> dict[str, Any]:
        namespace = _globals_of(target)
        out: dict[str, tuple[Any, bytes | None]] = {}
        for name in definition.global_reads:
            if name not in namespace:
                continue
            value = namespace[name]
            if not _is_data(value):
                continue
            out[name] = (value, self._fingerprint(value))
        return out

    def _fingerprint(self, value: Any) -> bytes | None:
        if sizeof(value) > self.thresholds.global_fingerprint_max_bytes:
            return None
        try:
            return hashlib.blake2b(pickle.dumps(value, protocol=5), digest_size=16).digest()
        except Exception:  # unpicklable: identity is all we can compare
            return None

    def check_globals(self, definition: Definition, site: Site) -> None:
        """Does a global this definition reads differ on the driver from its export value?

        Workers keep the value pickled at export, so every call after a change is
        a call that may compute with a stale value. Rebinding is checked on every
        call (an identity test); in-place changes by hashing, on the first 1,000
        calls and then at most every 50 ms.
        """
        namespace = _globals_of(definition.target)
        now = time.monotonic()
        deep = definition.calls <= 1000 or now - definition.last_fingerprint_check > 0.05
        if deep:
            definition.last_fingerprint_check = now
        for name, (value, fingerprint) in definition.snapshot.items():
            change = definition.global_changes.get(name)
            if change is not None:
                change[0] += 1
                continue
            how = None
            current = namespace.get(name, _MISSING)
            if current is not value:
                how = "rebound"
            elif deep and fingerprint is not None and self._fingerprint(current) != fingerprint:
                how = "mutated in place"
            if how is not None:
                definition.global_changes[name] = [1, how, site]

    # -- submissions ----------------------------------------------------------
    def on_submit(
        self,
        out: Any,
        site: Site,
        via_library: bool,
        definition: Definition | None,
        kind: str,
        args: Iterable[Any] | None,
        kwargs: dict[str, Any] | None,
        t: float,
    ) -> None:
        refs = _refs_of(out)
        arg_bytes = 0
        args = args or ()
        kwargs = kwargs or {}
        got = self._got
        for value in (*args, *kwargs.values()):
            if isinstance(value, ObjectRef):
                continue
            arg_bytes += sizeof(value)
            if got:
                self._match_got(value, site)
        with self.lock:
            if site != self._last_submit_site or self._subs_since_sync == 0:
                self._batch += 1
            self._last_submit_site = site
            self._subs_since_sync += 1
            if definition is not None:
                definition.calls += 1
            index = len(self.submissions)
            task_id = refs[0].task_id().binary() if refs else b""
            self.submissions.append(
                Submission(
                    index,
                    task_id,
                    site,
                    definition.index if definition is not None else -1,
                    kind,
                    t,
                    arg_bytes,
                    self._batch,
                    via_library,
                )
            )
            for ref in refs:
                self.obj_to_sub[ref.binary()] = index
        if kind == "actor_creation" and definition is not None:
            actor_id = getattr(out, "_ray_actor_id", None)
            if actor_id is not None:
                self._actor_def[actor_id.binary()] = definition.index

    def actor_definition(self, handle: Any) -> Definition | None:
        actor_id = getattr(handle, "_ray_actor_id", None)
        if actor_id is None:
            return None
        index = self._actor_def.get(actor_id.binary())
        return None if index is None else self.definitions[index]

    def _match_got(self, value: Any, site: Site) -> None:
        entry = self._got.get(id(value))
        if entry is None:
            return
        ref, typ, get_index, nbytes = entry
        same = ref() is value if ref is not None else type(value) is typ
        if not same:
            return
        get_site = self.gets[get_index].site
        key = (get_site, site)
        found = self.unnecessary.get(key)
        if found is None:
            self.unnecessary[key] = Unnecessary(get_index, get_site, site, nbytes)
        else:
            found.count += 1
            found.nbytes += nbytes

    # -- gets, waits, puts ----------------------------------------------------
    def on_get(
        self,
        object_refs: Any,
        value: Any,
        site: Site,
        via_library: bool,
        t0: float,
        t1: float,
        in_loop: bool,
        failed: bool,
    ) -> None:
        if isinstance(object_refs, ObjectRef):
            refs = [object_refs]
            values = [value]
        elif isinstance(object_refs, (list, tuple)):
            refs = list(object_refs)
            values = list(value) if isinstance(value, list) and not failed else []
        else:
            refs, values = [], []
        nbytes = 0 if failed else sizeof(value)
        single = -1
        lone_fresh = False
        with self.lock:
            if len(refs) == 1 and isinstance(refs[0], ObjectRef):
                single = self.obj_to_sub.get(refs[0].binary(), -1)
                lone_fresh = (
                    single >= 0
                    and single == len(self.submissions) - 1
                    and self._subs_since_sync == 1
                    and self.submissions[single].kind == "task"
                )
            get_index = len(self.gets)
            self.gets.append(
                GetCall(
                    site,
                    via_library,
                    t0,
                    t1,
                    len(refs),
                    nbytes,
                    single,
                    lone_fresh,
                    in_loop,
                    failed,
                )
            )
            self._sync()
            if not failed:
                self._mark_done(refs, t1)
        if not failed and nbytes >= self.thresholds.unnecessary_get_min_bytes:
            self._remember(value, get_index, nbytes)
            for item in values:
                item_bytes = sizeof(item)
                if item_bytes >= self.thresholds.unnecessary_get_min_bytes:
                    self._remember(item, get_index, item_bytes)

    def _remember(self, value: Any, get_index: int, nbytes: int) -> None:
        try:
            ref: Any = weakref.ref(value)
        except TypeError:  # lists, bytes: fall back to id + type (ids can be reused)
            ref = None
        if len(self._got) > 10_000:
            self._got.pop(next(iter(self._got)))
        self._got[id(value)] = (ref, type(value), get_index, nbytes)

    def _mark_done(self, refs: Iterable[Any], t: float) -> None:
        lookup = self.obj_to_sub.get
        subs = self.submissions
        for ref in refs:
            if isinstance(ref, ObjectRef):
                index = lookup(ref.binary())
                if index is not None and subs[index].done is None:
                    subs[index].done = t

    def on_wait(self, refs: Any, result: Any, site: Site, t0: float, t1: float, loop: bool) -> None:
        ready = result[0] if isinstance(result, tuple) and result else []
        with self.lock:
            self.waits.append(WaitCall(site, t0, t1, _len(refs), len(ready), loop))
            self._sync()
            self._mark_done(ready, t1)

    def on_put(self, value: Any) -> None:
        self.puts += 1
        self.put_bytes += sizeof(value)


_MISSING = object()


def _len(value: Any) -> int:
    return len(value) if hasattr(value, "__len__") else 0


def _refs_of(out: Any) -> list[ObjectRef]:
    if isinstance(out, ObjectRef):
        return [out]
    if isinstance(out, list):
        return [r for r in out if isinstance(r, ObjectRef)]
    return []
