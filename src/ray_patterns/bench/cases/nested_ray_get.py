"""nested-ray-get: refs passed in a list and fetched inside the task vs top-level arguments.

The consumer is submitted with the producers still running: nested in a list, it
starts at once and blocks in ray.get, holding a worker; as top-level arguments it
starts only when its inputs are ready.
"""

from __future__ import annotations

import ray

from ray_patterns.bench.cases._work import spin
from ray_patterns.bench.core import Case, Variant


@ray.remote
def produce(i: int, seconds: float) -> int:
    spin(seconds)
    return i


@ray.remote
def total_nested(refs: list[ray.ObjectRef]) -> int:
    return sum(ray.get(refs))


@ray.remote
def total(*values: int) -> int:
    return sum(values)


def variants(quick: bool) -> list[Variant]:
    groups, per_group, seconds = (4, 4, 0.02) if quick else (20, 10, 0.02)
    expected = groups * sum(range(per_group))

    def anti() -> None:
        outs = []
        for _ in range(groups):
            refs = [produce.remote(i, seconds) for i in range(per_group)]
            outs.append(total_nested.remote(refs))
        assert sum(ray.get(outs)) == expected

    def better() -> None:
        outs = []
        for _ in range(groups):
            refs = [produce.remote(i, seconds) for i in range(per_group)]
            outs.append(total.remote(*refs))
        assert sum(ray.get(outs)) == expected

    return [
        Variant("ray.get of refs in a list, in the task", "anti", anti),
        Variant("refs as top-level arguments", "better", better),
    ]


CASE = Case(
    "nested-ray-get",
    "groups of producers and one consumer each: nested ray.get vs top-level refs",
    variants,
    memory=True,
)
