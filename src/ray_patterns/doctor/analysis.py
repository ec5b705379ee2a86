"""Detectors: turn Recorders' raw observations into findings, one function per check.

The same detectors run on the driver's records and on each worker's (shipped by the
worker hook); a worker's findings name the task or actor method they are inside.
The newer pages' detectors live in ``_page_checks``.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ray_patterns._findings import Related
from ray_patterns._units import human_bytes
from ray_patterns.doctor import _page_checks
from ray_patterns.doctor._events import TaskSpan, task_timeline
from ray_patterns.doctor._recorder import Recorder
from ray_patterns.doctor._records import Site
from ray_patterns.doctor._sites import LIBRARY, classify
from ray_patterns.doctor.report import Finding, Report


def _where(site: Site) -> str:
    path, line = site
    try:
        rel = os.path.relpath(path)
        path = rel if not rel.startswith("..") else path
    except ValueError:
        pass
    return f"{path}:{line}"


def ray_get_loop(rec: Recorder) -> list[Finding]:
    t = rec.thresholds
    # a poll loop is never a get loop, even one that polled too few times to be reported
    # as actor-busy-wait (a worker that started late, the same line busy in another)
    polling = _page_checks.busy_wait_sites(
        rec, min_polls=min(t.get_loop_min_count, t.busy_wait_min_polls)
    )
    by_site: dict[Site, list[float]] = defaultdict(list)
    actor_calls: set[Site] = set()
    for g in rec.gets:
        blocked = g.t1 - g.t0
        if g.lone_fresh and not g.via_library and not g.failed and blocked >= t.min_block_s:
            if g.site in polling:
                continue  # actor-busy-wait
            if g.t0 - rec.submissions[g.single].t >= blocked:
                continue  # it worked longer than it then waited: pipelining, not a get loop
            by_site[g.site].append(blocked)
            if rec.submissions[g.single].kind == "actor_task":
                actor_calls.add(g.site)
    out = []
    for site, times in by_site.items():
        if len(times) < t.get_loop_min_count:
            continue
        parallel = max(1.0, min(rec.cpus or 1.0, float(len(times))))
        total = sum(times)
        cost = total * (1.0 - 1.0 / parallel)
        out.append(
            Finding.make(
                "ray-get-loop",
                *site,
                len(times),
                f"ray.get waited for each {'actor call' if site in actor_calls else 'task'} "
                f"right after submitting it, {len(times)} times "
                f"({total:.2f} s blocked, nothing else in flight); with {parallel:g} CPUs "
                f"about {cost:.2f} s of it could have overlapped (if no call needs the "
                "previous one's result)",
                cost_seconds=cost,
            )
        )
    return out


def submission_order(rec: Recorder, spans: dict[bytes, TaskSpan]) -> list[Finding]:
    t = rec.thresholds
    subs = rec.submissions
    batches: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for s in subs:
        span = spans.get(s.task_id)
        if span is not None and span.ready is not None and not s.passed:
            batches[s.batch].append((span.ready, s.index))
    for items in batches.values():
        items.sort()
    waited: dict[Site, float] = defaultdict(float)
    hits: dict[Site, int] = defaultdict(int)
    for g in rec.gets:
        if g.single < 0 or g.lone_fresh or g.via_library or g.failed:
            continue
        if g.t1 - g.t0 < t.min_block_s:
            continue
        target = subs[g.single]
        lost = 0.0
        for ready, index in batches.get(target.batch, ()):
            if ready >= g.t1:
                break
            other = subs[index]
            if index == target.index or (other.done is not None and other.done <= g.t0):
                continue
            lost += g.t1 - max(ready, g.t0)
        if lost > 0:
            waited[g.site] += lost
            hits[g.site] += 1
    out = []
    for site, lost in waited.items():
        if lost < t.submission_order_min_wait_s:
            continue
        out.append(
            Finding.make(
                "submission-order",
                *site,
                hits[site],
                f"ray.get blocked on one ref {hits[site]} time(s) while other refs of the same "
                f"batch were already finished; ready results waited {lost:.2f} s in total",
                cost_seconds=lost,
            )
        )
    return out


def too_many_results(rec: Recorder) -> list[Finding]:
    limit = rec.thresholds.too_many_results_bytes or 0
    by_site: dict[Site, list[int]] = defaultdict(list)
    for g in rec.gets:
        if g.nbytes > limit:
            by_site[g.site].append(g.nbytes)
    return [
        Finding.make(
            "too-many-results",
            *site,
            len(sizes),
            f"one ray.get returned {human_bytes(max(sizes))} at once (limit "
            f"{human_bytes(limit)}), {len(sizes)} time(s); the driver and object store "
            "hold all of it together",
            nbytes=max(sizes),
        )
        for site, sizes in by_site.items()
    ]


def unnecessary_ray_get(rec: Recorder) -> list[Finding]:
    out = []
    for item in rec.unnecessary.values():
        out.append(
            Finding.make(
                "unnecessary-ray-get",
                *item.get_site,
                item.count,
                f"the value fetched here ({human_bytes(item.nbytes / item.count)} each) went "
                f"back into .remote() at {_where(item.submit_site)}, {item.count} time(s): "
                f"{human_bytes(item.nbytes)} travelled through the driver",
                nbytes=item.nbytes,
                related=[Related(*item.submit_site, "the .remote() call it went back into")],
            )
        )
    return out


def redefine_task_actor_loop(rec: Recorder) -> list[Finding]:
    by_key: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for d in rec.definitions:
        # made by @ray.remote under the watch: a worker's unpickled copies are no redefinitions
        if d.in_watch:
            by_key[d.key].append(d.index)
    out = []
    for indexes in by_key.values():
        if len(indexes) < rec.thresholds.redefine_min_count:
            continue
        first = rec.definitions[indexes[0]]
        what = "actor class" if first.kind == "actor" else "remote function"
        out.append(
            Finding.make(
                "redefine-task-actor-loop",
                *first.site,
                len(indexes),
                f"{first.name} was made a {what} {len(indexes)} times; each one is pickled "
                "and exported to the workers again",
            )
        )
    return out


def closure_capture(rec: Recorder) -> list[Finding]:
    limit = rec.thresholds.closure_capture_bytes
    seen: set[tuple[str, str, int]] = set()
    out = []
    for d in rec.definitions:
        if d.pickled_bytes is None or d.pickled_bytes < limit or d.key in seen:
            continue
        seen.add(d.key)
        names = ", ".join(f"{n} ({human_bytes(b)})" for n, b in d.captured[:5] if b >= 1024)
        out.append(
            Finding.make(
                "closure-capture",
                *d.site,
                1,
                f"{d.name} pickles to {human_bytes(d.pickled_bytes)} with what it captures"
                + (f": {names}" if names else ""),
                nbytes=d.pickled_bytes,
            )
        )
    return out


def fine_grained_tasks(rec: Recorder, spans: dict[bytes, TaskSpan]) -> list[Finding]:
    t = rec.thresholds
    # by the function's source, not its record: a worker holds one copy per pickled caller
    by_def: dict[tuple[str, str, int], list[Any]] = defaultdict(list)
    first: dict[tuple[str, str, int], int] = {}
    for s in rec.submissions:
        if s.kind == "task" and s.definition >= 0:
            key = rec.definitions[s.definition].key
            by_def[key].append(s)
            first.setdefault(key, s.definition)
    out = []
    for key, subs in by_def.items():
        d = rec.definitions[first[key]]
        if len(subs) < t.fine_grained_min_calls or classify(d.key[0]) == LIBRARY:
            continue  # ray_patterns' own batch tasks size themselves
        starts: list[float] = []
        ends: list[float] = []
        durations: list[float] = []
        for s in subs:
            span = spans.get(s.task_id)
            if span is not None and span.start is not None and span.end is not None:
                starts.append(s.t)
                ends.append(span.ready or span.end)
                durations.append(span.end - span.start)
        if len(durations) < t.fine_grained_min_calls:
            continue
        median = statistics.median(durations)
        if median >= t.fine_grained_median_s:
            continue
        wall = max(ends) - min(starts)
        busy = sum(durations) / max(rec.cpus, 1.0)
        lost = max(0.0, wall - busy)
        share = lost / wall if wall > 0 else 0.0
        per_site: dict[Site, int] = defaultdict(int)
        for s in subs:
            per_site[s.site] += 1
        site = max(per_site, key=lambda st: per_site[st])
        out.append(
            Finding.make(
                "fine-grained-tasks",
                *site,
                len(subs),
                f"{d.name}: {len(subs)} tasks with a median run time of {median * 1000:.2f} ms; "
                f"the work needed {busy:.2f} s of the {rec.cpus:g} CPUs but took {wall:.2f} s: "
                f"~{share:.0%} of the time went to per-task overhead",
                cost_seconds=lost,
            )
        )
    return out


def global_variables(rec: Recorder) -> list[Finding]:
    out = []
    for d in rec.definitions:
        for name, (count, how, site) in d.global_changes.items():
            read = d.global_reads.get(name, d.site)
            out.append(
                Finding.make(
                    "global-variables",
                    *read,
                    count,
                    f"{d.name} reads the global {name!r}, which was {how} on the driver after "
                    f"it was exported; the workers still see the old value ({count} call(s) "
                    f"after the change, first at {_where(site)})",
                    related=[Related(site[0], site[1], "the first call after the change")],
                )
            )
    return out


def blocking_get_in_async(rec: Recorder) -> list[Finding]:
    counts: dict[tuple[str, Site], list[float]] = defaultdict(list)
    for g in rec.gets:
        if g.in_loop:
            counts[("ray.get", g.site)].append(g.t1 - g.t0)
    for w in rec.waits:
        if w.in_loop:
            counts[("ray.wait", w.site)].append(w.t1 - w.t0)
    out = []
    for (kind, site), blocked in counts.items():
        out.append(
            Finding.make(
                "blocking-get-in-async",
                *site,
                len(blocked),
                f"{kind} blocked the running event loop of "
                f"{'a worker (async actor or task)' if rec.worker else 'the driver'} "
                f"{len(blocked)} time(s), {sum(blocked):.2f} s in total: every other "
                "coroutine there waited meanwhile",
                cost_seconds=sum(blocked),
            )
        )
    return out


def unbounded_submission(rec: Recorder, spans: dict[bytes, TaskSpan]) -> list[Finding]:
    t = rec.thresholds
    stop = rec.stopped or max((s.t for s in rec.submissions), default=0.0)
    by_site: dict[Site, list[tuple[float, int, int]]] = defaultdict(list)
    for s in rec.submissions:
        if s.kind == "actor_creation":
            continue
        span = spans.get(s.task_id)
        end = span.ready if span is not None and span.ready else (s.done or stop)
        by_site[s.site].append((s.t, 1, s.arg_bytes))
        by_site[s.site].append((max(end, s.t), -1, -s.arg_bytes))
    out = []
    for site, events in by_site.items():
        if len(events) // 2 < t.unbounded_pending_tasks and sum(
            e[2] for e in events if e[1] > 0
        ) < (t.unbounded_pending_bytes or 0):
            continue  # cannot reach either limit
        events.sort(key=lambda e: (e[0], e[1]))  # ends before starts at equal times
        pending = peak = 0
        pending_bytes = peak_bytes = 0
        for _, step, nbytes in events:
            pending += step
            pending_bytes += nbytes
            peak = max(peak, pending)
            peak_bytes = max(peak_bytes, pending_bytes)
        too_many = peak >= t.unbounded_pending_tasks
        too_big = peak_bytes >= (t.unbounded_pending_bytes or 1 << 62)
        if not (too_many or too_big):
            continue
        out.append(
            Finding.make(
                "unbounded-submission",
                *site,
                peak,
                f"{peak} tasks from this line were pending at once (submitted, not finished), "
                f"holding {human_bytes(peak_bytes)} of arguments; nothing limited how far "
                "submission ran ahead",
                nbytes=peak_bytes,
            )
        )
    return out


def _detectors(
    rec: Recorder, spans: dict[bytes, TaskSpan], have_spans: bool
) -> list[tuple[str, Callable[[], list[Finding]]]]:
    detectors: list[tuple[str, Callable[[], list[Finding]]]] = [
        ("ray-get-loop", lambda: ray_get_loop(rec)),
        ("too-many-results", lambda: too_many_results(rec)),
        ("unnecessary-ray-get", lambda: unnecessary_ray_get(rec)),
        ("redefine-task-actor-loop", lambda: redefine_task_actor_loop(rec)),
        ("closure-capture", lambda: closure_capture(rec)),
        ("global-variables", lambda: global_variables(rec)),
        ("blocking-get-in-async", lambda: blocking_get_in_async(rec)),
        ("unbounded-submission", lambda: unbounded_submission(rec, spans)),
        ("actor-busy-wait", lambda: _page_checks.actor_busy_wait(rec)),
        ("nested-ray-get", lambda: _page_checks.nested_ray_get(rec)),
        ("pass-large-arg-by-value", lambda: _page_checks.pass_large_arg_by_value(rec)),
        ("return-large-list", lambda: _page_checks.return_large_list(rec)),
        ("fork-new-processes", lambda: _page_checks.fork_new_processes(rec)),
        ("out-of-band", lambda: _page_checks.out_of_band_serialization(rec)),
    ]
    if have_spans:
        detectors += [
            ("submission-order", lambda: submission_order(rec, spans)),
            ("memory-killed-tasks", lambda: _page_checks.memory_killed_tasks(rec, spans)),
            ("fine-grained-tasks", lambda: fine_grained_tasks(rec, spans)),
            (
                "sync-actor-polling-loop",
                lambda: _page_checks.sync_actor_polling_loop(rec, spans, rec.stopped or 0.0),
            ),
        ]
    return detectors


def _scoped(rec: Recorder, finding: Finding) -> Finding:
    """A worker's finding, named after the task or actor method it happened in."""
    scope = rec.scopes.get((finding.path, finding.line), "")
    if not scope:  # a definition's line (return-large-list): the message names the task
        return finding
    return dataclasses.replace(finding, scope=scope, message=f"in {scope}: {finding.message}")


def _merged(findings: list[Finding]) -> list[Finding]:
    """One finding per check, line and scope: the same line run by several workers adds up."""
    out: dict[tuple[str, str, int, str], Finding] = {}
    for f in findings:
        key = (f.code, f.path, f.line, f.scope)
        seen = out.get(key)
        if seen is None:
            out[key] = f
            continue
        cost = None
        if seen.cost_seconds is not None or f.cost_seconds is not None:
            cost = round((seen.cost_seconds or 0.0) + (f.cost_seconds or 0.0), 4)
        nbytes = max(seen.bytes or 0, f.bytes or 0) or None
        out[key] = dataclasses.replace(
            seen, count=seen.count + f.count, cost_seconds=cost, bytes=nbytes
        )
    return list(out.values())


def analyze(rec: Recorder, report: Report) -> None:
    """Fill ``report`` from ``rec`` and its workers' records: findings, what was
    observed, the timeline."""
    spans = rec.spans or {}
    have_spans = rec.spans is not None
    found: list[Finding] = []
    for source in (rec, *rec.worker_records):
        source.cpus = rec.cpus
        source.stopped = rec.stopped
        for name, run in _detectors(source, spans, have_spans):
            try:
                hits = run()
            except Exception as exc:  # one broken detector must not hide the others
                rec.fail(f"detector {name}" + (" (worker)" if source.worker else ""), exc)
                continue
            found.extend(_scoped(source, f) if source.worker else f for f in hits)
    try:
        for source, f in _page_checks.return_ray_put([rec, *rec.worker_records]):
            found.append(_scoped(source, f))
    except Exception as exc:
        rec.fail("detector return-ray-put", exc)
    report.findings.extend(_merged(found))
    report.findings.sort(key=lambda f: (-(f.cost_seconds or 0.0), -(f.bytes or 0), f.code))

    task_ids = {s.task_id for s in rec.submissions if s.kind != "actor_creation"}
    timed = sum(1 for tid in task_ids if tid in spans and spans[tid].end)
    if rec.job_hex is None:
        report.not_observed.append("Ray was never initialized during the watch")
    elif not have_spans:
        reason = rec.notes.get("task-events", "the cluster was gone before they could be read")
        report.not_observed.append(
            f"task run times: Ray task events {reason}; submission-order and "
            "fine-grained-tasks were not checked"
        )
    elif timed < len(task_ids):
        report.not_observed.append(
            f"task run times of {len(task_ids) - timed} of {len(task_ids)} tasks (their Ray "
            "task events were not in the GCS by the end)"
        )
    if rec.job_hex is not None and rec.worker_hook != "installed":
        report.not_observed.append(f"inside tasks and actors: worker hook {rec.worker_hook}")
    if rec.unobserved_definitions:
        names = sorted(rec.unobserved_definitions)
        report.not_observed.append(
            f"inside {len(names)} remote function(s)/actor class(es) that Ray had exported "
            f"before the watch began ({', '.join(names[:5])}): their workers run an "
            "unobserved copy; start the watch before their first call"
        )
    if rec.workers_missing:
        report.not_observed.append(
            f"inside tasks and actors of {len(rec.workers_missing)} worker process(es): "
            f"ray_patterns cannot be imported there ({rec.workers_missing[0]}); install it "
            "on the cluster's nodes to see inside their tasks"
        )
    if rec.records_lost:
        lost = rec.records_lost
        report.not_observed.append(
            f"inside {len(lost)} finished task(s), their last records: "
            + "; ".join(lost[:5])
            + (f"; and {len(lost) - 5} more" if len(lost) > 5 else "")
        )
    if any(w.truncated for w in rec.worker_records):
        report.not_observed.append("a worker's records beyond the first 100,000 per kind")
    for key, note in rec.notes.items():
        if key.startswith("patch "):
            report.not_observed.append(f"{key[6:]}: could not instrument ({note})")
    for note in rec.errors:
        report.not_observed.append(f"instrumentation error (ignored): {note}")

    subs = rec.submissions
    report.ray_version = rec.ray_version
    report.duration_s = (rec.stopped or rec.started) - rec.started
    report.observed = {
        "tasks": sum(1 for s in subs if s.kind == "task"),
        "actor_tasks": sum(1 for s in subs if s.kind == "actor_task"),
        "actors": sum(1 for s in subs if s.kind == "actor_creation"),
        "remote_definitions": len(rec.definitions),
        "gets": len(rec.gets),
        "waits": len(rec.waits),
        "puts": rec.puts,
        "bytes_fetched": sum(g.nbytes for g in rec.gets),
        "bytes_put": rec.put_bytes,
        "tasks_timed": timed,
        "task_durations_source": (
            "ray task events (GCS: task:execute and FINISHED times)" if have_spans else "none"
        ),
        "worker_hook": rec.worker_hook,
        "worker_processes": len(rec.worker_records),
        "worker_tasks": sum(
            1 for w in rec.worker_records for s in w.submissions if s.kind == "task"
        ),
        "worker_gets": sum(len(w.gets) for w in rec.worker_records),
        "cpus": rec.cpus,
        "thresholds": dict(vars(rec.thresholds)),
    }
    report.timeline = _timeline(rec, spans)
    report.complete = True


def _timeline(rec: Recorder, spans: dict[bytes, TaskSpan]) -> list[dict[str, Any]]:
    items = task_timeline(spans.values())
    node = items[0]["node"] if items else "node"
    for g in rec.gets:
        if g.t1 - g.t0 >= rec.thresholds.min_block_s:
            items.append(
                {
                    "name": f"ray.get {_where(g.site)}",
                    "cat": "driver",
                    "node": node,
                    "row": "driver",
                    "start": g.t0,
                    "end": g.t1,
                    "args": {"refs": g.n_refs},
                }
            )
    items.sort(key=lambda i: i["start"])
    return items
