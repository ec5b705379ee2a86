"""global-variables: a global changed on the driver vs state kept in an actor.

A correctness row more than a timing one: each variant reads ``global_var + 3``
after the driver set ``global_var = 4``; ``value`` should be 7 and ``correct``
is 1 when it is. The anti-pattern's actor still sees the value its class was
exported with (3, so 6).
"""

from __future__ import annotations

import uuid
from typing import Any

import ray

from ray_patterns import shared_state
from ray_patterns._ray import ensure_ray
from ray_patterns.bench.core import Case, CaseResult, Extra, Variant, library_phrase

global_var = 3


@ray.remote(num_cpus=0)
class _GlobalReader:
    def read(self) -> int:
        return global_var + 3  # noqa: RAY101 - the anti-pattern, measured on purpose


@ray.remote(num_cpus=0)
class _GlobalVarActor:
    """The handbook's fix by hand: an actor holding the values by name.

    Keyed like ``shared_state``, so both variants do the same work per call (a
    no-argument ``get()`` against ``get(key)`` made the library look 1.3x slower).
    """

    def __init__(self) -> None:
        self.values = {"global_var": 3}

    def set(self, key: str, value: int) -> None:
        self.values[key] = value

    def get(self, key: str, default: int | None = None) -> int | None:
        return self.values.get(key, default)


def _row(value: int) -> Extra:
    return {"value": float(value), "correct": float(value == 7)}


def variants(quick: bool) -> list[Variant]:
    global global_var
    ensure_ray()
    # ~1.5 ms a call: 50 calls a run, 6 runs in quick mode (not 100 x 3), so a slow moment
    # of the machine lands in one run of six, not in the median
    calls = 50 if quick else 100
    reader = _GlobalReader.remote()
    holder = _GlobalVarActor.remote()
    state: Any = shared_state(f"bench-global-{uuid.uuid4().hex[:8]}")
    ray.get([reader.read.remote(), holder.get.remote("x"), state.get.remote("x")])
    global_var = 4  # the driver changes its global after the class went out

    def anti() -> Extra:
        value = 0
        for _ in range(calls):
            value = ray.get(reader.read.remote())
        return _row(value)

    def better() -> Extra:
        ray.get(holder.set.remote("global_var", 4))
        value = 0
        for _ in range(calls):
            value = ray.get(holder.get.remote("global_var")) + 3
        return _row(value)

    def library() -> Extra:
        ray.get(state.set.remote("global_var", 4))
        value = 0
        for _ in range(calls):
            value = ray.get(state.get.remote("global_var")) + 3
        return _row(value)

    return [
        Variant("module global", "anti", anti),
        Variant("actor by hand", "better", better),
        Variant("shared_state", "library", library),
    ]


def verdict(res: CaseResult) -> str:
    """What the stale global made the anti-pattern read, then the library's cost."""
    parts = []
    for role, who in (("anti", "anti-pattern"), ("library", "library")):
        v = res.by_role(role)
        got = v.extra_median("value") if v is not None else 7.0
        if got != 7 or role == "anti":
            parts.append(f"{who} read {got:.0f}, expected 7" if got != 7 else f"{who} read 7")
    return "; ".join([*parts, library_phrase(res)])


CASE = Case(
    "global-variables",
    "read a value the driver changed: stale global vs actor (value/correct columns)",
    variants,
    correct="value",
    repeats=(6, 3),
    verdict=verdict,
)
