"""After the fact: the anti-patterns a job hit, from Ray's task events alone.

``ray-patterns doctor --job JOB_ID --address HOST:PORT`` reads what the cluster's
GCS recorded for the job (each task attempt: when it was submitted, ran, blocked
in ``ray.get`` and finished, on which worker, how it failed) and runs the checks
those facts can answer. Nothing is installed on the workers and the program is
not changed; checks that need to see the driver's calls (``ray.get`` sizes,
definitions, globals) need the live doctor and are listed as not run.

Example::

    >>> from ray_patterns.doctor.job import job_checks
    >>> "fine-grained-tasks" in job_checks()
    True
"""

from __future__ import annotations

import os
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from ray_patterns import catalog
from ray_patterns.doctor._events import (
    EventsRead,
    TaskSpan,
    fetch_job_events,
    gcs_channel,
    task_timeline,
)
from ray_patterns.doctor._page_checks import killed_for_memory, memory_killed_message
from ray_patterns.doctor.report import Finding, Report
from ray_patterns.doctor.thresholds import Thresholds

#: blocked-workers: parent tasks blocked in ray.get on their own children, at least
BLOCKED_MIN_PARENTS = 2
#: blocked-workers: share of its run a parent spent with its children in flight, at least
BLOCKED_MIN_SHARE = 0.5
#: ray-get-loop: share of a group's tasks submitted only after the previous one finished
GET_LOOP_MIN_SHARE = 0.8
#: ray-get-loop: average CPUs busy during the loop below this share means CPUs sat idle
GET_LOOP_IDLE_SHARE = 0.75
#: the GCS's default cap on stored task attempts (RAY_task_events_max_num_task_in_gcs)
GCS_TASK_CAP = 100_000
_TASKS = ("NORMAL_TASK", "ACTOR_TASK")
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')
#: frames of Ray itself and of this library: the user's line is the last frame before them
_NOT_USER = re.compile(r"[/\\](site-packages|dist-packages)[/\\]ray[/\\]|[/\\]ray_patterns[/\\]")
#: a job's working_dir as unpacked on a node: the user knows the path below it
_WORKING_DIR = re.compile(r"^.*[/\\]runtime_resources[/\\]working_dir_files[/\\][^/\\]+[/\\]")

Site = tuple[str, int]
Group = tuple[bytes, str, Site]


class JobError(Exception):
    """The job or the cluster cannot be read; the message says why and what to do."""


def resolve_address(address: str | None) -> str:
    """The GCS address to read: ``address``, else ``RAY_ADDRESS``, else the local cluster.

    A dashboard URL (what ``ray job submit`` takes) is refused with the fix: the
    doctor reads the GCS, whose address ``ray start --head`` prints.
    """
    raw = address or os.environ.get("RAY_ADDRESS") or "auto"
    if "://" in raw:
        raise JobError(
            f"{raw} is a dashboard or client URL; the doctor reads the GCS: give "
            "--address HOST:PORT, the address `ray start --head` printed (port 6379 "
            "unless --port was given)"
        )
    if raw != "auto":
        return raw
    from ray._private.services import canonicalize_bootstrap_address

    try:
        found = canonicalize_bootstrap_address(raw)
    except ConnectionError as exc:
        raise JobError(f"no local Ray cluster found: {exc}; give --address HOST:PORT") from None
    if not found:
        raise JobError("no local Ray cluster found; give --address HOST:PORT")
    return str(found)


def job_checks() -> dict[str, Callable[[Any], list[Finding]]]:
    """The checks a job's task events can answer, by catalog check name."""
    return {
        catalog.check("fine-grained-tasks").name: _fine_grained,
        catalog.check("ray-get-loop").name: _get_loop,
        catalog.check("unbounded-submission").name: _unbounded,
        catalog.check("blocked-workers").name: _blocked_workers,
        catalog.check("memory-killed-tasks").name: _memory_killed,
    }


def examine_job(
    job: str,
    address: str | None = None,
    thresholds: Thresholds | None = None,
    *,
    timeout: float = 60.0,
) -> Report:
    """The report of job ``job`` (hex job id or submission id) on the cluster at ``address``.

    Raises ``JobError`` naming the cause when the cluster or the job cannot be found.
    """
    gcs = resolve_address(address)
    began = time.monotonic()
    with gcs_channel(gcs) as channel:
        info = _job_info(channel, job, gcs, timeout)
        job_hex = info.job_id.hex()
        cpus = _cluster_cpus(channel, timeout)
        read = fetch_job_events(gcs, job_hex, timeout=timeout, channel=channel)
    facts = _JobFacts(info, read, cpus, (thresholds or Thresholds()).resolved())
    report = Report()
    for name, check in job_checks().items():
        try:
            report.findings.extend(check(facts))
        except Exception as exc:  # one broken check must not hide the others
            report.not_observed.append(f"check {name} failed: {type(exc).__name__}: {exc}")
    report.findings.sort(key=lambda f: (-(f.cost_seconds or 0.0), -(f.bytes or 0), f.code))
    _describe(report, facts, time.monotonic() - began)
    return report


def _job_info(channel: Any, job: str, address: str, timeout: float) -> Any:
    import grpc
    from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

    stub = gcs_service_pb2_grpc.JobInfoGcsServiceStub(channel)
    request = gcs_service_pb2.GetAllJobInfoRequest(  # type: ignore[attr-defined]
        job_or_submission_id=job, skip_is_running_tasks_field=True
    )
    try:
        reply = stub.GetAllJobInfo(request, timeout=timeout)
    except grpc.RpcError as exc:
        raise JobError(
            f"cannot read the GCS at {address}: {exc.code().name}: {exc.details()} "
            "(is the cluster up, and RAY_AUTH_TOKEN set if it uses token auth?)"
        ) from None
    wanted = job.strip().lower()
    for item in reply.job_info_list:
        submission = item.config.metadata.get("job_submission_id", "")
        if item.job_id.hex() == wanted or submission.lower() == wanted:
            return item
    recent = sorted(
        (
            (
                item.start_time,
                item.config.metadata.get("job_submission_id", "") or item.job_id.hex(),
            )
            for item in stub.GetAllJobInfo(
                gcs_service_pb2.GetAllJobInfoRequest(  # type: ignore[attr-defined]
                    skip_is_running_tasks_field=True
                ),
                timeout=timeout,
            ).job_info_list
        ),
        reverse=True,
    )
    known = ", ".join(name for _, name in recent[:5]) or "none"
    raise JobError(f"no job {job!r} on the cluster at {address}; recent jobs: {known}")


def _cluster_cpus(channel: Any, timeout: float) -> float:
    from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

    stub = gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel)
    reply = stub.GetAllNodeInfo(
        gcs_service_pb2.GetAllNodeInfoRequest(),  # type: ignore[attr-defined]
        timeout=timeout,
    )
    # every node the cluster has had: the job may have run before some died
    return float(sum(node.resources_total.get("CPU", 0.0) for node in reply.node_info_list))


class _JobFacts:
    """The job's task attempts, grouped the ways the checks read them."""

    def __init__(self, info: Any, read: EventsRead, cpus: float, thresholds: Thresholds):
        self.info = info
        self.read = read
        self.cpus = cpus or 1.0
        self.t = thresholds
        self.attempts = list(read.spans.values())
        self.tasks = [s for s in read.latest().values() if s.kind in _TASKS]
        self.now = time.time()
        end_ms = info.end_time or 0
        self.end = end_ms / 1000 if end_ms else self.now
        self.groups: dict[Group, list[TaskSpan]] = defaultdict(list)
        for span in self.tasks:
            self.groups[(span.parent, span.name, site_of(span))].append(span)
        for spans in self.groups.values():
            spans.sort(key=lambda s: s.created or s.start or 0.0)

    def finished(self, span: TaskSpan) -> float:
        return span.ready or span.end or self.end


def site_of(span: TaskSpan) -> Site:
    """Where the task was submitted: its recorded call site's first frame, else
    ``(remote function name, 0)``."""
    user = None
    for match in _FRAME.finditer(span.call_site):
        if _NOT_USER.search(match.group(1)):
            break
        user = match
    if user is None:
        return span.name or "task", 0
    return _WORKING_DIR.sub("", user.group(1)), int(user.group(2))


def _t(value: float | None) -> float:
    """A time the caller has checked is there (0.0 otherwise)."""
    return value if value is not None else 0.0


def _busy(spans: Iterable[TaskSpan], t0: float, t1: float) -> float:
    """CPU-seconds the spans ran inside ``[t0, t1]``."""
    total = 0.0
    for s in spans:
        if s.start is not None and s.end is not None:
            total += max(0.0, min(s.end, t1) - max(s.start, t0))
    return total


def _fine_grained(facts: _JobFacts) -> list[Finding]:
    t = facts.t
    by_name: dict[str, list[TaskSpan]] = defaultdict(list)
    for s in facts.tasks:
        if s.kind == "NORMAL_TASK":
            by_name[s.name].append(s)
    out = []
    for name, spans in by_name.items():
        timed = [s for s in spans if s.start is not None and s.end is not None]
        if len(timed) < t.fine_grained_min_calls:
            continue
        durations = [_t(s.end) - _t(s.start) for s in timed]
        median = statistics.median(durations)
        if median >= t.fine_grained_median_s:
            continue
        first = min(_t(s.created or s.start) for s in timed)
        wall = max(facts.finished(s) for s in timed) - first
        cpus = min(facts.cpus, float(len(timed)))
        busy = sum(durations) / cpus
        lost = max(0.0, wall - busy)
        per_task = lost * cpus / len(timed)
        sites: dict[Site, int] = defaultdict(int)
        for s in spans:
            sites[site_of(s)] += 1
        path, line = max(sites, key=lambda k: sites[k])
        out.append(
            _finding(
                "fine-grained-tasks",
                path,
                line,
                len(spans),
                f"{name}: {len(spans)} tasks with a median run time of {median * 1000:.2f} ms "
                f"against Ray's per-task cost here of ~{per_task * 1000:.2f} ms; the work "
                f"needed {busy:.2f} s of {cpus:g} CPUs but took {wall:.2f} s "
                f"(~{lost / wall if wall > 0 else 0:.0%} per-task overhead)",
                cost_seconds=lost,
            )
        )
    return out


def _get_loop(facts: _JobFacts) -> list[Finding]:
    t = facts.t
    out = []
    for (_, name, (path, line)), spans in facts.groups.items():
        # the worker reports FINISHED after its reply: the execute end is the earlier one
        timed = [s for s in spans if s.created is not None and s.ready is not None]
        if len(timed) < t.get_loop_min_count or facts.cpus < 2:
            continue
        sequential = sum(
            1
            for prev, cur in zip(timed, timed[1:], strict=False)
            if _t(cur.created) >= _t(prev.end or prev.ready)
        )
        if sequential + 1 < t.get_loop_min_count or sequential < GET_LOOP_MIN_SHARE * (
            len(timed) - 1
        ):
            continue
        t0, t1 = _t(timed[0].created), _t(timed[-1].ready)
        window = t1 - t0
        if window <= 0:
            continue
        busy = _busy(facts.tasks, t0, t1) / window
        if busy >= GET_LOOP_IDLE_SHARE * facts.cpus:
            continue
        total = sum(_t(s.ready) - _t(s.created) for s in timed)
        parallel = max(1.0, min(facts.cpus, float(len(timed))))
        cost = total * (1.0 - 1.0 / parallel)
        out.append(
            _finding(
                "ray-get-loop",
                path,
                line,
                sequential + 1,
                f"{name}: {sequential + 1} of {len(timed)} tasks were each submitted only after "
                f"the previous one finished, while on average {busy:.2f} of {facts.cpus:g} "
                f"CPUs were busy; about {cost:.2f} s could have overlapped (if no task needs "
                "the previous one's result)",
                cost_seconds=cost,
            )
        )
    return out


def _unbounded(facts: _JobFacts) -> list[Finding]:
    limit = facts.t.unbounded_pending_tasks
    out = []
    for (_, name, (path, line)), spans in facts.groups.items():
        if len(spans) < limit:
            continue
        events: list[tuple[float, int]] = []
        for s in spans:
            if s.created is None:
                continue
            events.append((s.created, 1))
            events.append((max(facts.finished(s), s.created), -1))
        events.sort()  # ends before starts at equal times
        pending = peak = 0
        for _, step in events:
            pending += step
            peak = max(peak, pending)
        if peak < limit:
            continue
        out.append(
            _finding(
                "unbounded-submission",
                path,
                line,
                peak,
                f"{name}: {peak} tasks were pending at once (submitted, not finished) on "
                f"{facts.cpus:g} CPUs; nothing limited how far submission ran ahead",
            )
        )
    return out


def _waited_on_children(facts: _JobFacts) -> dict[bytes, tuple[TaskSpan, float]]:
    """Tasks that spent most of their run waiting on tasks they submitted: task id ->
    (span, when the wait began).

    Ray 2.60 does not put RUNNING_IN_RAY_GET into task events (it is a metric), so
    the wait is read from the children: from the first child's submission to the
    last one's end, the parent was running and doing nothing else for long.
    """
    children: dict[bytes, list[TaskSpan]] = defaultdict(list)
    for s in facts.tasks:
        children[s.parent].append(s)
    out = {}
    for p in facts.tasks:
        kids = children.get(p.task_id)
        if p.kind != "NORMAL_TASK" or not kids or p.start is None or p.end is None:
            continue
        first = min(_t(k.created or k.start) for k in kids)
        last = max(_t(k.end or k.ready) for k in kids)
        run = p.end - p.start
        waited = max(0.0, min(last, p.end) - max(first, p.start))
        # it outlived its children (it needed their results) and spent its run on them
        needed = last <= p.end
        if p.blocked is not None or (needed and run > 0 and waited >= BLOCKED_MIN_SHARE * run):
            out[p.task_id] = (p, p.blocked if p.blocked is not None else first)
    return out


def _blocked_workers(facts: _JobFacts) -> list[Finding]:
    waits = _waited_on_children(facts)
    blocked = [span for span, _ in waits.values()]
    if len(blocked) < BLOCKED_MIN_PARENTS:
        return []
    # how many workers Ray adds for the children varies (it reuses leased ones):
    # the count is reported, the finding rests on the waits themselves
    workers = {s.worker for s in facts.tasks if s.kind == "NORMAL_TASK" and s.worker}
    events = sorted([(t0, 1) for _, t0 in waits.values()] + [(_t(s.end), -1) for s in blocked])
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    sites: dict[tuple[str, Site], int] = defaultdict(int)
    for s in blocked:
        sites[(s.name, site_of(s))] += 1
    (name, (path, line)) = max(sites, key=lambda k: sites[k])
    return [
        _finding(
            "blocked-workers",
            path,
            line,
            len(blocked),
            f"{len(blocked)} tasks ({name} and others) blocked in ray.get on tasks they "
            f"submitted themselves, up to {peak} at once; the job used {len(workers)} worker "
            f"processes on {facts.cpus:g} CPUs (each blocked task holds its worker)",
        )
    ]


def _memory_killed(facts: _JobFacts) -> list[Finding]:
    by_name: dict[tuple[str, Site], list[TaskSpan]] = defaultdict(list)
    for s in facts.attempts:
        if killed_for_memory(s):
            by_name[(s.name, site_of(s))].append(s)
    return [
        _finding("memory-killed-tasks", path, line, len(spans), memory_killed_message(name, spans))
        for (name, (path, line)), spans in by_name.items()
    ]


def _finding(name: str, path: str, line: int, count: int, message: str, **extra: Any) -> Finding:
    return Finding.make(catalog.check(name).name, path, line, count, message, **extra)


def _describe(report: Report, facts: _JobFacts, took: float) -> None:
    """What was read, what Ray dropped, and what the job's events cannot tell."""
    info, read = facts.info, facts.read
    from ray import __version__

    report.ray_version = __version__
    start = (info.start_time or 0) / 1000
    report.duration_s = max(0.0, facts.end - start) if start else 0.0
    if info.job_info.HasField("driver_exit_code"):
        report.exit_code = info.job_info.driver_exit_code
    retried = sorted({s.task_id for s in facts.attempts if s.attempt > 0})
    failures: dict[str, int] = defaultdict(int)
    for s in facts.tasks:
        if s.failed:
            failures[s.error_type or "unknown"] += 1
    kinds: dict[str, int] = defaultdict(int)
    for s in facts.tasks:
        kinds[s.kind] += 1
    report.observed = {
        "source": "job",
        "job_id": info.job_id.hex(),
        "submission_id": info.config.metadata.get("job_submission_id", ""),
        "entrypoint": info.entrypoint,
        "running": not info.is_dead,
        "tasks": kinds["NORMAL_TASK"],
        "actor_tasks": kinds["ACTOR_TASK"],
        "actors": sum(1 for s in facts.read.latest().values() if s.kind == "ACTOR_CREATION_TASK"),
        "gets": 0,
        "bytes_fetched": 0,
        "task_attempts": len(facts.attempts),
        "tasks_timed": sum(1 for s in facts.tasks if s.start is not None and s.end is not None),
        "retried_tasks": len(retried),
        "tasks_waiting_on_children": len(_waited_on_children(facts)),
        "failed_tasks": dict(failures),
        "workers": len({s.worker for s in facts.tasks if s.worker}),
        "nodes": len({s.node for s in facts.tasks if s.node}),
        "cpus": facts.cpus,
        "task_durations_source": f"ray task events ({read.source})",
        "gcs_stored_attempts": read.total_stored,
        "read_seconds": round(took, 3),
        "thresholds": dict(vars(facts.t)),
    }
    report.timeline = task_timeline(facts.tasks)
    notes = report.not_observed
    if not info.is_dead:
        notes.append("the job is still running: this is what it did so far")
    if read.status_dropped or read.profile_dropped:
        notes.append(
            f"Ray dropped task events of this job: {read.status_dropped} state updates, "
            f"{read.profile_dropped} run-time records (worker buffers or the GCS cap; "
            "RAY_task_events_max_num_task_in_gcs raises the cap)"
        )
    if read.truncated:
        notes.append(f"{read.truncated} task attempts were left out of the GCS's reply")
    if read.total_stored >= GCS_TASK_CAP:
        notes.append(
            f"the GCS holds {read.total_stored} task attempts of this job, its cap: the oldest "
            "may have been evicted"
        )
    if facts.tasks and not any(s.call_site for s in facts.tasks):
        notes.append(
            "submitting lines: the job did not record call sites, so findings name the "
            "remote function (submit it with RAY_record_task_actor_creation_sites=1 in "
            "its runtime_env env_vars to get the line)"
        )
    ran = set(job_checks())
    live = [c.name for c in catalog.all_checks() if c.doctor and c.name not in ran]
    notes.append(
        "not checked (they need the live doctor, `ray-patterns doctor -- python "
        f"PROGRAM`, which sees the driver's calls): {', '.join(live)}"
    )
    report.complete = True
