"""What makes a finding: every threshold of every detector, in one place.

Where the doctor judges what the lint judges (a "large" value), the default is the
shared one from ``ray_patterns._units``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import psutil

from ray_patterns._units import GIB, LARGE_OBJECT_BYTES, MIB


def _memory_share(share: float, cap: int) -> int:
    return int(min(cap, share * psutil.virtual_memory().available))


@dataclass
class Thresholds:
    """Detector thresholds; ``None`` means "computed from this machine at start".

    >>> Thresholds(fine_grained_min_calls=10).fine_grained_min_calls
    10
    """

    #: ray-get-loop: gets of a lone just-submitted task from one line, at least
    get_loop_min_count: int = 3
    #: a get that returned faster than this did not wait for anything
    min_block_s: float = 0.002
    #: submission-order: total time ready results waited, at least
    submission_order_min_wait_s: float = 0.05
    #: too-many-results: bytes in one ray.get; default min(1 GiB, 10% of free memory)
    too_many_results_bytes: int | None = None
    #: unnecessary-ray-get: only values at least this big are tracked
    unnecessary_get_min_bytes: int = LARGE_OBJECT_BYTES
    #: redefine-task-actor-loop: definitions of one source location, at least
    redefine_min_count: int = 2
    #: closure-capture: pickled definition size (Ray warns only at 10 MB)
    closure_capture_bytes: int = LARGE_OBJECT_BYTES
    #: fine-grained-tasks: calls of one remote function, at least ...
    fine_grained_min_calls: int = 100
    #: ... with a median run time below this
    fine_grained_median_s: float = 0.010
    #: unbounded-submission: tasks pending at once from one call site
    unbounded_pending_tasks: int = 10_000
    #: ... or argument bytes pending at once; default min(1 GiB, 10% of free memory)
    unbounded_pending_bytes: int | None = None
    #: global-variables: in-place changes are checked by hashing values up to this size
    global_fingerprint_max_bytes: int = MIB
    #: pass-large-arg-by-value: arguments at least this big are compared by content ...
    large_arg_bytes: int = LARGE_OBJECT_BYTES
    #: ... and the same one passed to this many calls, at least
    large_arg_min_calls: int = 3
    #: return-large-list: a task's return value with at least this many large items
    large_list_min_items: int = 4
    #: actor-busy-wait: polls of an actor from one line with a sleep between, at least
    busy_wait_min_polls: int = 5
    #: ... and the least time between a poll's answer and the next poll
    busy_wait_min_gap_s: float = 0.005
    #: sync-actor-polling-loop: ray.get calls from one line inside one call of a
    #: synchronous actor method, at least ...
    sync_loop_min_gets: int = 5
    #: ... while another call to the same actor waited behind it this long, at least
    sync_loop_min_wait_s: float = 0.1

    def resolved(self) -> Thresholds:
        """A copy with every ``None`` replaced by its machine-dependent default."""
        out = dataclasses.replace(self)
        if out.too_many_results_bytes is None:
            out.too_many_results_bytes = _memory_share(0.10, GIB)
        if out.unbounded_pending_bytes is None:
            out.unbounded_pending_bytes = _memory_share(0.10, GIB)
        return out

    def with_settings(self, settings: dict[str, str]) -> Thresholds:
        """A copy with ``NAME=VALUE`` strings applied, or a ValueError naming the bad one."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        changes: dict[str, object] = {}
        for name, raw in settings.items():
            key = name.strip().replace("-", "_")
            if key not in fields:
                raise ValueError(f"unknown threshold {name!r}; known: {', '.join(sorted(fields))}")
            current = getattr(self, key)
            kind = float if isinstance(current, float) or key.endswith("_s") else int
            try:
                changes[key] = kind(float(raw)) if kind is int else kind(raw)
            except ValueError:
                raise ValueError(f"threshold {name} needs a number, got {raw!r}") from None
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
