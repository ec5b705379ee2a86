"""The instrumentation: patch Ray's entry points, record what happens.

Patched while a ``watch()`` is active, restored on exit: ``ray.get``, ``ray.wait``,
``ray.put``, ``ray.remote``, ``ray.init`` (to add the worker hook),
``ray.shutdown`` (to read task events while the cluster still exists), the three
submission paths ``RemoteFunction._remote``, ``ActorClass._remote``,
``ActorMethod._remote``, and Ray's serializer's note of an ObjectRef pickled
outside its argument passing. In a worker (``_worker.setup``) the same patches
record into that worker's Recorder, without ``init``/``shutdown``, plus a fork
hook. Every wrapper calls the original unchanged and records around it inside
``try``: a failure of ours is counted and reported as "not observed", never
raised into the program.
"""

from __future__ import annotations

import asyncio
import copyreg
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import ray
import ray._private.serialization
import ray.actor
import ray.remote_function

from ray_patterns.doctor import _worker
from ray_patterns.doctor._introspect import _qualname, _target_of
from ray_patterns.doctor._recorder import Recorder
from ray_patterns.doctor._records import Site
from ray_patterns.doctor._sites import user_site

if TYPE_CHECKING:
    from ray_patterns.doctor._events import TaskSpan

#: Ray's reserved env var that carries a worker setup hook (ray_constants)
HOOK_ENV_VAR = "__RAY_WORKER_PROCESS_SETUP_HOOK_ENV_VAR"

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


def install(recorder: Recorder, *, worker: bool = False) -> None:
    """Patch Ray for ``recorder``; one watch at a time per process.

    When Ray is already running, the job's runtime_env is fixed: workers are
    observed through the definitions the watch exports (``_observe``).
    """
    global _ACTIVE
    if _ACTIVE is not None:
        raise RuntimeError(
            "a ray_patterns.doctor.watch() is already active in this process; "
            "nest no watches (one report covers the whole block)"
        )
    _ACTIVE = recorder
    _install_all(recorder, worker)
    copyreg.dispatch_table.setdefault(ray.ObjectRef, _reduce_ref)
    if worker:
        os.register_at_fork(before=_on_fork)
        return
    try:
        if ray.is_initialized():
            recorder.job_hex = ray.get_runtime_context().get_job_id()
            recorder.cpus = ray.cluster_resources().get("CPU", 0.0)
            _worker.watching(recorder.job_hex, True)
    except Exception as exc:
        recorder.fail("runtime context", exc)


def _on_fork() -> None:
    rec = _ACTIVE
    if rec is None:
        return
    try:
        rec.on_fork(_site(rec)[0])
    except Exception as exc:
        rec.fail("fork", exc)


def _task_name() -> str:
    try:
        return ray.get_runtime_context().get_task_name() or ""
    except Exception:  # outside a task (a worker's own thread)
        return ""


def _site(rec: Recorder, depth: int = 3) -> tuple[Site, bool]:
    """The user's call site above the wrapper, and whether a library sat in between.

    In a worker, the first time a site is seen, also the task or actor method it is in.
    """
    path, line, via_library = user_site(depth)
    site = (path, line)
    if rec.worker and site not in rec.scopes:
        rec.scopes[site] = _task_name()
    return site, via_library


def _reduce_ref(ref: Any) -> Any:
    """``copyreg`` reducer of ObjectRef: plain ``pickle`` and the ``cloudpickle`` package
    reach it (Ray's own pickler has its reducer first); the result is Ray's usual one."""
    rec = _ACTIVE
    if rec is not None:
        try:
            rec.on_out_of_band(_site(rec)[0])
        except Exception as exc:
            rec.fail("ObjectRef pickling", exc)
    return ray.ObjectRef.__reduce__(ref)


def uninstall() -> None:
    global _ACTIVE
    if copyreg.dispatch_table.get(ray.ObjectRef) is _reduce_ref:
        del copyreg.dispatch_table[ray.ObjectRef]
    while _ORIGINALS:
        owner, name, original = _ORIGINALS.pop()
        setattr(owner, name, original)
    _ACTIVE = None


def _make_fetch(kind: str) -> Callable[[Any], Any]:
    """The patch for ``ray.get`` or ``ray.wait``: time the call, record it after; a get
    that raised is recorded too (a failed fetch), a wait that raised is not."""

    def make(original: Any) -> Any:
        def fetch(object_refs: Any, *args: Any, **kwargs: Any) -> Any:
            rec = _ACTIVE
            if rec is None:
                return original(object_refs, *args, **kwargs)
            site, via_library = _site(rec)
            loop = _in_loop()
            t0 = time.time()
            try:
                result = original(object_refs, *args, **kwargs)
            except BaseException as exc:
                if kind == "get":
                    _record_fetch(rec, kind, object_refs, None, site, via_library, t0, loop, True)
                    if not isinstance(exc, ray.exceptions.GetTimeoutError):
                        rec.on_failed_fetch(object_refs)
                raise
            _record_fetch(rec, kind, object_refs, result, site, via_library, t0, loop, False)
            return result

        fetch.__name__ = fetch.__qualname__ = kind
        return fetch

    return make


def _record_fetch(
    rec: Recorder,
    kind: str,
    refs: Any,
    result: Any,
    site: Site,
    via_library: bool,
    t0: float,
    loop: bool,
    failed: bool,
) -> None:
    t1 = time.time()
    try:
        if kind == "get":
            rec.on_get(refs, result, site, via_library, t0, t1, loop, failed)
        else:
            rec.on_wait(refs, result, site, t0, t1, loop)
    except Exception as exc:
        rec.fail(f"ray.{kind}", exc)


def _make_put(original: Any) -> Any:
    def put(value: Any, *args: Any, **kwargs: Any) -> Any:
        ref = original(value, *args, **kwargs)
        rec = _ACTIVE
        if rec is not None:
            try:
                rec.on_put(value, ref, _site(rec)[0])
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
        rec.definitions[-1].in_watch = True
    except Exception as exc:
        rec.fail("ray.remote", exc)


def _make_init(original: Any) -> Any:
    def init(*args: Any, **kwargs: Any) -> Any:
        rec = _ACTIVE
        if rec is None or ray.is_initialized():
            return original(*args, **kwargs)
        hooked = _with_worker_hook(rec, kwargs)
        try:
            with _fast_task_events(args, kwargs):
                result = original(*args, **hooked)
        except RuntimeError as exc:
            if "worker_process_setup_hook" not in str(exc) or hooked is kwargs:
                raise
            # a hook set by the job's supervisor: run the program as it asked; the
            # definitions it exports are still observed (wrapped)
            rec.worker_hook, rec.wrap = "installed", True
            rec.notes["runtime_env hook"] = str(exc)
            if ray.is_initialized():
                ray.shutdown()
            result = original(*args, **kwargs)
        if rec is not None:
            try:
                rec.job_hex = ray.get_runtime_context().get_job_id()
                rec.cpus = ray.cluster_resources().get("CPU", 0.0)
                if rec.wrap:
                    _worker.watching(rec.job_hex, True)
            except Exception as exc:
                rec.fail("ray.init", exc)
        return result

    return init


#: Ray's task-event flush interval (ms) for a local Ray the doctor's program starts
TASK_EVENTS_ENV = "RAY_task_events_report_interval_ms"
FAST_TASK_EVENTS_MS = "100"


@contextmanager
def _fast_task_events(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[None]:
    """When ``ray.init`` starts a local Ray, its processes flush task events every
    100 ms instead of 1 s: the report is ready that much sooner after the program
    (workers send the same events, in smaller batches). A cluster joined, or an
    interval the user set, is left alone; the driver's environment is restored."""
    address = args[0] if args else kwargs.get("address")
    if address or os.environ.get("RAY_ADDRESS") or TASK_EVENTS_ENV in os.environ:
        yield
        return
    os.environ[TASK_EVENTS_ENV] = FAST_TASK_EVENTS_MS
    try:
        yield
    finally:
        os.environ.pop(TASK_EVENTS_ENV, None)


def _with_worker_hook(rec: Recorder, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The program's ``ray.init`` kwargs with the doctor's worker hook in its runtime_env.

    Merged, never replacing: the program's own ``worker_process_setup_hook`` runs
    after ours. For a local Ray and for a cluster alike (``RAY_ADDRESS``,
    ``address=``): the hook is pickled by value and imports ``ray_patterns`` inside
    ``try``, so a worker without it runs on, unobserved, and the report says so.
    """
    runtime_env = dict(kwargs.get("runtime_env") or {})
    env_vars = dict(runtime_env.get("env_vars") or {})
    if HOOK_ENV_VAR in env_vars:  # observed through the definitions instead
        rec.notes["runtime_env hook"] = f"the program sets {HOOK_ENV_VAR} itself"
        return kwargs
    own = runtime_env.get("worker_process_setup_hook")
    runtime_env["worker_process_setup_hook"] = _worker.make_hook(own)
    rec.worker_hook = "installed"
    # definitions are still wrapped (``_observe``): every worker of the job runs the hook,
    # but the wrapper times each call, so the report needs no wait for Ray's task events
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
    # the driver's part only: a worker (``_worker.setup``) never imports ``_events``
    from ray_patterns.doctor import _events
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
    # the workers' records first (once the last flushes are in): the tasks they timed
    # themselves need no Ray task events, which workers flush only about once a second
    # on a Ray the doctor did not start; the rest (actor calls, generators, functions
    # exported before the watch) are awaited from Ray's events
    try:
        dead = _collect_workers(rec)
        timed = _worker_spans(rec)
        ids = _submitted(rec) | {t for w in rec.worker_records for t in _submitted(w)}
        wanted = _finished(rec) | {t for w in rec.worker_records for t in _finished(w)}
        wanted |= rec.failed_fetch  # their failure (a memory kill: which, how much)
        ids -= timed.keys()
        spans: dict[bytes, TaskSpan] = {}
        if ids:
            spans = wait_for_spans(
                rec.job_hex, rec.started, wanted & ids, ids=ids, dead_workers=dead
            )
        for task_id, span in timed.items():  # Ray's own, where it already has them
            if not _events.complete(spans.get(task_id)):
                spans[task_id] = span
        if rec.spans is None:
            rec.spans = spans
        else:
            rec.spans.update(spans)
    except Exception as exc:
        rec.notes["task-events"] = f"unavailable ({type(exc).__name__}: {exc})"
        if not rec.worker_records:
            _collect_workers(rec)
    try:  # the watch (or the job) is over: wrapped workers stop shipping and forget
        _worker.watching(rec.job_hex, False)
    except Exception as exc:
        rec.fail("worker records", exc)


def _finished(rec: Recorder) -> set[bytes]:
    return {s.task_id for s in rec.submissions if s.done is not None and s.task_id}


def _submitted(rec: Recorder) -> set[bytes]:
    return {s.task_id for s in rec.submissions if s.task_id}


def _worker_spans(rec: Recorder) -> dict[bytes, TaskSpan]:
    """Task spans from the workers' own timing of observed task functions (the last
    attempt of each task; its result was ready when its call returned)."""
    from ray_patterns.doctor._events import TaskSpan

    out: dict[bytes, TaskSpan] = {}
    for w in rec.worker_records:
        for task_id, name, t0, t1 in w.calls:
            kept = out.get(task_id)
            if kept is None or t0 > (kept.start or 0.0):
                out[task_id] = TaskSpan(
                    task_id, name, w.worker_id, w.node_id, w.pid, t0, t1, t1, kind="NORMAL_TASK"
                )
    return out


def _collect_workers(rec: Recorder) -> set[str]:
    """The workers' records, once the last flushes landed (``_await_records``); the
    workers found dead meanwhile (hex ids)."""
    if rec.worker_hook != "installed":
        return set()
    dead: set[str] = set()
    try:
        reader = _worker.KvRecords(rec.job_hex or "")
        reader.read()
        if rec.submissions:  # no task ran during the watch: nothing to wait for
            dead = _await_records(rec, reader)
        shipped, missing = reader.take()
    except Exception as exc:
        rec.notes["worker-hook"] = f"records unreadable ({type(exc).__name__}: {exc})"
        return dead
    by_pid = {w.pid: w for w in rec.worker_records}
    for data in shipped:  # a later read (after a shutdown) replaces an earlier one
        by_pid[data.get("pid", 0)] = Recorder.from_shipped(data, rec.thresholds, rec.started)
    rec.worker_records = list(by_pid.values())
    rec.workers_missing.extend(missing)
    return dead


def _await_records(rec: Recorder, reader: _worker.KvRecords) -> set[str]:
    """Read until every task the watch saw finish (the driver's and the workers'
    submissions fetched, of wrapped task functions) has its call record: a worker
    ships its last records about 0.1 s after them (later on a loaded machine), and a
    task's call record comes with everything the task recorded (``_worker._flush``).

    No wait when all are in. Tasks whose worker died (or could not record) are not
    waited for; the workers found dead are returned. At ``_worker.COMPLETE_S`` the
    tasks still missing are named in ``rec.records_lost``, with why.
    """
    began = time.monotonic()
    pause, looked = 0.005, began
    own = _timed_finished(rec.submissions, rec.definitions, 0.0, set())
    gone: dict[bytes, str] = {}  # task id -> why its records will not come ("": said)
    names: dict[bytes, str] = {}
    dead: set[str] = set()
    while True:
        lacking = _lacking(rec, reader, own, names).keys() - gone.keys()
        now = time.monotonic()
        if not lacking:
            break
        if now - began >= _worker.COMPLETE_S:
            for task_id in lacking:
                gone[task_id] = f"not shipped within {_worker.COMPLETE_S:g} s"
            break
        if now - looked >= 0.25:  # not in yet: did their workers die?
            looked = now
            dead |= _gone(set(lacking), reader, gone)
        time.sleep(pause)
        pause = min(0.05, pause * 1.5)
        reader.read()
    for task_id, why in gone.items():
        if why:
            rec.records_lost.append(f"{names[task_id]} (task {task_id.hex()[:12]}): {why}")
    # actor calls and tasks of functions the doctor could not time leave no call
    # record: for their last records, the settle a worker's quiet flush needs
    settle = (rec.stopped or time.time()) + _worker.SETTLE_S - time.time()
    if settle > 0 and _untimed_finished(rec, reader):
        time.sleep(settle)
        reader.read()
    return dead


def _untimed_finished(rec: Recorder, reader: _worker.KvRecords) -> bool:
    """Whether the watch saw a call finish that leaves no call record in its worker."""

    def untimed(subs: Iterable[Any], definitions: list[Any], late: set[int]) -> bool:
        return any(
            s.kind != "actor_creation" and _timed_name(s, definitions) is None
            for s in _fetched(subs, 0.0, late)
        )

    if untimed(rec.submissions, rec.definitions, set()):
        return True
    shipped, _ = reader.merged()
    return any(untimed(*worker) for worker in _shipped_submissions(shipped))


def _gone(lacking: set[bytes], reader: _worker.KvRecords, gone: dict[bytes, str]) -> set[str]:
    """Of the ``lacking`` tasks, those whose worker Ray says is dead, or that ran in a
    worker that could not record, go into ``gone`` (with why; "" for the latter, which
    the report names already); the dead workers."""
    from ray_patterns.doctor import _events

    where = _events.workers_of(lacking)
    unrecorded = reader.missing_workers()
    dead = _events.dead_workers({w for w, _ in where.values()} - unrecorded)
    for task_id, (worker, _) in where.items():
        if worker in unrecorded:
            gone[task_id] = ""
        elif worker in dead:
            gone[task_id] = f"its worker {worker[:8]} died before shipping them"
    return dead


def _lacking(
    rec: Recorder, reader: _worker.KvRecords, own: dict[bytes, str], names: dict[bytes, str]
) -> dict[bytes, str]:
    """Task id -> function name of each task the watch saw finish (``own``: the
    driver's; the workers' from what they shipped) whose call record is not in yet;
    ``names`` collects every name seen."""
    shipped, _ = reader.merged()
    have = {c[0] for w in rec.worker_records for c in w.calls}
    for data in shipped:
        have.update(c[0] for c in data.get("calls", ()))
    want = dict(own)
    for subs, definitions, late in _shipped_submissions(shipped):
        want.update(_timed_finished(subs, definitions, rec.started, late))
    names.update(want)
    return {t: name for t, name in want.items() if t not in have}


def _shipped_submissions(
    shipped: list[dict[str, Any]],
) -> Iterator[tuple[Iterable[Any], list[Any], set[int]]]:
    """Each worker's shipped submissions, definitions and ``late`` (the indexes of
    the submissions it fetched after their chunk had shipped)."""
    for data in shipped:
        late = {index for index, _ in data.get("done_log", ())}
        yield data.get("submissions", ()), data.get("definitions", []), late


def _fetched(subs: Iterable[Any], since: float, late: set[int]) -> Iterator[Any]:
    """The submissions made at ``since`` or later that were fetched (``done``, or
    their index in ``late``)."""
    return (s for s in subs if (s.done is not None or s.index in late) and s.t >= since)


def _timed_name(s: Any, definitions: list[Any]) -> str | None:
    """The function name of a task of a wrapped task function whose calls leave call
    records (``Definition.timed``); None for any other submission."""
    if s.kind == "task" and 0 <= s.definition < len(definitions):
        definition = definitions[s.definition]
        if definition.timed:
            return str(definition.name)
    return None


def _timed_finished(
    subs: Iterable[Any], definitions: list[Any], since: float, late: set[int]
) -> dict[bytes, str]:
    """Task id -> function name of the fetched submissions (``_fetched``) of wrapped
    task functions whose calls leave call records."""
    return {
        s.task_id: name
        for s in _fetched(subs, since, late)
        if (name := _timed_name(s, definitions)) is not None
    }


def _make_definition_remote(what: str, kind: str) -> Callable[[Any], Any]:
    """The patch for ``RemoteFunction._remote`` (tasks) or ``ActorClass._remote`` (actors)."""

    def make(original: Any) -> Any:
        def _remote(self: Any, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
            rec = _ACTIVE
            if rec is None:
                return original(self, args=args, kwargs=kwargs, **options)
            site, via_library = _site(rec)
            definition = None
            try:
                # once per definition and watch (the token): the hot path of a task loop
                first = rec.wrap and self.__dict__.get(_OBSERVED) != rec.token
                if first:
                    _observe(rec, self, kind)
                    if kind == "task":
                        self.__dict__[_OBSERVED] = rec.token
                definition = rec.known_definition(self) or rec.definition_of(
                    self, _target_of(self), site
                )
                if first and kind == "task":
                    definition.timed = bool(getattr(self._function, _worker.TIMED, False))
                if definition.snapshot:
                    rec.check_globals(definition, site)
            except Exception as exc:
                rec.fail(what, exc)
            out = original(self, args=args, kwargs=kwargs, **options)
            # when the call returned: a first call's export (and this patch's own work)
            # is not the caller's work between submitting and fetching (ray-get-loop)
            t = time.time()
            try:
                if definition is not None and not definition.exported:
                    rec.on_export(definition, self)
                rec.on_submit(out, site, via_library, definition, kind, args, kwargs, t)
            except Exception as exc:
                rec.fail(what, exc)
            return out

        return _remote

    return make


#: set on a RemoteFunction once ``_observe`` has seen it in a watch (its token)
_OBSERVED = "_ray_patterns_doctor_observed"


def _observe(rec: Recorder, remote_obj: Any, kind: str) -> None:
    """Before the first export in this job, wrap the definition so that its first call
    in a worker starts recording there (see ``_worker``); an export made before the
    watch began cannot be changed any more: noted for the report."""
    if rec.job_hex is None and not rec.worker:  # Ray started by auto-init, unpatched
        rec.job_hex = ray.get_runtime_context().get_job_id()
        rec.cpus = ray.cluster_resources().get("CPU", 0.0)
        _worker.watching(rec.job_hex, True)
    current = ray._private.worker.global_worker.current_cluster_and_job
    if kind == "task":
        if remote_obj._last_export_cluster_and_job != current:
            remote_obj._function = _worker.observed_function(remote_obj._function)
            return
        wrapped = getattr(remote_obj._function, _worker.MARK, False)
    else:
        meta = remote_obj.__ray_metadata__
        if meta.last_export_cluster_and_job != current:
            _worker.observe_actor_class(meta.modified_class)
            return
        wrapped = bool(meta.modified_class.__dict__.get(_worker.MARK))
    if not wrapped:
        rec.unobserved_definitions.add(_qualname(_target_of(remote_obj)))


_make_function_remote = _make_definition_remote("remote function", "task")
_make_actor_remote = _make_definition_remote("actor class", "actor_creation")


def _make_method_remote(original: Any) -> Any:
    def _remote(self: Any, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        rec = _ACTIVE
        if rec is None:
            return original(self, args=args, kwargs=kwargs, **options)
        site, via_library = _site(rec)
        out = original(self, args=args, kwargs=kwargs, **options)
        t = time.time()  # when the call returned, as for tasks
        try:
            definition = rec.actor_definition(getattr(self, "_actor", None))
            if definition is not None and definition.snapshot:
                rec.check_globals(definition, site)
            method = getattr(self, "_method_name", "")
            rec.on_submit(out, site, via_library, definition, "actor_task", args, kwargs, t, method)
        except Exception as exc:
            rec.fail("actor method", exc)
        return out

    return _remote


def _make_contained_ref(original: Any) -> Any:
    """Ray's serializer notes every ObjectRef it pickles; outside its own argument
    passing (``pickle``/``cloudpickle`` called by the program) that is out of band."""

    def add_contained_object_ref(self: Any, object_ref: Any, **kwargs: Any) -> Any:
        rec = _ACTIVE
        if rec is not None:
            try:
                if not self.is_in_band_serialization():
                    rec.on_out_of_band(_site(rec)[0])
            except Exception as exc:
                rec.fail("ObjectRef serialization", exc)
        return original(self, object_ref, **kwargs)

    return add_contained_object_ref


_SERIALIZER = ray._private.serialization.SerializationContext

_PATCHES: list[tuple[Any, str, Callable[[Any], Any], str]] = [
    (ray, "get", _make_fetch("get"), "ray.get calls"),
    (ray, "wait", _make_fetch("wait"), "ray.wait calls"),
    (ray, "put", _make_put, "ray.put calls"),
    (ray, "remote", _make_remote, "@ray.remote definitions"),
    (ray, "init", _make_init, "ray.init (worker hook)"),
    (ray, "shutdown", _make_shutdown, "ray.shutdown (events read before it)"),
    (ray.remote_function.RemoteFunction, "_remote", _make_function_remote, "task submissions"),
    (ray.actor.ActorClass, "_remote", _make_actor_remote, "actor creations"),
    (ray.actor.ActorMethod, "_remote", _make_method_remote, "actor method calls"),
    (_SERIALIZER, "add_contained_object_ref", _make_contained_ref, "ObjectRef serialization"),
]
#: what a worker leaves alone: it never starts or stops Ray
_DRIVER_ONLY = ("init", "shutdown")


def _install_all(recorder: Recorder, worker: bool = False) -> None:
    """Each patch on its own: one that cannot attach (a Ray that changed) is reported."""
    for owner, name, make, what in _PATCHES:
        if worker and name in _DRIVER_ONLY:
            continue
        try:
            _patch(owner, name, make)
        except Exception as exc:
            recorder.notes[f"patch {what}"] = f"{type(exc).__name__}: {exc}"
