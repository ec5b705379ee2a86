"""The instrumentation: patch Ray's entry points, record what happens.

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
import os
import time
from collections.abc import Callable
from typing import Any

import ray
import ray.actor
import ray.remote_function

from ray_patterns.doctor import _worker
from ray_patterns.doctor._introspect import _target_of
from ray_patterns.doctor._recorder import Recorder
from ray_patterns.doctor._records import Site
from ray_patterns.doctor._sites import user_site

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
