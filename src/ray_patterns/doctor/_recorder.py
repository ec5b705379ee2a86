"""The Recorder: raw observations of one watched run, and the decisions taken as they happen.

Whether a ``ray.get`` waited on a lone just-submitted task, which submissions form a
batch, whether a value fetched went back into a ``.remote()``, whether a global read
by a task changed on the driver: each is decided when the call happens (the state it
needs is gone later) and stored in the records of ``_records``; ``analysis`` turns
the records into findings. The same Recorder runs in the driver and, through the
worker hook, in every worker.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import os
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

    def __init__(self, thresholds: Thresholds, *, worker: bool = False) -> None:
        self.thresholds = thresholds
        #: True in a worker process (the records are shipped to the driver)
        self.worker = worker
        #: bumped on every record: a worker ships only when it changed
        self.changes = 0
        #: worker: call site -> the task or actor method it ran in
        self.scopes: dict[Site, str] = {}
        # the new pages' observations, each (time, ...): a worker that outlives one
        # watch ships them all and the driver keeps those of its own watch (``since``)
        #: refs this process made with ray.put -> (time, the put's site) (return-ray-put)
        self.put_refs: dict[bytes, tuple[float, Site]] = {}
        #: refs found inside values this process fetched -> (time, the get's site)
        self.returned_refs: dict[bytes, tuple[float, Site]] = {}
        #: worker: (time, site, refs) of gets of refs this process neither submitted nor put
        self.nested: list[tuple[float, Site, int]] = []
        #: worker: (time, site) of forks (os.fork, fork-started multiprocessing)
        self.forks: list[tuple[float, Site]] = []
        #: worker: (task id hex, site) -> [gets, first, last] of ray.get calls inside a
        #: synchronous actor method (sync-actor-polling-loop: one call that loops)
        self.actor_gets: dict[tuple[str, Site], list[Any]] = {}
        #: (time, site) of ObjectRefs pickled outside Ray's argument passing
        self.out_of_band: list[tuple[float, Site]] = []
        #: (time, submit site, content digest, bytes) of large arguments passed by value
        self.large_args: list[tuple[float, Site, bytes, int]] = []
        #: (time, definition index, items, bytes) of lists of large objects a task returned
        self.large_lists: list[tuple[float, int, int, int]] = []
        #: worker: (task id, function name, start, end) of each call of an observed task
        #: function (``_worker.observed_function``): its run time without Ray's events
        self.calls: list[tuple[bytes, str, float, float]] = []
        self._current_task_id: Any = None
        #: worker: submissions marked finished / passed after they were recorded, as
        #: (index, time) / index: the append-only lists ship in chunks (``_CHUNKED``),
        #: so the changes to a chunk already shipped ship as these logs
        self.done_log: list[tuple[int, float]] = []
        self.passed_log: list[int] = []
        #: worker: bumped by ``forget``: the chunks of an earlier epoch are stale
        self.epoch = 0
        #: worker: the worker and node ids (hex) its calls ran on
        self.worker_id = ""
        self.node_id = ""
        #: records from the workers, filled by the driver when the watch ends
        self.worker_records: list[Recorder] = []
        self.workers_missing: list[str] = []
        #: driver: tasks of a lone ref whose ray.get raised (not a timeout): ended
        self.failed_fetch: set[bytes] = set()
        #: driver: tasks whose last records never came from their worker, with why
        self.records_lost: list[str] = []
        self.pid = os.getpid()
        self._own_tasks: set[bytes] = set()
        self.truncated = False
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
        #: "installed": the workers record (the job's runtime_env hook, or wrapped definitions)
        self.worker_hook = "installed"
        #: wrap definitions before their first export (off when the runtime_env hook is on)
        self.wrap = True
        #: definitions exported before the watch began: their workers were not observed
        self.unobserved_definitions: set[str] = set()
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
        self.changes += 1
        self._def_by_obj[id(remote_obj)] = index
        self._def_keys.setdefault(key, []).append(index)

    def known_definition(self, remote_obj: Any) -> Definition | None:
        """The definition record of a remote function/actor class seen before, if any."""
        index = self._def_by_obj.get(id(remote_obj))
        return None if index is None else self.definitions[index]

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
        method: str = "",
    ) -> None:
        refs = _refs_of(out)
        arg_bytes = 0
        got = self._got
        large = self.thresholds.large_arg_bytes
        values = args or ()
        if kwargs:
            values = (*values, *kwargs.values())
        # the hot path of a task loop: scalars (most arguments) cost a set lookup
        for value in values:
            if type(value) in _SCALAR_TYPES:
                arg_bytes += 8
                continue
            if isinstance(value, ObjectRef) or (
                isinstance(value, (list, tuple)) and value and isinstance(value[0], ObjectRef)
            ):
                self._mark_passed(value)
                if isinstance(value, ObjectRef):
                    continue
            size = sizeof(value)
            arg_bytes += size
            if got:
                self._match_got(value, site)
            if size >= large and not via_library:
                self._count_large_arg(value, size, site)
        task_id = refs[0].task_id().binary() if refs else b""
        with self.lock:
            self.changes += 1
            if site != self._last_submit_site or self._subs_since_sync == 0:
                self._batch += 1
            self._last_submit_site = site
            self._subs_since_sync += 1
            if definition is not None:
                definition.calls += 1
            index = len(self.submissions)
            if self.worker and task_id:
                self._own_tasks.add(task_id)
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
                    None,
                    method,
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
            self.changes += 1
            if len(refs) == 1 and isinstance(refs[0], ObjectRef):
                single = self.obj_to_sub.get(refs[0].binary(), -1)
                lone_fresh = (
                    single >= 0
                    and single == len(self.submissions) - 1
                    and self._subs_since_sync == 1
                    and self.submissions[single].kind in ("task", "actor_task")
                )
            if self.worker and not via_library:
                self._note_nested(refs, site)
                if not in_loop:
                    self._note_actor_get(site, t0, t1)
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
                    _small(value) if single >= 0 and not failed else None,
                )
            )
            self._sync()
            if not failed:
                self._mark_done(refs, t1)
        if not failed:
            self._note_returned(value, values if values else [value], site, single)
        if not failed and nbytes >= self.thresholds.unnecessary_get_min_bytes:
            self._remember(value, get_index, nbytes)
            for item in values:
                item_bytes = sizeof(item)
                if item_bytes >= self.thresholds.unnecessary_get_min_bytes:
                    self._remember(item, get_index, item_bytes)

    def _mark_passed(self, value: Any) -> None:
        refs = [value] if isinstance(value, ObjectRef) else value[:1000]
        subs = self.submissions
        for ref in refs:
            if isinstance(ref, ObjectRef):
                index = self.obj_to_sub.get(ref.binary())
                if index is not None and not subs[index].passed:
                    subs[index].passed = True
                    if self.worker:
                        self.passed_log.append(index)

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
                    if self.worker:
                        self.done_log.append((index, t))

    def on_failed_fetch(self, object_refs: Any) -> None:
        """A ``ray.get`` of one ref raised its task's error: the task ended (its Ray
        events say how); a get of several refs raises the first error, the others
        may still run."""
        if isinstance(object_refs, ObjectRef) and not self.worker:
            self.failed_fetch.add(object_refs.task_id().binary())

    def on_wait(self, refs: Any, result: Any, site: Site, t0: float, t1: float, loop: bool) -> None:
        ready = result[0] if isinstance(result, tuple) and result else []
        with self.lock:
            self.changes += 1
            self.waits.append(WaitCall(site, t0, t1, _len(refs), len(ready), loop))
            self._sync()
            self._mark_done(ready, t1)

    def on_put(self, value: Any, ref: Any = None, site: Site | None = None) -> None:
        self.changes += 1
        self.puts += 1
        self.put_bytes += sizeof(value)
        if site is not None and isinstance(ref, ObjectRef) and len(self.put_refs) < _MAX_REFS:
            self.put_refs[ref.binary()] = (time.time(), site)

    def on_call(self, name: str, t0: float, t1: float) -> None:
        """A worker's call of an observed task function ran from ``t0`` to ``t1``."""
        if len(self.calls) < _MAX_REFS:
            if self._current_task_id is None:  # the core worker's, looked up once
                core = ray._private.worker.global_worker.core_worker  # type: ignore[attr-defined]
                self._current_task_id = core.get_current_task_id
            self.calls.append((self._current_task_id().binary(), name, t0, t1))

    # -- what only the worker side (or the new pages' checks) need -------------
    def _note_nested(self, refs: list[Any], site: Site) -> None:
        """A task's get of refs it did not make: they came in inside its arguments."""
        foreign = 0
        for ref in refs:
            if isinstance(ref, ObjectRef):
                # refs of tasks it submitted (a generator's items too) or put are its own
                own = ref.task_id().binary() in self._own_tasks or ref.binary() in self.put_refs
                foreign += not own
        if foreign and len(self.nested) < _MAX_REFS:
            self.nested.append((time.time(), site, foreign))

    def _note_actor_get(self, site: Site, t0: float, t1: float) -> None:
        """A get inside a synchronous actor method, counted per call (task) and line."""
        context = ray.get_runtime_context()
        if context.get_actor_id() is None:
            return
        key = (context.get_task_id() or "", site)
        entry = self.actor_gets.get(key)
        if entry is None:
            if len(self.actor_gets) < _MAX_REFS:
                self.actor_gets[key] = [1, t0, t1]
            return
        entry[0] += 1
        entry[2] = t1

    def _note_returned(self, value: Any, items: list[Any], site: Site, single: int) -> None:
        """Refs inside a fetched value (return-ray-put), and lists of large objects."""
        found = [r for r in _refs_in(value) if len(self.returned_refs) < _MAX_REFS]
        now = time.time()
        for ref in found:
            self.returned_refs[ref.binary()] = (now, site)
        if single < 0 or not isinstance(value, (list, tuple)):
            return
        t = self.thresholds
        if len(value) < t.large_list_min_items:
            return
        sizes = [sizeof(item) for item in value[:1000]]
        if min(sizes) < t.large_arg_bytes:
            return
        definition = self.submissions[single].definition
        if definition >= 0 and len(self.large_lists) < _MAX_REFS:
            self.large_lists.append((time.time(), definition, len(value), sum(sizes)))

    def _count_large_arg(self, value: Any, size: int, site: Site) -> None:
        digest = _digest(value)
        if digest is None:
            return
        if len(self.large_args) < _MAX_REFS:
            self.large_args.append((time.time(), site, digest, size))

    def on_fork(self, site: Site) -> None:
        self.changes += 1
        if len(self.forks) < _MAX_REFS:
            self.forks.append((time.time(), site))

    def on_out_of_band(self, site: Site) -> None:
        self.changes += 1
        if len(self.out_of_band) < _MAX_REFS:
            self.out_of_band.append((time.time(), site))

    def forget(self) -> None:
        """Drop the observations (a worker between watches); definitions stay known."""
        with self.lock:
            self.submissions, self.gets, self.waits = [], [], []
            self.obj_to_sub, self.unnecessary, self._got = {}, {}, {}
            self.nested, self.forks, self.out_of_band = [], [], []
            self.large_args, self.large_lists = [], []
            self.put_refs, self.returned_refs, self.actor_gets = {}, {}, {}
            self.calls, self.done_log, self.passed_log = [], [], []
            self._own_tasks = set()
            self._subs_since_sync = 0
            self.epoch += 1

    # -- shipping (worker -> driver) -------------------------------------------
    #: shipped whole at each flush that changed them (small, or changed in place)
    _SHIPPED = (
        "puts",
        "put_bytes",
        "unnecessary",
        "scopes",
        "put_refs",
        "returned_refs",
        "nested",
        "forks",
        "out_of_band",
        "actor_gets",
        "large_args",
        "large_lists",
        "errors",
        "pid",
        "worker_id",
        "node_id",
        "epoch",
    )
    #: append-only: shipped in chunks, each flush only what is new (``chunk``)
    _CHUNKED = ("submissions", "gets", "waits", "calls", "done_log", "passed_log")

    def shippable(self, max_records: int) -> dict[str, Any]:
        """A picklable copy of the records but the ``_CHUNKED`` lists (definitions
        without the code objects)."""
        out: dict[str, Any] = {}
        for name in self._SHIPPED:
            value = getattr(self, name)
            if isinstance(value, list):
                out[name] = value[:max_records]
                out["truncated"] = out.get("truncated", False) or len(value) > max_records
            elif isinstance(value, dict):
                out[name] = dict(value)
            else:
                out[name] = value
        out["truncated"] = out.get("truncated", False) or any(
            len(getattr(self, name)) > max_records for name in self._CHUNKED
        )
        out["definitions"] = [
            dataclasses.replace(d, target=None, snapshot={}) for d in list(self.definitions)
        ]
        return out

    def chunk(self, name: str, start: int, max_records: int) -> tuple[int, list[Any]]:
        """The items of the ``_CHUNKED`` list ``name`` from ``start`` (at most up to
        ``max_records`` in all), and where the next chunk starts."""
        items = getattr(self, name)[start:max_records]
        return start + len(items), items

    @classmethod
    def from_shipped(cls, data: dict[str, Any], thresholds: Thresholds, since: float) -> Recorder:
        """The driver's view of one worker's records made at ``since`` or later."""
        rec = cls(thresholds, worker=True)
        for name in (*cls._SHIPPED, *cls._CHUNKED, "definitions"):
            if name in data:
                setattr(rec, name, data[name])
        rec.truncated = bool(data.get("truncated"))
        rec._rebase(data.get("bases", {}))
        subs = rec.submissions
        for index, t in rec.done_log:  # changes made after their chunk had shipped
            if 0 <= index < len(subs) and subs[index].done is None:
                subs[index].done = t
        for index in rec.passed_log:
            if 0 <= index < len(subs):
                subs[index].passed = True
        rec.done_log, rec.passed_log = [], []
        rec._keep_since(since)
        return rec

    def _rebase(self, bases: dict[str, int]) -> None:
        """Indices from 0 again when the first chunks were read by an earlier watch
        (``bases``: where each list's first chunk read starts); what points before it
        is of that watch."""
        first_sub, first_get = bases.get("submissions", 0), bases.get("gets", 0)
        self._renumber(first_sub, first_get)
        if first_sub:
            self.done_log = [(i - first_sub, t) for i, t in self.done_log]
            self.passed_log = [i - first_sub for i in self.passed_log]

    def _renumber(self, first_sub: int, first_get: int) -> None:
        """Indices into the submissions and gets from 0 again, once the first
        ``first_sub`` and ``first_get`` of them are gone: what pointed at those
        points nowhere (a get's ``single``: -1) or is dropped (unnecessary gets)."""
        if first_sub:
            for s in self.submissions:
                s.index -= first_sub
            for g in self.gets:
                g.single = g.single - first_sub if g.single >= first_sub else -1
        if first_get:
            self.unnecessary = {
                k: u for k, u in self.unnecessary.items() if u.get_index >= first_get
            }
            for u in self.unnecessary.values():
                u.get_index -= first_get

    def _keep_since(self, since: float) -> None:
        """Drop what an earlier watch saw (a worker can serve several watches)."""
        first_sub = next((i for i, s in enumerate(self.submissions) if s.t >= since), None)
        first_get = next((i for i, g in enumerate(self.gets) if g.t0 >= since), None)
        if first_sub is None:
            first_sub = len(self.submissions)
        if first_get is None:
            first_get = len(self.gets)
        self.submissions = self.submissions[first_sub:]
        self.gets = self.gets[first_get:]
        self._renumber(first_sub, first_get)
        self.waits = [w for w in self.waits if w.t0 >= since]
        self.calls = [c for c in self.calls if c[2] >= since]
        self.obj_to_sub = {}
        for name in ("nested", "forks", "out_of_band", "large_args", "large_lists"):
            setattr(self, name, [e for e in getattr(self, name) if e[0] >= since])
        for name in ("put_refs", "returned_refs"):
            setattr(self, name, {k: v for k, v in getattr(self, name).items() if v[0] >= since})
        self.actor_gets = {k: v for k, v in self.actor_gets.items() if v[2] >= since}


_MISSING = object()
#: arguments ``sizeof`` counts as 8 bytes, tested by exact type (bool is an int)
_SCALAR_TYPES = frozenset((int, float, bool, complex, type(None)))
#: refs remembered per process for return-ray-put (bounded: a long job has millions)
_MAX_REFS = 100_000
_SAMPLE_BYTES = 256 << 10


def _small(value: Any) -> Any:
    """The value itself when it is a small flag-like one (what a poll returns), else None."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str) and len(value) <= 64:
        return value
    return None


def _refs_in(value: Any) -> list[ObjectRef]:
    """ObjectRefs a task returned: the value itself, or the items of a list, tuple or dict."""
    if isinstance(value, ObjectRef):
        return [value]
    if isinstance(value, (list, tuple)):
        items: Iterable[Any] = value
    elif isinstance(value, dict):
        items = value.values()
    else:
        return []
    out = []
    for item in items:
        if isinstance(item, ObjectRef):
            out.append(item)
        elif isinstance(item, (list, tuple)):
            out.extend(i for i in item if isinstance(i, ObjectRef))
    return out


def _digest(value: Any) -> bytes | None:
    """A digest of a large value's content (its first and last 256 KiB and its size)."""
    try:
        view = memoryview(value) if not isinstance(value, memoryview) else value
    except TypeError:
        view = None
    h = hashlib.blake2b(digest_size=16)
    if view is not None and view.contiguous:
        raw = view.cast("B") if view.ndim != 1 or view.format != "B" else view
        h.update(str((type(value).__name__, getattr(value, "dtype", ""), raw.nbytes)).encode())
        if raw.nbytes <= 2 * _SAMPLE_BYTES:
            h.update(raw)
        else:
            h.update(raw[:_SAMPLE_BYTES])
            h.update(raw[-_SAMPLE_BYTES:])
        return h.digest()
    try:
        h.update(pickle.dumps(value, protocol=5))
    except Exception:  # unpicklable here: Ray would fail to pass it as well
        return None
    return h.digest()


def _len(value: Any) -> int:
    return len(value) if hasattr(value, "__len__") else 0


def _refs_of(out: Any) -> list[ObjectRef]:
    if isinstance(out, ObjectRef):
        return [out]
    generator = getattr(out, "_generator_ref", None)  # a streaming generator's task
    if isinstance(generator, ObjectRef):
        return [generator]
    if isinstance(out, list):
        return [r for r in out if isinstance(r, ObjectRef)]
    return []
