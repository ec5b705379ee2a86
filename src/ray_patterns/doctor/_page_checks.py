"""Detectors of the newer handbook pages and of actor polling, one function per check.

Each takes a Recorder (the driver's or one worker's) and returns findings at the
user's line; ``return_ray_put`` needs every process's records at once (a ref put in
one worker is fetched in another, or on the driver).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict

from ray_patterns._units import human_bytes
from ray_patterns.doctor._events import TaskSpan
from ray_patterns.doctor._recorder import Recorder
from ray_patterns.doctor._records import GetCall, Site
from ray_patterns.doctor.report import Finding


def busy_wait_sites(rec: Recorder, min_polls: int | None = None) -> dict[Site, list[GetCall]]:
    """Get sites that poll an actor: lone fresh actor calls, a pause between, flag values.

    ``while not ray.get(a.ready.remote()): time.sleep(s)``: each poll is one actor
    call fetched at once, the program sleeps between polls, and the answers are all
    the same small value until the last. ``min_polls`` (default: the threshold) is how
    many polls make a site count.
    """
    t = rec.thresholds
    least = t.busy_wait_min_polls if min_polls is None else min_polls
    subs = rec.submissions
    polls: dict[Site, list[GetCall]] = defaultdict(list)
    for g in rec.gets:
        if g.lone_fresh and not g.via_library and not g.failed and g.single >= 0:
            if subs[g.single].kind == "actor_task":
                polls[g.site].append(g)
    out = {}
    for site, gets in polls.items():
        if len(gets) < least:
            continue
        values = Counter(repr(g.polled) for g in gets)
        # one worker process may run the polling task several times: each run ends on
        # the changed answer (and a late one may see it at once), so allow a third
        if len(values) > 2 or values.most_common(1)[0][1] < len(gets) - max(1, len(gets) // 3):
            continue  # a loop over distinct results is ray-get-loop, not polling
        gaps = [subs[b.single].t - a.t1 for a, b in zip(gets, gets[1:], strict=False)]
        if statistics.median(gaps) >= t.busy_wait_min_gap_s:
            out[site] = gets
    return out


def actor_busy_wait(rec: Recorder) -> list[Finding]:
    out = []
    for site, gets in busy_wait_sites(rec).items():
        sub = rec.submissions[gets[-1].single]
        owner = (
            rec.definitions[sub.definition].name.rsplit(".", 1)[-1] if sub.definition >= 0 else ""
        )
        method = ".".join(p for p in (owner, sub.method) if p) or "an actor method"
        span = gets[-1].t1 - gets[0].t0
        out.append(
            Finding.make(
                "actor-busy-wait",
                *site,
                len(gets),
                f"polled {method}() {len(gets)} times over {span:.2f} s, sleeping between "
                "polls, until its answer changed; every poll is a remote call and a wake-up",
                cost_seconds=span,
            )
        )
    return out


def nested_ray_get(rec: Recorder) -> list[Finding]:
    counts: dict[Site, list[int]] = defaultdict(lambda: [0, 0])
    for _, site, refs in rec.nested:
        counts[site][0] += 1
        counts[site][1] += refs
    return [
        Finding.make(
            "nested-ray-get",
            *site,
            gets,
            f"ray.get on {refs} ref(s) the task received inside its arguments ({gets} "
            "call(s)): Ray resolves only top-level ref arguments, so the task waits "
            "(holding its CPU) instead of starting once they are ready",
        )
        for site, (gets, refs) in counts.items()
    ]


def return_ray_put(recs: list[Recorder]) -> list[tuple[Recorder, Finding]]:
    """Refs a worker made with ``ray.put`` that came back out of a task's return value."""
    returned: set[bytes] = set()
    for rec in recs:
        returned.update(rec.returned_refs)
    out = []
    for rec in recs:
        if not rec.worker:
            continue
        by_site: Counter[Site] = Counter()
        for ref, (_, site) in rec.put_refs.items():
            if ref in returned:
                by_site[site] += 1
        for site, n in by_site.items():
            out.append(
                (
                    rec,
                    Finding.make(
                        "return-ray-put",
                        *site,
                        n,
                        f"{n} ref(s) made here with ray.put were returned by the task: the "
                        "value's owner is the worker, not the caller, and a second object "
                        "and round trip are added; return the value itself",
                    ),
                )
            )
    return out


def pass_large_arg_by_value(rec: Recorder) -> list[Finding]:
    t = rec.thresholds
    groups: dict[tuple[Site, bytes], list[int]] = defaultdict(list)
    for _, site, digest, size in rec.large_args:
        groups[(site, digest)].append(size)
    out = []
    for (site, _), sizes in groups.items():
        if len(sizes) < t.large_arg_min_calls:
            continue
        total = sum(sizes)
        out.append(
            Finding.make(
                "pass-large-arg-by-value",
                *site,
                len(sizes),
                f"the same {human_bytes(sizes[0])} value was passed by value to {len(sizes)} "
                f"calls: Ray serialised and stored it {len(sizes)} times "
                f"({human_bytes(total)}); ray.put it once and pass the ref",
                nbytes=total - sizes[0],
            )
        )
    return out


def return_large_list(rec: Recorder) -> list[Finding]:
    by_def: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for _, definition, items, nbytes in rec.large_lists:
        by_def[definition].append((items, nbytes))
    out = []
    for index, seen in by_def.items():
        d = rec.definitions[index]
        items = max(i for i, _ in seen)
        peak = max(b for _, b in seen)
        out.append(
            Finding.make(
                "return-large-list",
                *d.site,
                len(seen),
                f"{d.name} returned a list of {items} large objects ({human_bytes(peak)}) at "
                "once: the worker held all of them in its heap before returning; yield them "
                "one at a time (num_returns='streaming')",
                nbytes=peak,
            )
        )
    return out


def fork_new_processes(rec: Recorder) -> list[Finding]:
    counts = Counter(site for _, site in rec.forks)
    return [
        Finding.make(
            "fork-new-processes",
            *site,
            n,
            f"the Ray worker process forked {n} time(s) here: the child inherits the "
            "worker's threads and connections (a fork-unsafe state that can hang or crash)",
        )
        for site, n in counts.items()
    ]


def out_of_band_serialization(rec: Recorder) -> list[Finding]:
    counts = Counter(site for _, site in rec.out_of_band)
    return [
        Finding.make(
            "out-of-band-object-ref-serialization",
            *site,
            n,
            f"an ObjectRef was pickled here outside Ray's argument passing, {n} time(s): "
            "Ray cannot track who holds it, so the object is pinned for the worker's "
            "lifetime (or freed while a copy still points to it)",
        )
        for site, n in counts.items()
    ]


def sync_actor_polling_loop(
    rec: Recorder, spans: dict[bytes, TaskSpan], stop: float
) -> list[Finding]:
    """One call of a synchronous actor method that keeps calling ray.get from one line
    while other calls to the same actor wait: the handbook's ``while True`` polling loop
    that no other method can get past (the fix: an async actor that awaits).

    The waiting is Ray's own record: task events of the same actor's calls created
    while the looping call ran and started only after it ended (or never).
    """
    t = rec.thresholds
    by_actor: dict[bytes, list[TaskSpan]] = defaultdict(list)
    for span in spans.values():
        if span.actor:
            by_actor[span.actor].append(span)
    per_site: dict[Site, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for (task_hex, site), (gets, first, last) in rec.actor_gets.items():
        if gets < t.sync_loop_min_gets:
            continue
        try:
            call = spans.get(bytes.fromhex(task_hex))
        except ValueError:
            continue
        if call is None or not call.actor or call.start is None:
            continue
        end = call.end or stop
        # queued behind it: submitted after it (an actor runs its calls in order),
        # while it ran, and started only once it was over
        waits = [
            (other.start or stop) - other.created
            for other in by_actor[call.actor]
            if other.task_id != call.task_id
            and other.created is not None
            and (call.created or call.start) <= other.created < end
            and (other.start is None or other.start >= end - 0.001)
        ]
        if not waits or max(waits) < t.sync_loop_min_wait_s:
            continue
        found = per_site[site]
        found[0] += gets
        found[1] += len(waits)
        found[2] = max(found[2], max(waits))
        found[3] += last - first
    return [
        Finding.make(
            "sync-actor-polling-loop",
            *site,
            int(gets),
            f"a synchronous actor method looped on ray.get here ({int(gets)} calls over "
            f"{looped:.2f} s in one call): {int(calls)} other call(s) to the same actor "
            f"waited behind it, up to {longest:.2f} s, because a sync actor runs one call "
            "at a time",
            cost_seconds=longest,
        )
        for site, (gets, calls, longest, looped) in per_site.items()
    ]


_MEMORY_USED = re.compile(r"memory used=([0-9.]+)\s*GB")


def killed_for_memory(span: TaskSpan) -> bool:
    """Whether Ray's memory monitor killed this attempt, or it failed out of memory."""
    return span.error_type == "OUT_OF_MEMORY" or "outofmemoryerror" in span.error_message.lower()


def memory_killed_message(name: str, spans: list[TaskSpan]) -> str:
    """What a memory-killed-tasks finding says: how many, where, and the ``memory=``
    that would have kept them apart (what the biggest held when killed, per Ray)."""
    nodes = sorted({s.node[:8] for s in spans if s.node})
    used = [float(m.group(1)) for s in spans if (m := _MEMORY_USED.search(s.error_message))]
    message = (
        f"{name}: {len(spans)} task attempt(s) killed for memory "
        f"(on node(s) {', '.join(nodes) or '?'})"
    )
    if used:
        held = max(used) * (1 << 30)
        message += (
            f"; one held {human_bytes(int(held))} when killed: request at least "
            f"memory={int(held)} per task (ray_patterns.with_memory / memory_map) so "
            "only as many run at once as fit"
        )
    first = spans[0].error_message.splitlines()[0][:200] if spans[0].error_message else ""
    return f"{message}; {first}" if first else message


def memory_killed_tasks(rec: Recorder, spans: dict[bytes, TaskSpan]) -> list[Finding]:
    """Tasks this process submitted whose last attempt Ray killed for memory, at the
    submitting line (the live doctor's RAY407; ``doctor --job`` reads every attempt)."""
    killed: dict[tuple[Site, str], list[TaskSpan]] = defaultdict(list)
    for sub in rec.submissions:
        span = spans.get(sub.task_id) if sub.task_id else None
        if span is not None and killed_for_memory(span):
            killed[(sub.site, span.name)].append(span)
    return [
        Finding.make("memory-killed-tasks", *site, len(found), memory_killed_message(name, found))
        for (site, name), found in killed.items()
    ]
