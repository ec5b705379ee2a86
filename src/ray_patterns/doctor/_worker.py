"""Worker side: the same Recorder as the driver's, in every worker of the watched job.

Two ways in, both ending in ``setup()`` (once per worker process):

- **The job's runtime environment**, when the watched program calls ``ray.init``
  (a local Ray it starts, or a cluster it joins: ``RAY_ADDRESS``,
  ``ray.init(address=...)``): a ``worker_process_setup_hook`` merged with the
  program's own (a hook the program already has runs after ours).
- **The definitions themselves**, when Ray was already running before the watch
  (``watch()`` in a notebook, a test session, the pytest plugin: the job's
  runtime_env is fixed then). Before the driver first exports a remote function
  or actor class in this job, the doctor wraps the function (``observed_function``)
  or the actor's ``__init__`` on Ray's own subclass of the user's class
  (``observe_actor_class``; the user's class is untouched): the first call in a
  worker starts recording there, later calls test one flag. Name, module,
  qualname and signature stay the user's, so Ray's task names, the report and
  the lint still point at the user's code. A definition exported before the
  watch began keeps its unwrapped copy in the workers: the report says so.

Both are closures pickled by value that import ``ray_patterns`` inside ``try``: on
a worker where it is not installed, the worker runs on unobserved and leaves a
note for the report, never failing a task.

What it costs a worker: the same patches as the driver (a record appended per
call), and a daemon thread that pickles what is new into Ray's internal KV store:
the append-only lists in chunks (a key per flush holding only their new items), the
rest in one key overwritten (at most ``MAX_RECORDS`` of each kind). It looks every
``FLUSH_S`` (a comparison of two counters) and ships once the worker went quiet
(nothing recorded since its last look), or every ``BUSY_FLUSH_S`` while it keeps
recording: a worker running tiny tasks back to back flushed 160 times in 10 s
before, each a GCS round trip, where it now flushes about 10 times. The driver of
each watch reads the keys at its end until every task it saw finish has its call
record there (a call record ships with or after everything its task recorded), or
its worker is dead, at most ``COMPLETE_S``, names the tasks whose records never
came, deletes the keys, and keeps what happened since its start (a worker can serve
several watches of one job).
"""

from __future__ import annotations

import atexit
import functools
import inspect
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

KV_NAMESPACE = "ray_patterns_doctor"
#: how often a worker's flush thread looks whether it recorded something new
FLUSH_S = 0.05
#: while a worker keeps recording, it ships at most this often (a flush is a GCS
#: round trip; one every 50 ms cost a worker of tiny tasks more than its records)
BUSY_FLUSH_S = 1.0
#: a worker ships at most this many records of each kind (and says it cut some)
MAX_RECORDS = 100_000
#: calls that leave no call record (actor calls, generators, async tasks, functions
#: exported before the watch): the driver reads their workers' records this long
#: after the watch ended, at least (a last record seen in one look, found quiet in
#: the next, then shipped)
SETTLE_S = 3 * FLUSH_S
#: at the end of a watch the driver waits at most this long for the call records
#: of the tasks it saw finish (a worker ships once it went quiet: about 0.1 s after
#: its last record, later on a loaded machine); those still missing are named
COMPLETE_S = 3.0
#: test hook: a worker's flush thread waits this many more seconds before each
#: flush (a loaded machine's late flush, made on purpose; read once per worker)
FLUSH_DELAY_ENV = "RAY_PATTERNS_DOCTOR_TEST_FLUSH_DELAY_S"
#: how long a worker trusts that a watch is on before asking the driver's key again
WATCHING_TRUST_S = 0.5
#: set on what the doctor wrapped (a wrapped function, Ray's actor subclass)
MARK = "__ray_patterns_doctor__"
#: set on a wrapped function whose every call in a worker leaves a call record
#: (``Recorder.calls``; not generators or coroutines): the driver waits for those
TIMED = "__ray_patterns_doctor_timed__"
#: the driver's key (after ``key_prefix``) while a watch is on
WATCHING = "watching"
#: the workers' keys (after ``key_prefix``): records, call chunks, import failures
RECORDS = "r:"
#: a worker's Recorder, on ``sys`` (outside ``ray_patterns``, so the wrappers pickled
#: by value find it with one read and never hold it themselves)
RECORDER_SLOT = "_ray_patterns_doctor_recorder"

_state: dict[str, Any] = {}


def key_prefix(job_hex: str) -> str:
    """The KV keys of one job's workers start with this."""
    return f"rpd-{job_hex}:"


def _make_starter(whole_job: bool = False) -> Callable[[], Any]:
    """``setup()`` as a closure that refers to no module global (pickled by value, so a
    worker unpickles it without importing ``ray_patterns``); it returns the worker's
    Recorder (None on the driver). A worker where the import fails leaves a note for
    the report instead."""

    def ray_patterns_doctor_start() -> Any:
        import os as _os

        try:
            from ray_patterns.doctor import _worker as worker_side

            worker_side.setup(whole_job)
            return worker_side._state.get("rec")
        except Exception as exc:  # not installed here: carry on unobserved, say why
            try:
                import ray as _ray
                from ray.experimental import internal_kv

                job = _ray.get_runtime_context().get_job_id()
                worker_hex = _ray.get_runtime_context().get_worker_id()
                internal_kv._internal_kv_put(
                    f"rpd-{job}:r:missing:{_os.getpid()}:{worker_hex}",
                    f"{type(exc).__name__}: {exc}",
                    overwrite=True,
                    namespace="ray_patterns_doctor",
                )
            except Exception:
                pass
            return None

    return ray_patterns_doctor_start


def make_hook(chained: Any = None) -> Callable[[], None]:
    """The setup hook for the job's workers: a closure pickled by value.

    ``chained`` is the program's own hook (a callable, a module path, or Ray's key
    of an exported one), run after ours. The doctor watches the whole job then.
    """
    start = _make_starter(whole_job=True)

    def ray_patterns_doctor_hook() -> None:
        start()
        if chained is None:
            return
        if callable(chained):
            chained()
            return
        from ray._private.runtime_env.setup_hook import load_and_execute_setup_hook

        error = load_and_execute_setup_hook(chained)
        if error is not None:
            raise RuntimeError(error)

    return ray_patterns_doctor_hook


def observed_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` whose first call in a worker starts recording there (a task's function),
    and whose every call there records when it ran (``Recorder.on_call``): the report
    times these tasks from the worker's own records, without waiting for Ray's task
    events (flushed about once a second on a cluster the doctor did not start).

    A plain wrapper serves generator functions too: it returns their generator
    (Ray decided at definition that the task streams, from ``fn`` itself); their
    run times (and async ones') come from Ray's task events.

    >>> observed_function(len)([1, 2]), observed_function(len).__name__
    (2, 'len')
    """
    if getattr(fn, MARK, False):
        return fn
    start = _make_starter()
    timed = not (
        inspect.isgeneratorfunction(fn)
        or inspect.iscoroutinefunction(fn)
        or inspect.isasyncgenfunction(fn)
    )
    name = getattr(fn, "__qualname__", "") or getattr(fn, "__name__", "task")
    # [tried, recording]: a closure cell, as the wrapper is pickled by value. Only
    # flags: a task that submits itself pickles this wrapper again in its worker, and
    # a Recorder (it holds a lock) cannot be pickled; later calls read it from the
    # process's slot on ``sys`` (set once by ``setup``): one attribute read
    state = [False, False]

    @functools.wraps(fn)
    def observed(*args: Any, **kwargs: Any) -> Any:
        if not state[0]:
            state[0] = True
            state[1] = timed and start() is not None
        if not state[1]:
            return fn(*args, **kwargs)
        t0 = time.time()
        try:
            return fn(*args, **kwargs)
        finally:
            getattr(sys, RECORDER_SLOT).on_call(name, t0, time.time())

    setattr(observed, MARK, True)
    setattr(observed, TIMED, timed)
    return observed


def observe_actor_class(modified: type) -> None:
    """Start recording in the actor's worker when it is constructed: ``__init__`` of
    Ray's subclass of the user's class (``modified_class``) is wrapped, in place."""
    if modified.__dict__.get(MARK):
        return
    original = modified.__init__  # type: ignore[misc]  # the class's, not an instance's
    start = _make_starter()
    started = [False]

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if not started[0]:
            started[0] = True
            start()
        original(self, *args, **kwargs)

    modified.__init__ = __init__  # type: ignore[misc]
    setattr(modified, MARK, True)


def setup(whole_job: bool = False) -> None:
    """Start recording in this worker (once per process) and shipping to the driver.

    ``whole_job``: the doctor watches the job from its start to its end (the runtime_env
    hook); otherwise a watch may end while the job goes on, and the worker ships only
    while the driver's ``watching`` key says a watch is on (and forgets its records
    when none is: nothing piles up between watches).
    """
    if "rec" in _state:
        return
    import ray

    worker = ray._private.worker.global_worker
    if worker.mode != ray.WORKER_MODE:  # a wrapped function called on the driver
        return
    from ray_patterns.doctor import _patches
    from ray_patterns.doctor._recorder import Recorder
    from ray_patterns.doctor.thresholds import Thresholds

    rec = Recorder(Thresholds().resolved(), worker=True)
    context = ray.get_runtime_context()
    rec.token = key_prefix(context.get_job_id())
    rec.worker_id, rec.node_id = context.get_worker_id(), context.get_node_id()
    _patches.install(rec, worker=True)
    delay = float(os.environ.get(FLUSH_DELAY_ENV) or 0.0)
    _state.update(rec=rec, shipped=-1, whole_job=whole_job, delay=delay)
    setattr(sys, RECORDER_SLOT, rec)
    thread = threading.Thread(target=_flush_loop, name="ray-patterns-doctor", daemon=True)
    thread.start()
    atexit.register(flush)


def flush() -> float:
    """Ship what this worker recorded since its last flush; the seconds it took.

    Append-only chunks (``Recorder._CHUNKED``: submissions, gets, waits, task calls,
    and the logs of submissions marked finished or passed later), each a new key
    holding only the items since the previous flush, plus one overwritten key for the
    rest (small: counts, definitions, per-site tables) when it changed. So a flush
    costs what happened since the previous one, however long the watch has run.
    """
    rec = _state.get("rec")
    if rec is None:
        return 0.0
    with _FLUSHING:  # the flush thread and the exit's last flush: one at a time
        return _flush(rec)


_FLUSHING = threading.Lock()


def _flush(rec: Any) -> float:
    #: list name -> how many of its items shipped (in "epoch"); "rec": the epoch the
    #: rest shipped in
    sent: dict[str, int] = _state.setdefault("sent", {})
    epoch = rec.epoch
    if sent.get("epoch", 0) != epoch:  # forgotten since: the lists start again
        sent.clear()
        sent["epoch"] = epoch
    fresh = [n for n in rec._CHUNKED if len(getattr(rec, n)) > sent.get(n, 0)]
    if rec.changes == _state.get("shipped") and not fresh:
        return 0.0
    from ray.experimental import internal_kv

    began = time.perf_counter()
    changes = rec.changes
    if not _state.get("whole_job") and not _watching(rec.token, began):
        rec.forget()  # no watch: nobody will read these; the chunks start again
        _state["shipped"] = rec.changes
        return time.perf_counter() - began
    pid = os.getpid()
    # the call records are cut first and shipped last: a task's call record is added
    # when it returned, after everything it recorded, so the driver that sees a task's
    # call record in the KV has all of that task's records (``collect``'s wait)
    calls_end, calls = rec.chunk("calls", sent.get("calls", 0), MAX_RECORDS)
    for name in fresh:
        if name != "calls":
            end, items = rec.chunk(name, sent.get(name, 0), MAX_RECORDS)
            _ship_chunk(rec, name, end, items, epoch, sent, pid)
    # the rest after the chunks its per-site tables point into, before the calls
    if changes != _state.get("shipped") or sent.get("rec") != epoch:  # once per epoch too
        payload = pickle.dumps(rec.shippable(MAX_RECORDS), protocol=5)
        key = f"{rec.token}{RECORDS}rec:{pid}"
        internal_kv._internal_kv_put(key, payload, overwrite=True, namespace=KV_NAMESPACE)
        _state["shipped"] = changes
        sent["rec"] = epoch
    if "calls" in fresh:
        _ship_chunk(rec, "calls", calls_end, calls, epoch, sent, pid)
    return time.perf_counter() - began


def _ship_chunk(
    rec: Any, name: str, end: int, items: list[Any], epoch: int, sent: dict[str, int], pid: int
) -> None:
    """Ship the items of list ``name`` from ``sent[name]`` to ``end`` as one chunk."""
    if not items:
        return
    from ray.experimental import internal_kv

    key = f"{rec.token}{RECORDS}chunk:{pid}:{epoch}:{name}:{sent.get(name, 0):09d}"
    internal_kv._internal_kv_put(
        key, pickle.dumps(items, protocol=5), overwrite=True, namespace=KV_NAMESPACE
    )
    sent[name] = end


def _watching(token: str, now: float) -> bool:
    """Whether the driver's ``watching`` key is set. A yes is trusted for
    ``WATCHING_TRUST_S`` (one GCS call per flush cost the cluster more than the
    flush): records shipped after the watch ended are left in the KV, and the next
    watch keeps only what is newer than its start. A no is always asked again
    (forgetting records is what must not happen during a watch)."""
    from ray.experimental import internal_kv

    if now < _state.get("trust_until", 0.0):
        return True
    on = bool(internal_kv._internal_kv_exists(token + WATCHING, namespace=KV_NAMESPACE))
    _state["trust_until"] = now + WATCHING_TRUST_S if on else 0.0
    return on


def _flush_loop() -> None:
    seen: tuple[int, int] | None = None
    shipped_at = 0.0
    while True:
        time.sleep(FLUSH_S)
        rec = _state.get("rec")
        if rec is None:
            continue
        # new records since the last look: still busy, ship at most every BUSY_FLUSH_S
        mark = (rec.changes, len(rec.calls))
        busy, seen = mark != seen, mark
        now = time.monotonic()
        if busy and now - shipped_at < BUSY_FLUSH_S:
            continue
        if _state.get("delay"):  # the test hook: a late flush
            time.sleep(_state["delay"])
        try:
            if flush():
                shipped_at = now
        except Exception:  # the cluster going away: nothing left to tell
            pass


def watching(job_hex: str, on: bool) -> None:
    """On the driver: say that a watch is on (or over) to the job's wrapped workers."""
    from ray.experimental import internal_kv

    key = key_prefix(job_hex) + WATCHING
    if on:
        internal_kv._internal_kv_put(key, str(time.time()), overwrite=True, namespace=KV_NAMESPACE)
    else:
        internal_kv._internal_kv_del(key, namespace=KV_NAMESPACE)


class KvRecords:
    """On the driver: the workers' KV records of one job, read as they come in.

    ``read()`` lists the keys and fetches the new ones (a chunk never changes once
    written; the overwritten ``rec`` keys are fetched again), so polling until the
    last flushes land costs one list and a small multi-get per look; ``take()``
    gives the merged records and deletes the keys.
    """

    def __init__(self, job_hex: str) -> None:
        self.prefix = (key_prefix(job_hex) + RECORDS).encode()
        self.values: dict[bytes, bytes] = {}
        self._parsed: dict[bytes, tuple[bytes, Any]] = {}

    def read(self) -> None:
        from ray.experimental import internal_kv

        keys = internal_kv._internal_kv_list(self.prefix, namespace=KV_NAMESPACE)
        rest = self.prefix + b"rec:"
        wanted = [k for k in keys if k not in self.values or k.startswith(rest)]
        if not wanted:
            return
        try:
            client: Any = internal_kv.global_gcs_client
            values = client.internal_kv_multi_get(wanted, namespace=KV_NAMESPACE.encode())
        except AttributeError:  # another Ray: one read per key
            values = {k: internal_kv._internal_kv_get(k, namespace=KV_NAMESPACE) for k in wanted}
        self.values.update(values)

    def missing_workers(self) -> set[str]:
        """Worker ids (hex) of the workers that could not record (no ``ray_patterns``)."""
        marker = self.prefix + b"missing:"
        return {k.decode().rsplit(":", 1)[-1] for k in self.values if k.startswith(marker)}

    def merged(self) -> tuple[list[dict[str, Any]], list[str]]:
        """``merge`` of what was read so far; values unpickled once each."""
        parsed = {}
        for key, raw in self.values.items():
            cached = self._parsed.get(key)
            if cached is None or cached[0] is not raw:
                cached = self._parsed[key] = (raw, _parse(raw, key[len(self.prefix) :]))
            parsed[key[len(self.prefix) :]] = cached[1]
        return _assemble(parsed)

    def take(self) -> tuple[list[dict[str, Any]], list[str]]:
        """The merged records; the keys are deleted."""
        from ray.experimental import internal_kv

        out = self.merged()
        if self.values:
            internal_kv._internal_kv_del(self.prefix, del_by_prefix=True, namespace=KV_NAMESPACE)
        return out


def collect(job_hex: str) -> tuple[list[dict[str, Any]], list[str]]:
    """On the driver: every worker's shipped records (its chunks joined in), and
    notes of workers that could not record (``ray_patterns`` not importable there);
    the keys are deleted. One KV read for all of them."""
    reader = KvRecords(job_hex)
    reader.read()
    return reader.take()


def merge(values: dict[bytes, bytes], prefix: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    """The workers' KV values (keys after ``prefix``) as one record dict per worker
    process: the rest's key with its chunks joined in (those of its latest epoch),
    and the notes of workers that could not record.

    >>> merge({b"p:missing:7:ab": b"ImportError: no ray_patterns"}, b"p:")
    ([], ['ImportError: no ray_patterns'])
    """
    return _assemble({k[len(prefix) :]: _parse(v, k[len(prefix) :]) for k, v in values.items()})


def _parse(raw: Any, key: bytes) -> Any:
    """A KV value: a note (text) of a ``missing`` key, else the unpickled records."""
    if not raw:
        return None
    if key.startswith(b"missing:"):
        return raw.decode() if isinstance(raw, bytes) else str(raw)
    return pickle.loads(raw)


def _assemble(values: dict[bytes, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """``merge`` of parsed values (keys after the prefix); the parsed values are not
    changed (``KvRecords`` merges the same ones again at each look)."""
    records: dict[str, dict[str, Any]] = {}
    # pid -> epoch -> list name -> [(start, items)]
    chunks: dict[str, dict[int, dict[str, list[tuple[int, list[Any]]]]]] = {}
    missing: list[str] = []
    for key, value in values.items():
        if value is None:
            continue
        kind, _, rest = key.decode().partition(":")
        if kind == "missing":
            missing.append(value)
        elif kind == "rec":
            records[rest] = dict(value)
        elif kind == "chunk":
            pid, epoch, name, start = rest.split(":")
            by_name = chunks.setdefault(pid, {}).setdefault(int(epoch), {})
            by_name.setdefault(name, []).append((int(start), value))
    for pid in set(records) | set(chunks):
        data = records.setdefault(pid, {"pid": int(pid)})
        epochs = chunks.get(pid, {})
        epoch = max([*epochs, data.get("epoch", 0)])
        if data.get("epoch", 0) != epoch:  # the rest is of a forgotten epoch: stale
            data = records[pid] = {k: data[k] for k in ("pid", "worker_id", "node_id") if k in data}
        for name, parts in epochs.get(epoch, {}).items():
            parts.sort(key=lambda part: part[0])
            data[name] = [item for _, part in parts for item in part]
            # the chunks before this one were read (and deleted) by an earlier watch
            data.setdefault("bases", {})[name] = parts[0][0]
    return list(records.values()), missing
