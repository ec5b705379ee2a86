"""Task run times from Ray's own task events, read from the GCS.

The live doctor times the calls of the remote functions it wrapped in the workers
themselves (``_worker.observed_function``) and reads Ray's task events only for the
rest: actor calls, generators, definitions exported before the watch, and every
task of ``doctor --job``. Ray records, for every task attempt, when it was
submitted, when it ran (``task:execute`` profile event, ns) and when its result was
ready (``FINISHED`` state), on which worker and node; reading them needs no code in
the workers and works without the dashboard (``ray.util.state.list_tasks`` needs
the dashboard, which tests and many clusters turn off).

Why a gRPC call of our own: Ray's ``GlobalStateAccessor.get_task_events`` (what
``ray.timeline`` reads) returns every event of every job, which costs seconds once
a cluster has run 100k tasks. The GCS's ``GetTaskEvents`` takes a job filter and
answers from its per-job index, and says how many events it dropped.

The price of task events: workers flush them about once a second
(``RAY_task_events_report_interval_ms``), so the doctor polls at the end until
every task it saw finish is in; and the GCS keeps a bounded number
(``RAY_task_events_max_num_task_in_gcs``, 100,000 by default): missing tasks are
counted and reported as not observed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

#: ``ray.core.generated.common_pb2.TaskStatus`` values we read
PENDING_ARGS_AVAIL = 1
RUNNING = 8
RUNNING_IN_RAY_GET = 9
RUNNING_IN_RAY_WAIT = 10
FINISHED = 11
FAILED = 12

#: the biggest reply we accept: 100k tasks with their profile events fit
_MAX_MESSAGE = 1 << 30


@dataclass(slots=True)
class TaskSpan:
    """One task attempt as Ray saw it (times in seconds since the epoch)."""

    task_id: bytes
    name: str
    worker: str
    node: str
    pid: int
    start: float | None
    end: float | None
    ready: float | None
    failed: bool = False
    attempt: int = 0
    #: NORMAL_TASK, ACTOR_TASK, ACTOR_CREATION_TASK, DRIVER_TASK ("" if unknown)
    kind: str = ""
    parent: bytes = b""
    #: when the owner submitted it (PENDING_ARGS_AVAIL)
    created: float | None = None
    #: when it first blocked in ray.get / ray.wait inside the task, if it did
    blocked: float | None = None
    error_type: str = ""
    error_message: str = ""
    #: the submitting line, when the job ran with RAY_record_task_actor_creation_sites=1
    call_site: str = ""
    #: the actor an actor task ran on (b"" for a normal task)
    actor: bytes = b""


@dataclass
class EventsRead:
    """What one read of a job's task events returned and what the GCS left out."""

    spans: dict[tuple[bytes, int], TaskSpan] = field(default_factory=dict)
    #: task attempts of this job the GCS holds (its cap is 100,000 by default)
    total_stored: int = 0
    #: attempts of this job left out of the reply by our limit
    truncated: int = 0
    #: attempts whose state or profile events were dropped (by workers or the GCS)
    status_dropped: int = 0
    profile_dropped: int = 0
    source: str = ""

    def latest(self) -> dict[bytes, TaskSpan]:
        """The last attempt of each task, by task id."""
        out: dict[bytes, TaskSpan] = {}
        for (task_id, attempt), span in self.spans.items():
            kept = out.get(task_id)
            if kept is None or attempt > kept.attempt:
                out[task_id] = span
        return out


def _enum_name(enum: Any, value: int) -> str:
    try:
        return str(enum.Name(value))
    except ValueError:
        return str(value)


def _short_error(message: str) -> str:
    """The first 500 characters, and for a memory kill the lines naming what was
    killed (``actual memory used=...``: the figure a ``memory=`` fix needs)."""
    short = message[:500]
    if len(message) > 500 and "Selected to kill" in message:
        picked = [ln[:300] for ln in message.splitlines() if ln.startswith("Selected to kill")]
        short += "\n" + "\n".join(picked[:10])
    return short


def _merge(spans: dict[tuple[bytes, int], TaskSpan], event: Any, common_pb2: Any) -> None:
    """Fold one ``TaskEvents`` proto into the span of its task attempt."""
    key = (event.task_id, event.attempt_number)
    span = spans.get(key)
    if span is None:
        span = TaskSpan(event.task_id, "", "", "", 0, None, None, None, attempt=key[1])
        spans[key] = span
    if event.HasField("task_info"):
        info = event.task_info
        if info.func_or_class_name:
            span.name = info.func_or_class_name
        span.kind = _enum_name(common_pb2.TaskType, info.type)
        span.parent = info.parent_task_id
        if info.call_site:
            span.call_site = info.call_site
        if info.actor_id:
            span.actor = info.actor_id
    if event.HasField("state_updates"):
        updates = event.state_updates
        if updates.worker_id:
            span.worker = updates.worker_id.hex()
        if updates.node_id:
            span.node = updates.node_id.hex()
        if updates.worker_pid:
            span.pid = updates.worker_pid
        ts = updates.state_ts_ns
        if PENDING_ARGS_AVAIL in ts:
            span.created = ts[PENDING_ARGS_AVAIL] / 1e9
        for blocked in (RUNNING_IN_RAY_GET, RUNNING_IN_RAY_WAIT):
            if blocked in ts:
                t = ts[blocked] / 1e9
                span.blocked = t if span.blocked is None else min(span.blocked, t)
        if RUNNING in ts and span.start is None:
            span.start = ts[RUNNING] / 1e9  # replaced by task:execute when it comes
        if FINISHED in ts:
            span.ready = ts[FINISHED] / 1e9
        if FAILED in ts:
            span.failed = True
            span.ready = span.ready or ts[FAILED] / 1e9
        if updates.HasField("error_info"):
            span.error_type = _enum_name(common_pb2.ErrorType, updates.error_info.error_type)
            span.error_message = _short_error(updates.error_info.error_message)
    if event.HasField("profile_events"):
        for item in event.profile_events.events:
            if item.event_name == "task:execute":
                span.start = item.start_time / 1e9
                span.end = item.end_time / 1e9
        if not span.worker:
            span.worker = event.profile_events.component_id.hex()


def gcs_address() -> str:
    """The GCS address of the Ray this process is connected to."""
    import ray

    return str(ray.get_runtime_context().gcs_address)


@contextmanager
def gcs_channel(address: str) -> Iterator[Any]:
    """A gRPC channel to the GCS at ``address`` (``host:port``), closed on exit.

    Token authentication (``RAY_AUTH_MODE=token``, ``RAY_AUTH_TOKEN``) is added by
    Ray's own channel helper.
    """
    from ray._private.grpc_utils import init_grpc_channel

    options = [
        ("grpc.max_receive_message_length", _MAX_MESSAGE),
        ("grpc.max_send_message_length", _MAX_MESSAGE),
    ]
    channel = init_grpc_channel(address, options=options)
    try:
        yield channel
    finally:
        channel.close()


def fetch_job_events(
    address: str, job_hex: str, limit: int = 0, timeout: float = 60, channel: Any = None
) -> EventsRead:
    """Every task event of job ``job_hex`` from the GCS at ``address``, filtered there.

    ``limit`` caps the task attempts returned (0: all the GCS holds).
    """
    from ray.core.generated import common_pb2, gcs_service_pb2, gcs_service_pb2_grpc

    if channel is None:
        with gcs_channel(address) as own:
            return fetch_job_events(address, job_hex, limit, timeout, own)
    request = gcs_service_pb2.GetTaskEventsRequest(  # type: ignore[attr-defined]
        limit=limit if limit > 0 else -1
    )
    job_filter = request.filters.job_filters.add()
    job_filter.job_id = bytes.fromhex(job_hex)
    job_filter.predicate = gcs_service_pb2.FilterPredicate.EQUAL  # type: ignore[attr-defined]
    stub = gcs_service_pb2_grpc.TaskInfoGcsServiceStub(channel)
    reply = stub.GetTaskEvents(request, timeout=timeout)
    read = EventsRead(
        total_stored=reply.num_total_stored,
        truncated=reply.num_truncated,
        status_dropped=reply.num_status_task_events_dropped,
        profile_dropped=reply.num_profile_task_events_dropped,
        source="gcs GetTaskEvents (job filter)",
    )
    for event in reply.events_by_task:
        _merge(read.spans, event, common_pb2)
    return read


def _fetch_unfiltered(job_hex: str) -> EventsRead:
    """Ray's accessor (every job's events, filtered here): the fallback, and the bench's
    "before" figure."""
    import ray._private.state as state
    from ray.core.generated import common_pb2

    read = EventsRead(source="GlobalStateAccessor.get_task_events (unfiltered)")
    for event in state.state._get_all_task_events():
        if event.job_id.hex() == job_hex:
            _merge(read.spans, event, common_pb2)
    return read


def read_job(job_hex: str, address: str | None = None) -> EventsRead:
    """``fetch_job_events`` from the connected Ray's GCS (or ``address``); the unfiltered
    accessor if the GCS call is not available (another Ray version)."""
    try:
        return fetch_job_events(address or gcs_address(), job_hex)
    except (ImportError, AttributeError, TypeError):
        return _fetch_unfiltered(job_hex)


def read_task_spans(job_hex: str, since: float) -> dict[bytes, TaskSpan]:
    """Every task of job ``job_hex`` that was created after ``since``, by task id."""
    spans = read_job(job_hex).latest()
    return {tid: s for tid, s in spans.items() if (s.start or s.ready or since) >= since - 1.0}


def complete(span: TaskSpan | None) -> bool:
    """Whether ``span`` has both its run time and the time its result was ready."""
    return span is not None and span.ready is not None and span.end is not None


def _accounted_for(span: TaskSpan, dead_workers: set[str]) -> bool:
    """Whether ``span`` will get no more events: it finished and ran, or its worker died.

    A worker that dies (``os._exit``, SIGKILL, OOM, a lost node) takes the events it
    had not flushed yet with it, the run times of tasks that finished just before
    included: waiting for those would hold every report for the whole timeout.
    """
    if complete(span):
        return True
    return _died(span) or (bool(span.worker) and span.worker in dead_workers)


def _died(span: TaskSpan) -> bool:
    """A failure that is not the task's own exception: its worker, actor or node went."""
    return span.failed and span.error_type not in ("", "TASK_EXECUTION_EXCEPTION")


#: up to this many tasks, the doctor asks the GCS for each one by id (its task index)
#: rather than reading the whole job: a job that ran 20k tasks before the watch (a
#: test session, a notebook) costs 0.8 s per whole-job read, the watch's own tasks
#: a few milliseconds (a query by id costs ~0.35 ms, a task of a whole-job read ~0.04)
BY_ID_MAX = 1_000
_BY_ID_BATCH = 256


def fetch_tasks(channel: Any, task_ids: Iterable[bytes], timeout: float = 30) -> list[Any]:
    """The task events of these tasks, one indexed GCS query each, in flight together
    (``_BY_ID_BATCH`` at a time)."""
    from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

    stub = gcs_service_pb2_grpc.TaskInfoGcsServiceStub(channel)
    equal = gcs_service_pb2.FilterPredicate.EQUAL  # type: ignore[attr-defined]
    ids = list(task_ids)
    events: list[Any] = []
    for start in range(0, len(ids), _BY_ID_BATCH):
        futures = []
        for task_id in ids[start : start + _BY_ID_BATCH]:
            request = gcs_service_pb2.GetTaskEventsRequest(limit=-1)  # type: ignore[attr-defined]
            task_filter = request.filters.task_filters.add()
            task_filter.task_id = task_id
            task_filter.predicate = equal
            futures.append(stub.GetTaskEvents.future(request, timeout=timeout))
        for future in futures:
            events.extend(future.result().events_by_task)
    return events


def _missing(
    spans: dict[bytes, TaskSpan], wanted: Iterable[bytes], dead_workers: Iterable[str] = ()
) -> list[bytes]:
    # state updates and profile events are flushed apart: wait for both
    dead = {s.worker for s in spans.values() if _died(s)} | set(dead_workers)
    missing = [t for t in wanted if t not in spans or not _accounted_for(spans[t], dead)]
    # an actor destroyed right after its last call (its handle went out of scope) took
    # that call's unflushed run times with it: finished, it will get no more events
    ended = [t for t in missing if t in spans and spans[t].ready is not None and spans[t].actor]
    if ended:
        gone = _dead_actors({spans[t].actor for t in ended})
        missing = [t for t in missing if not (t in spans and spans[t].actor in gone)]
    return missing


#: actors the GCS said were dead (they stay dead): asked once each; the newest
#: ``_MAX_DEAD_ACTORS`` are kept (a long notebook session destroys actors without end)
_DEAD_ACTORS: dict[bytes, None] = {}
_MAX_DEAD_ACTORS = 10_000


def _dead_actors(actors: set[bytes]) -> set[bytes]:
    """Those of ``actors`` that the GCS reports DEAD (no dashboard needed)."""
    try:
        from ray._private.state import state
    except ImportError:  # another Ray
        return set()
    dead = actors & _DEAD_ACTORS.keys()
    for actor in actors - dead:
        try:
            info = state.actor_table(actor.hex())
        except Exception:  # not connected (a job read from outside), or another Ray
            continue
        if info and info.get("State") == "DEAD":
            dead.add(actor)
            _DEAD_ACTORS[actor] = None
            if len(_DEAD_ACTORS) > _MAX_DEAD_ACTORS:  # the oldest first (insertion order)
                del _DEAD_ACTORS[next(iter(_DEAD_ACTORS))]
    return dead


def _wait_by_id(
    ids: set[bytes], wanted: set[bytes], deadline: float, dead: set[str]
) -> dict[bytes, TaskSpan]:
    from ray.core.generated import common_pb2

    read = EventsRead()
    pending = ids | wanted
    pause = 0.02
    with gcs_channel(gcs_address()) as channel:
        while True:
            for event in fetch_tasks(channel, pending):
                _merge(read.spans, event, common_pb2)
            spans = read.latest()
            if not _missing(spans, wanted, dead) or time.monotonic() >= deadline:
                return spans
            pending = set(_missing(spans, pending, dead))  # read again only what may change
            pause = min(0.25, pause * 1.5)
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))


def wait_for_spans(
    job_hex: str,
    since: float,
    wanted: set[bytes],
    timeout: float = 4.0,
    ids: set[bytes] | None = None,
    dead_workers: set[str] | None = None,
) -> dict[bytes, TaskSpan]:
    """Task spans, polled until every ``wanted`` task has its times or ``timeout``
    (a task of one of ``dead_workers``, hex ids, gets no more events).

    With ``ids`` (every task the watch saw submitted; at most ``BY_ID_MAX``), those
    tasks are read by id; otherwise every task of job ``job_hex`` created after
    ``since`` (``read_task_spans``). Polls often and stops as soon as every wanted
    task is accounted for, so the wait is the workers' next flush, not a fixed sleep.
    """
    deadline = time.monotonic() + timeout
    if ids is not None and len(ids) <= BY_ID_MAX:
        try:
            return _wait_by_id(ids, wanted, deadline, dead_workers or set())
        except (ImportError, AttributeError, TypeError):  # another Ray: the job read
            pass
    pause = 0.02
    while True:
        began = time.monotonic()
        spans = read_task_spans(job_hex, since)
        took = time.monotonic() - began
        if not _missing(spans, wanted, dead_workers or ()) or time.monotonic() >= deadline:
            return spans
        # a big job's read costs more: read it less often (but at least every 0.25 s)
        pause = min(0.25, max(pause * 1.5, took))
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))


def workers_of(task_ids: Iterable[bytes]) -> dict[bytes, tuple[str, str]]:
    """The worker and node (hex ids) each of these tasks ran on, as far as Ray's task
    events say so far (the owner reports the worker a task was given to)."""
    from ray.core.generated import common_pb2

    read = EventsRead()
    with gcs_channel(gcs_address()) as channel:
        for event in fetch_tasks(channel, task_ids):
            _merge(read.spans, event, common_pb2)
    return {t: (s.worker, s.node) for t, s in read.latest().items() if s.worker}


def dead_workers(worker_ids: Iterable[str]) -> set[str]:
    """Those of these workers (hex ids) that the GCS's worker table says are dead."""
    from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

    ids = list(worker_ids)
    if not ids:
        return set()
    dead = set()
    with gcs_channel(gcs_address()) as channel:
        stub = gcs_service_pb2_grpc.WorkerInfoGcsServiceStub(channel)
        request = gcs_service_pb2.GetWorkerInfoRequest  # type: ignore[attr-defined]
        futures = [(w, stub.GetWorkerInfo.future(request(worker_id=bytes.fromhex(w)))) for w in ids]
        for worker, future in futures:
            reply = future.result(timeout=10)
            if reply.HasField("worker_table_data") and not reply.worker_table_data.is_alive:
                dead.add(worker)
    return dead


def task_timeline(spans: Iterable[TaskSpan]) -> list[dict[str, Any]]:
    """Timeline rows (one per worker process) of the spans that have run times."""
    items: list[dict[str, Any]] = [
        {
            "name": span.name or "task",
            "cat": "task",
            "node": span.node[:8] or "node",
            "row": f"worker {span.pid}" if span.pid else f"worker {span.worker[:8]}",
            "start": span.start,
            "end": span.end,
            "args": {"task_id": span.task_id.hex()},
        }
        for span in spans
        if span.start and span.end
    ]
    items.sort(key=lambda i: float(i["start"]))
    return items
