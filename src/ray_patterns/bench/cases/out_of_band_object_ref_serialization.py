"""out-of-band-object-ref-serialization: a pickled ref's object is freed; the read hangs.

Correctness, not speed: ``values`` counts the objects a task could still read (a
timeout bounds the hang the anti-pattern runs into).
"""

from __future__ import annotations

import pickle

import ray

from ray_patterns.bench.core import Case, Extra, Variant


@ray.remote
def read_pickled(blob: bytes, timeout: float) -> object:
    try:
        return ray.get(pickle.loads(blob), timeout=timeout)
    except ray.exceptions.GetTimeoutError:
        return None


@ray.remote
def read(value: object) -> object:
    return value


def variants(quick: bool) -> list[Variant]:
    n, timeout = (3, 0.5) if quick else (6, 2.0)

    def anti() -> Extra:
        blobs = [pickle.dumps(ray.put(i)) for i in range(n)]
        got = ray.get([read_pickled.remote(blob, timeout) for blob in blobs])
        return {"values": float(sum(v is not None for v in got))}

    def better() -> Extra:
        refs = [ray.put(i) for i in range(n)]
        got = ray.get([read.remote(ref) for ref in refs], timeout=60)
        return {"values": float(sum(v is not None for v in got))}

    return [
        Variant("pickle.dumps(ref), read in a task", "anti", anti),
        Variant("the ref as an argument", "better", better),
    ]


CASE = Case(
    "out-of-band-object-ref-serialization",
    "n objects read through a pickled ref vs the ref itself (values read of n)",
    variants,
    correct="values",
    repeats=(1, 2),
)
