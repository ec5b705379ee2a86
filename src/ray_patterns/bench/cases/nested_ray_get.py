"""nested-ray-get: refs passed in a list and fetched inside the task vs top-level arguments.

Each consumer is submitted with its producers still running. Nested in a list, the
refs do not hold it back: it starts at once and blocks in ``ray.get``, holding a
worker process; Ray gives its CPU to the producers, which need more worker
processes. As top-level arguments it starts only when its inputs are ready, on a
worker the producers are done with. ``workers`` counts the worker processes the
tasks of one run ran in (each task reports its pid): what the page is about. Time
is reported too: it shows the cost only when those extra workers must be started
(Ray keeps idle ones about a second, so a repetition often reuses them).
"""

from __future__ import annotations

import os

import ray

from ray_patterns.bench.cases._work import spin
from ray_patterns.bench.core import Case, CaseResult, Extra, Variant, compare

Out = tuple[int, frozenset[int]]


@ray.remote
def produce(i: int, seconds: float) -> Out:
    spin(seconds)
    return i, frozenset({os.getpid()})


def _combine(parts: list[Out]) -> Out:
    pids = frozenset({os.getpid()}).union(*(p for _, p in parts))
    return sum(v for v, _ in parts), pids


@ray.remote
def total_nested(refs: list[ray.ObjectRef]) -> Out:
    return _combine(ray.get(refs))  # noqa: RAY403 - the anti-pattern, measured on purpose


@ray.remote
def total(*parts: Out) -> Out:
    return _combine(list(parts))


def variants(quick: bool) -> list[Variant]:
    # one slow producer per group (the others 10 ms): its consumer gets a CPU while
    # that one still runs, so nested refs make it block (with 4 producers of 20 ms
    # each, consumers usually started after their inputs were done: nothing showed).
    # Ray runs the producers back to back on their two leased workers for ~0.5 s
    # before any consumer starts; a consumer that then blocks makes Ray start a
    # worker (~1 s here), which ran a task only if producers were still queued when
    # it came up. With 8 quick groups they sometimes were not (2 workers in 3 of 24
    # runs, median 2 in 1 of 8 triples, over shifted scheduling-class ids); with 12,
    # 3 or 4 workers in 18 of 18 (by hand 2 in all).
    groups, per_group = (12, 4) if quick else (20, 10)
    seconds = [0.15] + [0.01] * (per_group - 1)
    expected = groups * sum(range(per_group))

    def run(consumer) -> Extra:  # type: ignore[no-untyped-def]
        outs = []
        for _ in range(groups):
            refs = [produce.remote(i, s) for i, s in enumerate(seconds)]
            outs.append(consumer(refs))
        results = ray.get(outs)
        assert sum(v for v, _ in results) == expected
        return {"workers": float(len(frozenset().union(*(p for _, p in results))))}

    return [
        Variant(
            "ray.get of refs in a list, in the task",
            "anti",
            lambda: run(lambda refs: total_nested.remote(refs)),
        ),
        Variant("refs as top-level arguments", "better", lambda: run(lambda r: total.remote(*r))),
    ]


def verdict(res: CaseResult) -> str:
    """Worker processes used (the page's point), then time, from this run's medians."""
    anti, better = res.by_role("anti"), res.by_role("better")
    if anti is None or better is None:
        return "no figure"
    got, fix = anti.extra_median("workers"), better.extra_median("workers")
    time_ratio = anti.extra_median("seconds") / better.extra_median("seconds")
    said = compare(time_ratio, "speed")
    timing = "time =" if said in ("=", "-") else f"time {said}"
    if got > fix:
        head = f"anti-pattern ran in {got:.0f} worker processes vs {fix:.0f} (blocked in ray.get)"
    else:
        head = f"anti-pattern NOT worse here ({got:.0f} worker processes, {fix:.0f} by hand)"
    return f"{head}; {timing}; fix: plain Ray"


CASE = Case(
    "nested-ray-get",
    "groups of producers (one slow), one consumer each: nested ray.get vs top-level refs",
    variants,
    metric="workers",
    label="worker processes",
    verdict=verdict,
)
