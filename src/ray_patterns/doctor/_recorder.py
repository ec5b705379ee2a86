"""The driver-side instrumentation: patch Ray's entry points, record what happens.

Patched while a ``watch()`` is active, restored on exit: ``ray.get``, ``ray.wait``,
``ray.put``, ``ray.remote``, ``ray.init`` (to install the worker hook),
``ray.shutdown`` (to read task events while the cluster still exists), and the
three submission paths ``RemoteFunction._remote``, ``ActorClass._remote``,
``ActorMethod._remote``. Every wrapper calls the original unchanged and records
around it inside ``try``: a failure of ours is counted and reported as "not
observed", never raised into the program.
"""

from __future__ import annotations

import asyncio
import dis
import hashlib
import inspect
import os
import pickle
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import CodeType, FunctionType, ModuleType
from typing import Any

import ray
import ray.actor
import ray.remote_function
from ray import ObjectRef

from ray_patterns.doctor import _worker
from ray_patterns.doctor._sites import user_site
from ray_patterns.doctor._sizes import sizeof
from ray_patterns.doctor.thresholds import Thresholds

Site = tuple[str, int]


@dataclass(slots=True)
class Submission:
    index: int
    task_id: bytes
    site: Site
    definition: int
    kind: str  # "task" | "actor_task" | "actor_creation"
    t: float
    arg_bytes: int
    batch: int
    via_library: bool
    done: float | None = None  # when the driver saw it finished (get/wait), if it did


@dataclass(slots=True)
class GetCall:
    site: Site
    via_library: bool
    t0: float
    t1: float
    n_refs: int
    nbytes: int
    single: int  # submission index of a lone ref, else -1
    lone_fresh: bool  # the lone ref was the only submission since the last get/wait
    in_loop: bool
    failed: bool


@dataclass(slots=True)
class WaitCall:
    site: Site
    t0: float
    t1: float
    n_refs: int
    n_ready: int
    in_loop: bool


@dataclass
class Definition:
    index: int
    key: tuple[str, str, int]
    name: str
    kind: str  # "function" | "actor"
    site: Site
    target: Any = field(repr=False)  # the user's function or class
    pickled_bytes: int | None = None
    captured: list[tuple[str, int]] = field(default_factory=list)
    calls: int = 0
    exported: bool = False
    snapshot: dict[str, tuple[Any, bytes | None]] = field(default_factory=dict, repr=False)
    global_reads: dict[str, Site] = field(default_factory=dict)
    global_changes: dict[str, list[Any]] = field(default_factory=dict)  # name -> [n, how, site]
    last_fingerprint_check: float = 0.0


@dataclass
class Unnecessary:
    get_index: int
    get_site: Site
    submit_site: Site
    nbytes: int
    count: int = 1


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


def _target_of(remote_obj: Any) -> Any:
    """The user's function or class behind a RemoteFunction / ActorClass."""
    function = remote_obj.__dict__.get("_function") if hasattr(remote_obj, "__dict__") else None
    if function is not None:
        return inspect.unwrap(function)
    metadata = getattr(remote_obj, "__ray_metadata__", None)
    modified = getattr(metadata, "modified_class", None)
    if modified is None:
        return remote_obj
    # Ray subclasses the user's class; the user's own is kept on it
    return getattr(modified, "__ray_actor_class__", modified)


def _qualname(target: Any) -> str:
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', '?')}"


def _code_objects(target: Any) -> list[CodeType]:
    """The code of a function, or of every method of a class (own methods only)."""
    if isinstance(target, FunctionType):
        return [target.__code__]
    out = []
    for value in vars(target).values() if inspect.isclass(target) else ():
        fn = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        if isinstance(fn, FunctionType):
            out.append(fn.__code__)
    return out


def _definition_key(target: Any) -> tuple[str, str, int]:
    codes = _code_objects(target)
    if codes:
        first = min(codes, key=lambda c: c.co_firstlineno)
        return (first.co_filename, _qualname(target), first.co_firstlineno)
    return ("?", _qualname(target), 0)


def _definition_site(target: Any) -> Site | None:
    codes = _code_objects(target)
    if not codes:
        return None
    first = min(codes, key=lambda c: c.co_firstlineno)
    return (first.co_filename, first.co_firstlineno)


def _globals_of(target: Any) -> dict[str, Any]:
    if isinstance(target, FunctionType):
        return target.__globals__
    for value in vars(target).values() if inspect.isclass(target) else ():
        fn = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        if isinstance(fn, FunctionType):  # the namespace the methods really read
            return fn.__globals__
    module = inspect.getmodule(target)
    return vars(module) if module is not None else {}


def _global_reads(target: Any) -> dict[str, Site]:
    """Module-global names the code reads, with the line of the first read."""
    reads: dict[str, Site] = {}
    stack = _code_objects(target)
    while stack:
        code = stack.pop()
        line = code.co_firstlineno
        for instr in dis.get_instructions(code):
            positions = getattr(instr, "positions", None)  # 3.11+
            if positions is not None and positions.lineno:
                line = positions.lineno
            elif isinstance(instr.starts_line, int) and not isinstance(instr.starts_line, bool):
                line = instr.starts_line
            if instr.opname == "LOAD_GLOBAL" and instr.argval not in reads:
                reads[str(instr.argval)] = (code.co_filename, line)
        stack.extend(c for c in code.co_consts if isinstance(c, CodeType))
    return reads


def _is_data(value: Any) -> bool:
    """A value a task could read as data (not a module, function, class or remote handle)."""
    if isinstance(value, (ModuleType, type, FunctionType)) or callable(value):
        return False
    return not hasattr(value, "remote")


def _pickled_by_value(target: Any) -> bool:
    """cloudpickle ships functions of ``__main__`` or defined in a function by value."""
    module = getattr(target, "__module__", "__main__")
    return module == "__main__" or "<locals>" in getattr(target, "__qualname__", "")


def _captured_sizes(target: Any) -> list[tuple[str, int]]:
    """Names the definition carries with it when pickled, biggest first."""
    if not _pickled_by_value(target):
        return []
    sizes: dict[str, int] = {}
    functions: list[Any] = []
    if isinstance(target, FunctionType):
        functions = [target]
    elif inspect.isclass(target):
        for value in vars(target).values():
            fn = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
            if isinstance(fn, FunctionType):
                functions.append(fn)
    for fn in functions:
        try:
            found = inspect.getclosurevars(fn)
        except (TypeError, ValueError):
            continue
        scopes: list[dict[str, Any]] = [dict(found.nonlocals)]
        if _pickled_by_value(fn):
            scopes.append(dict(found.globals))
        for scope in scopes:
            for name, value in scope.items():
                if _is_data(value) and name not in sizes:
                    sizes[name] = sizeof(value)
    return sorted(sizes.items(), key=lambda kv: -kv[1])


# -- patching -----------------------------------------------------------------

_ACTIVE: Recorder | None = None
_ORIGINALS: list[tuple[Any, str, Any]] = []


def active() -> Recorder | None:
    return _ACTIVE


def _in_loop() -> bool:
    return asyncio._get_running_loop() is not None


def _patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    original = getattr(owner, name)
    wrapper = make(original)
    wrapper.__wrapped__ = original
    _ORIGINALS.append((owner, name, original))
    setattr(owner, name, wrapper)


def install(recorder: Recorder) -> None:
    """Patch Ray for ``recorder``; one watch at a time per process."""
    global _ACTIVE
    if _ACTIVE is not None:
        raise RuntimeError(
            "a ray_patterns.doctor.watch() is already active in this process; "
            "nest no watches (one report covers the whole block)"
        )
    _ACTIVE = recorder
    _install_all(recorder)
    try:
        if ray.is_initialized():
            recorder.job_hex = ray.get_runtime_context().get_job_id()
            recorder.cpus = ray.cluster_resources().get("CPU", 0.0)
    except Exception as exc:
        recorder.fail("runtime context", exc)


def uninstall() -> None:
    global _ACTIVE
    while _ORIGINALS:
        owner, name, original = _ORIGINALS.pop()
        setattr(owner, name, original)
    _ACTIVE = None


def _make_get(original: Any) -> Any:
    def get(object_refs: Any, *args: Any, **kwargs: Any) -> Any:
        rec = _ACTIVE
        if rec is None:
            return original(object_refs, *args, **kwargs)
        path, line, via_library = user_site(2)
        loop = _in_loop()
        t0 = time.time()
        try:
            value = original(object_refs, *args, **kwargs)
        except BaseException:
            _record_get(rec, object_refs, None, (path, line), via_library, t0, loop, True)
            raise
        _record_get(rec, object_refs, value, (path, line), via_library, t0, loop, False)
        return value

    return get


def _record_get(
    rec: Recorder,
    refs: Any,
    value: Any,
    site: Site,
    via_library: bool,
    t0: float,
    loop: bool,
    failed: bool,
) -> None:
    t1 = time.time()
    try:
        rec.on_get(refs, value, site, via_library, t0, t1, loop, failed)
    except Exception as exc:
        rec.fail("ray.get", exc)


def _make_wait(original: Any) -> Any:
    def wait(object_refs: Any, *args: Any, **kwargs: Any) -> Any:
        rec = _ACTIVE
        if rec is None:
            return original(object_refs, *args, **kwargs)
        path, line, _ = user_site(2)
        loop = _in_loop()
        t0 = time.time()
        result = original(object_refs, *args, **kwargs)
        try:
            rec.on_wait(object_refs, result, (path, line), t0, time.time(), loop)
        except Exception as exc:
            rec.fail("ray.wait", exc)
        return result

    return wait


def _make_put(original: Any) -> Any:
    def put(value: Any, *args: Any, **kwargs: Any) -> Any:
        ref = original(value, *args, **kwargs)
        rec = _ACTIVE
        if rec is not None:
            try:
                rec.on_put(value)
            except Exception as exc:
                rec.fail("ray.put", exc)
        return ref

    return put


def _make_remote(original: Any) -> Any:
    def remote(*args: Any, **kwargs: Any) -> Any:
        path, line, _ = user_site(2)
        result = original(*args, **kwargs)
        if len(args) == 1 and not kwargs and (callable(args[0])):
            _record_define(args[0], result, (path, line))
            return result

        decorator = result

        def with_options(target: Any) -> Any:
            remote_obj = decorator(target)
            _record_define(target, remote_obj, (path, line))
            return remote_obj

        return with_options

    return remote


def _record_define(target: Any, remote_obj: Any, site: Site) -> None:
    rec = _ACTIVE
    if rec is None:
        return
    try:
        rec.on_define(target, remote_obj, site)
    except Exception as exc:
        rec.fail("ray.remote", exc)


def _make_init(original: Any) -> Any:
    def init(*args: Any, **kwargs: Any) -> Any:
        rec = _ACTIVE
        if rec is not None and not ray.is_initialized():
            kwargs = _with_worker_hook(rec, args, kwargs)
        result = original(*args, **kwargs)
        if rec is not None:
            try:
                rec.job_hex = ray.get_runtime_context().get_job_id()
                rec.cpus = ray.cluster_resources().get("CPU", 0.0)
            except Exception as exc:
                rec.fail("ray.init", exc)
        return result

    return init


def _with_worker_hook(
    rec: Recorder, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Add the doctor's worker hook to the program's runtime_env, never replacing its own.

    Only for a Ray this process starts: its workers run this Python environment, so
    they can import the hook. A worker that cannot import its setup hook fails to
    start, and an existing cluster's workers may not have ray_patterns installed.
    """
    address = args[0] if args else kwargs.get("address")
    if address not in (None, "local") or (address is None and os.environ.get("RAY_ADDRESS")):
        rec.worker_hook = "not installed: the program joins an existing cluster"
        return kwargs
    runtime_env = dict(kwargs.get("runtime_env") or {})
    if "worker_process_setup_hook" in runtime_env:
        rec.worker_hook = "not installed: the program sets its own worker_process_setup_hook"
        return kwargs
    env_vars = dict(runtime_env.get("env_vars") or {})
    env_vars[_worker.ENV_TOKEN] = rec.token
    runtime_env["env_vars"] = env_vars
    runtime_env["worker_process_setup_hook"] = _worker.HOOK
    rec.worker_hook = "installed"
    return {**kwargs, "runtime_env": runtime_env}


def _make_shutdown(original: Any) -> Any:
    def shutdown(*args: Any, **kwargs: Any) -> Any:
        rec = _ACTIVE
        if rec is not None and ray.is_initialized():
            collect_from_cluster(rec)
        return original(*args, **kwargs)

    return shutdown


def collect_from_cluster(rec: Recorder) -> None:
    """Read task events and worker counts now (before a shutdown, or at the end)."""
    from ray_patterns.doctor._events import wait_for_spans

    if not ray.is_initialized():
        return
    if rec.job_hex is None:  # Ray was started by a path we did not patch
        try:
            rec.job_hex = ray.get_runtime_context().get_job_id()
            rec.cpus = ray.cluster_resources().get("CPU", 0.0)
        except Exception as exc:
            rec.fail("runtime context", exc)
            return
    wanted = {s.task_id for s in rec.submissions if s.done is not None and s.task_id}
    try:
        spans = wait_for_spans(rec.job_hex, rec.started, wanted)
        if rec.spans is None:
            rec.spans = spans
        else:
            rec.spans.update(spans)
    except Exception as exc:
        rec.notes["task-events"] = f"unavailable ({type(exc).__name__}: {exc})"
    if rec.worker_hook == "installed":
        try:
            rec.async_gets.extend(_worker.collect(rec.token))
        except Exception as exc:
            rec.notes["worker-hook"] = f"counts unreadable ({type(exc).__name__}: {exc})"


def _make_definition_remote(what: str, kind: str) -> Callable[[Any], Any]:
    """The patch for ``RemoteFunction._remote`` (tasks) or ``ActorClass._remote`` (actors)."""

    def make(original: Any) -> Any:
        def _remote(self: Any, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
            rec = _ACTIVE
            if rec is None:
                return original(self, args=args, kwargs=kwargs, **options)
            path, line, via_library = user_site(2)
            t = time.time()
            definition = None
            try:
                definition = rec.definition_of(self, _target_of(self), (path, line))
                if definition.snapshot:
                    rec.check_globals(definition, (path, line))
            except Exception as exc:
                rec.fail(what, exc)
            out = original(self, args=args, kwargs=kwargs, **options)
            try:
                if definition is not None and not definition.exported:
                    rec.on_export(definition, self)
                rec.on_submit(out, (path, line), via_library, definition, kind, args, kwargs, t)
            except Exception as exc:
                rec.fail(what, exc)
            return out

        return _remote

    return make


_make_function_remote = _make_definition_remote("remote function", "task")
_make_actor_remote = _make_definition_remote("actor class", "actor_creation")


def _make_method_remote(original: Any) -> Any:
    def _remote(self: Any, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        rec = _ACTIVE
        if rec is None:
            return original(self, args=args, kwargs=kwargs, **options)
        path, line, via_library = user_site(2)
        t = time.time()
        out = original(self, args=args, kwargs=kwargs, **options)
        try:
            definition = rec.actor_definition(getattr(self, "_actor", None))
            if definition is not None and definition.snapshot:
                rec.check_globals(definition, (path, line))
            rec.on_submit(out, (path, line), via_library, definition, "actor_task", args, kwargs, t)
        except Exception as exc:
            rec.fail("actor method", exc)
        return out

    return _remote


_PATCHES: list[tuple[Any, str, Callable[[Any], Any], str]] = [
    (ray, "get", _make_get, "ray.get calls"),
    (ray, "wait", _make_wait, "ray.wait calls"),
    (ray, "put", _make_put, "ray.put calls"),
    (ray, "remote", _make_remote, "@ray.remote definitions"),
    (ray, "init", _make_init, "ray.init (worker hook)"),
    (ray, "shutdown", _make_shutdown, "ray.shutdown (events read before it)"),
    (ray.remote_function.RemoteFunction, "_remote", _make_function_remote, "task submissions"),
    (ray.actor.ActorClass, "_remote", _make_actor_remote, "actor creations"),
    (ray.actor.ActorMethod, "_remote", _make_method_remote, "actor method calls"),
]


def _install_all(recorder: Recorder) -> None:
    """Each patch on its own: one that cannot attach (a Ray that changed) is reported."""
    for owner, name, make, what in _PATCHES:
        try:
            _patch(owner, name, make)
        except Exception as exc:
            recorder.notes[f"patch {what}"] = f"{type(exc).__name__}: {exc}"
